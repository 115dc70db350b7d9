/**
 * @module The master's pid file: written once at start, read by `vesper stop|reload|status`.
 */
import { readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { VesperConfig } from '../../shared/config/index.js';
import { VesperError } from '../../shared/errors/index.js';
import { writeFileAtomic } from '../../shared/fs/atomic-write.js';

/** The pid file of the master of `config`: `<paths.var>/vesper.pid`. */
export function pidFilePath(config: VesperConfig): string {
  return join(config.paths.var, 'vesper.pid');
}

/** True when a process with this pid exists (even one we may not signal). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid recorded in `path`, or undefined when there is no file or it holds no pid. */
export function readPidFile(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const m = /^(\d+)\n?$/.exec(text);
  if (m === null) return undefined;
  const pid = Number(m[1]);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * The pid of the running master of the pid file at `path`, or undefined
 * when none runs (no file, or a stale one left by a crash).
 */
export function runningPid(path: string): number | undefined {
  const pid = readPidFile(path);
  return pid !== undefined && isAlive(pid) ? pid : undefined;
}

/**
 * Writes `pid` to `path` (mode 0644, atomically). Throws a `VesperError`
 * (`VESPER_MASTER_RUNNING`) when the file names another live process: a
 * second master must not start on the same `paths.var`. A stale file is
 * replaced.
 */
export async function writePidFile(path: string, pid: number): Promise<void> {
  const other = runningPid(path);
  if (other !== undefined && other !== pid) {
    throw new VesperError(
      'VESPER_MASTER_RUNNING',
      `Vesper is already running with pid ${other} (pid file ${path}); stop it with 'vesper stop'`,
    );
  }
  await writeFileAtomic(path, `${pid}\n`, { mode: 0o644 });
}

/** Removes `path` if it still names `pid` (a newer master's file is left alone). */
export function removePidFile(path: string, pid: number): void {
  if (readPidFile(path) !== pid) return;
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
