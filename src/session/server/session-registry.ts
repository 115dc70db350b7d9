/**
 * @module The session server's table of live sessions: who, which process, which socket.
 */
import type { ChildProcess } from 'node:child_process';

/** One live session as the session server knows it. */
export interface SessionRecord {
  readonly user: string;
  readonly session: number;
  readonly pid: number;
  readonly socketPath: string;
  /** When the server started or adopted it, ms since the epoch. */
  readonly since: number;
  /** The child process when this server started it; null when adopted after a restart. */
  readonly child: ChildProcess | null;
  /** Last known state and idle time (from the last status request). */
  state: 'live' | 'dormant';
  idleMs: number;
}

/** Live sessions by number, with per-user counts. */
export class SessionRegistry {
  readonly #bySession = new Map<number, SessionRecord>();
  readonly #perUser = new Map<string, number>();
  #highest = 0;

  /** Live sessions. */
  get size(): number {
    return this.#bySession.size;
  }

  /** The highest session number ever registered (numbers continue from it). */
  get highest(): number {
    return this.#highest;
  }

  /** Live sessions of `user`. */
  countFor(user: string): number {
    return this.#perUser.get(user) ?? 0;
  }

  /** Adds a session; a second add of the same number is ignored (returns false). */
  add(record: SessionRecord): boolean {
    if (this.#bySession.has(record.session)) return false;
    this.#bySession.set(record.session, record);
    this.#perUser.set(record.user, this.countFor(record.user) + 1);
    this.#highest = Math.max(this.#highest, record.session);
    return true;
  }

  /** Removes a session; returns it, or undefined when it was not there. */
  remove(session: number): SessionRecord | undefined {
    const r = this.#bySession.get(session);
    if (r === undefined) return undefined;
    this.#bySession.delete(session);
    const n = this.countFor(r.user) - 1;
    if (n > 0) this.#perUser.set(r.user, n);
    else this.#perUser.delete(r.user);
    return r;
  }

  /** The session with this number. */
  get(session: number): SessionRecord | undefined {
    return this.#bySession.get(session);
  }

  /** True when a session uses this socket path. */
  hasSocket(path: string): boolean {
    for (const r of this.#bySession.values()) if (r.socketPath === path) return true;
    return false;
  }

  /** Every live session. */
  all(): SessionRecord[] {
    return [...this.#bySession.values()];
  }
}
