/**
 * @module What `vesper start|stop|reload|status` share: finding the running master through its pid file, and waiting for it.
 */
import { controlSocketPath, requestJsonLine } from '../../frontend/master/control-socket.js';
import { isAlive, pidFilePath, runningPid } from '../../frontend/master/pid-file.js';
import type { VesperConfig } from '../../shared/config/index.js';
import { VesperError } from '../../shared/errors/index.js';

/**
 * True when the master's control socket answers with this `pid`: the pid
 * file names a live Vesper master, not a process that reused the number of a
 * master that crashed.
 */
export async function confirmMaster(config: VesperConfig, pid: number): Promise<boolean> {
  try {
    const reply = (await requestJsonLine(
      controlSocketPath(config.paths.var),
      { op: 'status' },
      2000,
    )) as {
      pid?: unknown;
    };
    return reply.pid === pid;
  } catch {
    return false;
  }
}

/**
 * The pid of the running master of `config`. Throws a `VesperError`
 * (`VESPER_NOT_RUNNING`) when none runs: no pid file, a dead pid, or a live
 * process that does not answer as the master on `<var>/master.sock` (it is
 * never signalled).
 */
export async function masterPid(config: VesperConfig): Promise<number> {
  const file = pidFilePath(config);
  const pid = runningPid(file);
  if (pid === undefined) {
    throw new VesperError(
      'VESPER_NOT_RUNNING',
      `Vesper is not running (no live process in the pid file ${file})`,
    );
  }
  if (!(await confirmMaster(config, pid))) {
    throw new VesperError(
      'VESPER_NOT_RUNNING',
      `Vesper is not running: the pid file ${file} names process ${pid}, which does not answer ` +
        `on ${controlSocketPath(config.paths.var)}; it was not signalled`,
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
