/**
 * @module Idle keep-alive connections to session sockets, one last-in-first-out list per socket path.
 */
import { connect, type Socket } from 'node:net';

/** Limits of the pool. */
export interface UpstreamPoolOptions {
  /** Idle connections kept per socket path. Default 32. */
  readonly maxIdlePerPath?: number;
  /** An idle connection is closed after this long (ms). Default 30 s. */
  readonly idleTimeout?: number;
}

/** What the pool knows of a connection it has seen: watched once, for its whole life. */
interface Watched {
  path: string;
  idle: boolean;
  /** When it last became idle (`performance.now()` milliseconds). */
  since: number;
}

/**
 * Keeps idle connections to session sockets for reuse. A connection is in
 * the pool only while idle; one that closes, errs, times out or sends
 * anything while idle is dropped.
 *
 * Each connection gets the pool's listeners once, when {@link connect} makes
 * it, and keeps them (they do nothing while it is out of the pool):
 * adding and removing listeners and a socket timeout on every request cost
 * more than the request itself. One unref'd sweep timer per pool closes the
 * connections idle longer than the idle timeout, so one is closed between
 * one and one and a half idle timeouts after it was given back.
 */
export class UpstreamPool {
  readonly #idle = new Map<string, Socket[]>();
  readonly #watched = new WeakMap<Socket, Watched>();
  readonly #maxIdle: number;
  readonly #idleTimeout: number;
  /** What every connection made by {@link connect} reads into. */
  readonly #readBuffer = Buffer.allocUnsafe(64 * 1024);
  #sweeper: NodeJS.Timeout | null = null;

  constructor(options: UpstreamPoolOptions = {}) {
    this.#maxIdle = options.maxIdlePerPath ?? 32;
    this.#idleTimeout = options.idleTimeout ?? 30_000;
  }

  /** Idle connections kept for `path`. */
  idleCount(path: string): number {
    return this.#idle.get(path)?.length ?? 0;
  }

  /** The most recently used idle connection to `path`, or null. */
  take(path: string): Socket | null {
    const list = this.#idle.get(path);
    while (list !== undefined && list.length > 0) {
      const socket = list.pop()!;
      const watched = this.#watched.get(socket);
      if (watched !== undefined) watched.idle = false;
      if (list.length === 0) this.#idle.delete(path);
      if (!socket.destroyed && socket.readyState === 'open') return socket;
      socket.destroy();
    }
    return null;
  }

  /**
   * A new connection to `path` (errors are reported on the socket). The
   * pool's listeners go on it first, so that when a user's listener gives it
   * back while handling an event, the pool does not see that same event.
   *
   * What the connection reads goes to `onData` instead of `'data'` events:
   * every connection of the pool reads into one buffer (`onread`), which
   * spares the allocation of a buffer and the stream machinery per read. The
   * chunk `onData` gets is valid only during the call; whatever must outlive
   * it has to be copied. Bytes that arrive while the connection is idle in
   * the pool never reach `onData`: the connection is dropped.
   */
  connect(path: string, onData: (chunk: Buffer) => void): Socket {
    const watched: Watched = { path, idle: false, since: 0 };
    const buffer = this.#readBuffer;
    const socket: Socket = connect({
      path,
      onread: {
        buffer,
        callback: (n: number): boolean => {
          if (watched.idle) {
            // Nothing may arrive on an idle connection: the stream is out of step.
            this.#drop(socket, watched);
            return false;
          }
          onData(buffer.subarray(0, n));
          return true;
        },
      },
    });
    const drop = (): void => {
      if (watched.idle) this.#drop(socket, watched);
    };
    this.#watched.set(socket, watched);
    socket.on('close', drop);
    socket.on('error', drop);
    return socket;
  }

  /**
   * Puts a connection that finished an exchange back, or closes it when the
   * pool for `path` is full (or it is not one {@link connect} made: only
   * those read through the pool).
   */
  give(path: string, socket: Socket): void {
    let list = this.#idle.get(path);
    if (list === undefined) {
      list = [];
      this.#idle.set(path, list);
    }
    const watched = this.#watched.get(socket);
    if (list.length >= this.#maxIdle || socket.destroyed || watched === undefined) {
      if (list.length === 0) this.#idle.delete(path);
      socket.destroy();
      return;
    }
    watched.idle = true;
    watched.since = performance.now();
    socket.resume();
    list.push(socket);
    if (this.#sweeper === null) {
      this.#sweeper = setInterval(this.#sweep, Math.max(1, this.#idleTimeout / 2));
      this.#sweeper.unref();
    }
  }

  #drop(socket: Socket, watched: Watched): void {
    watched.idle = false;
    const current = this.#idle.get(watched.path);
    const i = current?.indexOf(socket) ?? -1;
    if (i >= 0) current!.splice(i, 1);
    if (current !== undefined && current.length === 0) this.#idle.delete(watched.path);
    socket.destroy();
  }

  readonly #sweep = (): void => {
    const oldest = performance.now() - this.#idleTimeout;
    for (const [path, list] of this.#idle) {
      // Last in, first out: the longest idle are at the front.
      let n = 0;
      while (n < list.length && this.#watched.get(list[n]!)!.since <= oldest) n++;
      if (n === 0) continue;
      const gone = list.splice(0, n);
      if (list.length === 0) this.#idle.delete(path);
      for (const socket of gone) {
        this.#watched.get(socket)!.idle = false;
        socket.destroy();
      }
    }
    if (this.#idle.size === 0 && this.#sweeper !== null) {
      clearInterval(this.#sweeper);
      this.#sweeper = null;
    }
  };

  /** Closes every idle connection. */
  close(): void {
    for (const list of this.#idle.values()) {
      for (const socket of list) {
        this.#watched.get(socket)!.idle = false;
        socket.destroy();
      }
    }
    this.#idle.clear();
    if (this.#sweeper !== null) {
      clearInterval(this.#sweeper);
      this.#sweeper = null;
    }
  }
}
