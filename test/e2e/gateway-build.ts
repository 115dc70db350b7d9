/**
 * @module Makes sure `dist/` holds a build of the current sources (src/ and
 * bench/, with the applications' templates and static files copied) before an
 * end-to-end test starts the built gateway. Builds under the same lock as
 * test/accountd/built.ts, so parallel test files build once.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '../..');

/** Built files the gateway tests need. */
const OUTPUTS = [
  'src/cli/main.js',
  'bench/lib/bench-session-app.js',
  'bench/lib/load-main.js',
  'bench/lib/page-backend-main.js',
];

function newest(dir: string, suffixes: string[]): number {
  let n = 0;
  if (!existsSync(dir)) return n;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) n = Math.max(n, newest(path, suffixes));
    else if (suffixes.some((s) => entry.name.endsWith(s))) n = Math.max(n, statSync(path).mtimeMs);
  }
  return n;
}

function isStale(): boolean {
  const files = OUTPUTS.map((o) => join(ROOT, 'dist', o));
  if (files.some((f) => !existsSync(f))) return true;
  const built = Math.min(...files.map((f) => statSync(f).mtimeMs));
  // Templates and static files count too: they are copied by the build.
  const sources = Math.max(
    newest(join(ROOT, 'src'), ['.ts', '.html', '.css', '.js']),
    newest(join(ROOT, 'bench'), ['.ts']),
  );
  return built < sources;
}

/**
 * Builds (`tsc -p tsconfig.build.json`, then scripts/copy-assets.mjs when it
 * exists) unless the build is newer than every source.
 * @throws Error when the build does not produce the gateway's entry points.
 */
export function ensureGatewayBuilt(): void {
  if (!isStale()) return;
  const lock = join(ROOT, 'dist', '.test-build.lock');
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  const deadline = Date.now() + 170_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 180_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`${lock} is held for too long`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    if (isStale()) {
      try {
        execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
      } catch {
        // Type errors elsewhere in the tree still emit JavaScript; the outputs are checked below.
      }
      const copy = join(ROOT, 'scripts', 'copy-assets.mjs');
      if (existsSync(copy)) execFileSync(process.execPath, [copy], { cwd: ROOT, stdio: 'pipe' });
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  for (const o of OUTPUTS) {
    if (!existsSync(join(ROOT, 'dist', o))) throw new Error(`the build did not produce dist/${o}`);
  }
}
