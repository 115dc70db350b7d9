/**
 * @module Makes sure `dist/` holds a build of the current sources, for tests
 * that spawn the built program; builds with `tsconfig.build.json` only when a
 * source file is newer than the build.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '../..');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function isStale(files: string[]): boolean {
  return (
    files.some((f) => !existsSync(f)) ||
    Math.min(...files.map((f) => statSync(f).mtimeMs)) < newestSource(join(ROOT, 'src'))
  );
}

/** Builds the project unless every output in `outputs` (paths under `dist/`) is newer than `src/`. */
export function ensureBuilt(outputs: string[]): void {
  const files = outputs.map((o) => join(ROOT, 'dist', o));
  const stale = isStale(files);
  if (!stale) return;
  // Test files run in parallel processes: one builds while the others wait.
  const lock = join(ROOT, 'dist', '.test-build.lock');
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  const deadline = Date.now() + 170_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock left by a test process that was killed mid-build is stale after 3 minutes.
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 180_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`${lock} is held for too long`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    if (isStale(files)) {
      try {
        execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
      } catch {
        // Type errors elsewhere in the tree still emit JavaScript; the outputs are checked below.
      }
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  for (const f of files) if (!existsSync(f)) throw new Error(`the build did not produce ${f}`);
}
