/**
 * @module Atomic, durable file replacement: write a temporary file, fsync it,
 * rename it over the target and fsync the directory, so a reader or a crash
 * sees the old content or the new, never a torn file.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Options of {@link writeFileAtomic} and {@link createFileAtomic}. */
export interface AtomicWriteOptions {
  /** Permission bits of the new file. Default 0o600. */
  mode?: number;
}

/** The suffix of the temporary files this module leaves behind if killed mid-write. */
export const TEMP_SUFFIX = '.tmp';

/**
 * The name of a fresh temporary file next to `path`: hidden, carrying the
 * writer's pid (so a cleaner can tell whether its writer still lives) and
 * random bytes (so concurrent writers never share one).
 */
export function tempPathFor(path: string): string {
  const rand = randomBytes(6).toString('hex');
  return join(dirname(path), `.${basename(path)}.${process.pid}.${rand}${TEMP_SUFFIX}`);
}

/** The pid recorded in a name made by {@link tempPathFor}, or undefined. */
export function tempFileWriterPid(name: string): number | undefined {
  const m = /\.(\d+)\.[0-9a-f]{12}\.tmp$/.exec(name);
  return m === null ? undefined : Number(m[1]);
}

async function writeTemp(data: string | Uint8Array, mode: number, path: string): Promise<string> {
  const temp = tempPathFor(path);
  const fh = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await fh.close();
  return temp;
}

/** Flushes a directory's entries (a rename or link inside it) to disk. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Replaces `path` with `data` atomically and durably: a temporary file in the
 * same directory is written and fsynced, renamed over `path`, and the
 * directory is fsynced. Throws the underlying `fs` error (ENOSPC, EACCES, ...)
 * after removing the temporary file; `path` is then left as it was.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const temp = await writeTemp(data, options.mode ?? 0o600, path);
  try {
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await fsyncDirectory(dirname(path));
}

/**
 * Creates `path` with `data` atomically and durably, only if it does not
 * exist: the complete temporary file is hard-linked to `path` (which fails if
 * `path` exists) and then removed. Throws an error with code `EEXIST` when
 * `path` already exists, or the underlying `fs` error.
 */
export async function createFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const temp = await writeTemp(data, options.mode ?? 0o600, path);
  try {
    await link(temp, path);
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  await fsyncDirectory(dirname(path));
}
