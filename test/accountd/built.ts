/**
 * @module Makes sure `dist/` holds a build of the current sources, for tests
 * that spawn the built program; builds with `tsconfig.build.json` only when a
 * source file is newer than the build.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
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

/** Builds the project unless every output in `outputs` (paths under `dist/`) is newer than `src/`. */
export function ensureBuilt(outputs: string[]): void {
  const files = outputs.map((o) => join(ROOT, 'dist', o));
  const stale =
    files.some((f) => !existsSync(f)) ||
    Math.min(...files.map((f) => statSync(f).mtimeMs)) < newestSource(join(ROOT, 'src'));
  if (!stale) return;
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
  } catch {
    // Type errors elsewhere in the tree still emit JavaScript; the outputs are checked below.
  }
  for (const f of files) if (!existsSync(f)) throw new Error(`the build did not produce ${f}`);
}
