/**
 * @module Where the worker's built-in templates and the repository's static files are, from source or from `dist/`.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The repository root: the nearest ancestor of this module holding `package.json`. */
function repositoryRoot(): string {
  let dir = here;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return join(here, '..', '..', '..');
    dir = parent;
  }
}

/**
 * The directory of the built-in login and error templates: next to this
 * module (source, or `dist/` when the build copied them), else the source
 * folder of the repository the build came from.
 */
export function builtinTemplatesDir(): string {
  const beside = join(here, 'templates');
  if (existsSync(join(beside, 'login.html'))) return beside;
  return join(repositoryRoot(), 'src', 'frontend', 'worker', 'templates');
}

/** The repository's `static/` folder (`/static/...`; its `icons/` folder serves `/icons/...`). */
export function staticDir(): string {
  return join(repositoryRoot(), 'static');
}
