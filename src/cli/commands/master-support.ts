/**
 * @module What `vesper start|stop|reload|status` share: finding the running master through its pid file, and waiting for it.
 */
import { runningPid, isAlive, pidFilePath } from '../../frontend/master/pid-file.js';
import type { VesperConfig } from '../../shared/config/index.js';
import { VesperError } from '../../shared/errors/index.js';

/** The pid of the running master of `config`. Throws a `VesperError` (`VESPER_NOT_RUNNING`) when none runs. */
export function masterPid(config: VesperConfig): number {
  const file = pidFilePath(config);
  const pid = runningPid(file);
  if (pid === undefined) {
    throw new VesperError(
      'VESPER_NOT_RUNNING',
      `Vesper is not running (no live process in the pid file ${file})`,
    );
  }
  return pid;
}

/** Resolves true once `pid` has exited, false after `timeoutMs` (polls every 50 ms). */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

/** `ms` as a short age: `42s`, `5m 3s`, `2h 10m`, `3d 4h`. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}
