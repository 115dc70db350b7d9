/**
 * @module The frontend's cookie-signing secret: 32 random bytes in a 0600 file under `paths.var`, shared by every worker.
 */
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { VesperError } from '../../../shared/errors/index.js';
import type { VesperConfig } from '../../../shared/config/index.js';

/** Where the secret lives: `<var>/frontend/cookie-secret`. */
export function frontendSecretPath(config: VesperConfig): string {
  return join(config.paths.var, 'frontend', 'cookie-secret');
}

function prepareDirectory(file: string): void {
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const d of [dir, dirname(dir)]) {
    if ((statSync(d).mode & 0o002) !== 0) {
      throw new VesperError(
        'VESPER_FRONTEND_UNSAFE_DIRECTORY',
        `${d} is world-writable; refusing to keep a secret under it.`,
      );
    }
  }
}

/**
 * Writes a fresh secret (atomically, 0600). The master calls it once per
 * start so that a restart invalidates old XSRF cookies; workers then share it.
 * @throws VesperError `VESPER_FRONTEND_UNSAFE_DIRECTORY` for a world-writable directory; fs errors.
 */
export function rotateFrontendSecret(config: VesperConfig): void {
  const file = frontendSecretPath(config);
  prepareDirectory(file);
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, randomBytes(32).toString('hex'), { mode: 0o600 });
  renameSync(temp, file);
}

/**
 * Reads the secret, creating it (atomically, 0600) when there is none yet
 * (`vesper start --foreground`, tests, or a master that did not rotate it).
 * @throws VesperError `VESPER_FRONTEND_UNSAFE_DIRECTORY` for a world-writable directory,
 *   `VESPER_FRONTEND_SECRET` for an unreadable or malformed secret file.
 */
export function loadFrontendSecret(config: VesperConfig): Buffer {
  const file = frontendSecretPath(config);
  prepareDirectory(file);
  if (!existsSync(file)) {
    // Written whole under a temporary name, then linked into place: link()
    // fails if another worker got there first, and nobody reads a half-written file.
    const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(temp, randomBytes(32).toString('hex'), { mode: 0o600 });
    try {
      linkSync(temp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      unlinkSync(temp);
    }
  }
  let text: string;
  try {
    text = readFileSync(file, 'latin1').trim();
  } catch (err) {
    throw new VesperError('VESPER_FRONTEND_SECRET', `Cannot read the frontend secret ${file}.`, {
      cause: err,
    });
  }
  if (!/^[0-9a-f]{64}$/.test(text)) {
    throw new VesperError('VESPER_FRONTEND_SECRET', `The frontend secret ${file} is malformed.`);
  }
  return Buffer.from(text, 'hex');
}
