/**
 * Copies what session applications read from disk at run time (each
 * `src/apps/<app>/templates/` and `src/apps/<app>/static/`) next to their
 * compiled code under `dist/`, after `tsc`. Run by `npm run build`.
 */
import { cpSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { URL, fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const appsDir = `${root}src/apps`;
const ASSET_DIRS = ['templates', 'static'];

if (existsSync(appsDir)) {
  for (const app of readdirSync(appsDir, { withFileTypes: true })) {
    if (!app.isDirectory()) continue;
    for (const dir of ASSET_DIRS) {
      const from = `${appsDir}/${app.name}/${dir}`;
      if (!existsSync(from)) continue;
      const to = `${root}dist/src/apps/${app.name}/${dir}`;
      // Replace, so a file deleted from the sources does not linger in dist.
      rmSync(to, { recursive: true, force: true });
      cpSync(from, to, { recursive: true });
    }
  }
}

// The frontend worker's built-in login and error pages (src/frontend/worker/templates/).
for (const dir of ['src/frontend/worker/templates']) {
  if (!existsSync(`${root}${dir}`)) continue;
  rmSync(`${root}dist/${dir}`, { recursive: true, force: true });
  cpSync(`${root}${dir}`, `${root}dist/${dir}`, { recursive: true });
}
