/**
 * @module Creates a private runtime directory (mode 0700) and refuses an unsafe place for it.
 */
import { chmodSync, lstatSync, mkdirSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { VesperError } from '../errors/index.js';

/** The error code of {@link ensurePrivateDir}'s refusals. */
export const UNSAFE_DIR_CODE = 'VESPER_UNSAFE_DIRECTORY';

const STICKY = 0o1000;

/**
 * Makes sure `path` is a directory only its owner can enter: creates it and
 * any missing parents with mode 0700, and tightens an existing one that we
 * own to 0700. Refuses (throws a `VesperError` with code
 * {@link UNSAFE_DIR_CODE}) when the nearest existing ancestor is writable by
 * everyone without the sticky bit (anyone could replace the directory), when
 * `path` exists but is not a directory (a symbolic link included), or when it
 * belongs to another user. Synchronous: it runs once, before anything forks.
 */
export function ensurePrivateDir(path: string): void {
  const target = resolve(path);
  let ancestor = dirname(target);
  let stats = statOrNull(ancestor);
  while (stats === null && dirname(ancestor) !== ancestor) {
    ancestor = dirname(ancestor);
    stats = statOrNull(ancestor);
  }
  if (stats !== null && (stats.mode & 0o002) !== 0 && (stats.mode & STICKY) === 0) {
    throw new VesperError(
      UNSAFE_DIR_CODE,
      `refusing to use ${target}: its parent ${ancestor} is writable by everyone; ` +
        `choose another paths.var or remove the world-write permission`,
    );
  }
  const existing = statOrNull(target);
  if (existing === null) {
    mkdirSync(target, { recursive: true, mode: 0o700 });
    // The umask may have narrowed it further, never widened it; make it exact.
    chmodSync(target, 0o700);
    return;
  }
  if (!existing.isDirectory()) {
    throw new VesperError(UNSAFE_DIR_CODE, `refusing to use ${target}: it is not a directory`);
  }
  const uid = process.getuid?.();
  if (uid !== undefined && existing.uid !== uid) {
    throw new VesperError(
      UNSAFE_DIR_CODE,
      `refusing to use ${target}: it belongs to user ${existing.uid}, not to this user (${uid})`,
    );
  }
  if ((existing.mode & 0o077) !== 0) chmodSync(target, 0o700);
}

function statOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
