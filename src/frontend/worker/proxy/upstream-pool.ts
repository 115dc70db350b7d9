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

/**
 * Keeps idle connections to session sockets for reuse. A connection is in
 * the pool only while idle; one that closes, errs, times out or sends
 * anything while idle is dropped.
 */
export class UpstreamPool {
  readonly #idle = new Map<string, Socket[]>();
  readonly #watchers = new WeakMap<Socket, () => void>();
  readonly #maxIdle: number;
  readonly #idleTimeout: number;

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
      this.#unwatch(socket);
      if (list.length === 0) this.#idle.delete(path);
      if (!socket.destroyed && socket.readyState === 'open') return socket;
      socket.destroy();
    }
    return null;
  }

  /** A new connection to `path` (errors are reported on the socket). */
  connect(path: string): Socket {
    return connect({ path });
  }

  /** Puts a connection that finished an exchange back, or closes it when the pool for `path` is full. */
  give(path: string, socket: Socket): void {
    let list = this.#idle.get(path);
    if (list === undefined) {
      list = [];
      this.#idle.set(path, list);
    }
    if (list.length >= this.#maxIdle || socket.destroyed) {
      socket.destroy();
      return;
    }
    const drop = (): void => {
      this.#unwatch(socket);
      const current = this.#idle.get(path);
      const i = current?.indexOf(socket) ?? -1;
      if (i >= 0) current!.splice(i, 1);
      if (current !== undefined && current.length === 0) this.#idle.delete(path);
      socket.destroy();
    };
    this.#watchers.set(socket, drop);
    socket.on('close', drop);
    socket.on('error', drop);
    socket.on('timeout', drop);
    // Nothing may arrive on an idle connection; if something does, the stream is out of step.
    socket.on('data', drop);
    socket.setTimeout(this.#idleTimeout);
    socket.resume();
    list.push(socket);
  }

  #unwatch(socket: Socket): void {
    const drop = this.#watchers.get(socket);
    if (drop === undefined) return;
    this.#watchers.delete(socket);
    socket.off('close', drop);
    socket.off('error', drop);
    socket.off('timeout', drop);
    socket.off('data', drop);
    socket.setTimeout(0);
  }

  /** Closes every idle connection. */
  close(): void {
    for (const list of this.#idle.values()) {
      for (const socket of list) {
        this.#unwatch(socket);
        socket.destroy();
      }
    }
    this.#idle.clear();
  }
}
