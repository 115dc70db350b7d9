/**
 * @module A closed-loop keep-alive HTTP load generator: N connections over raw
 * `net` sockets, each sending its next request as soon as the previous
 * response is complete (or after a think time), recording every request's
 * latency and every failure.
 * Every request goes to one path, or to one picked uniformly at random from a
 * list (many sessions, each with its own cookie).
 * It runs in the calling process; `runLoadInChild` (load-in-child.ts) runs it
 * in a child process so it does not share an event loop with what it measures.
 */
import { connect, type Socket } from 'node:net';
import { VesperError } from '../../src/shared/errors/index.js';
import { HttpResponseParser, type ParsedResponse } from './http-response-parser.js';

/** Where to connect: a TCP port on a host, or a Unix socket path. */
export type LoadTarget = { host: string; port: number } | { path: string };

/** One request the load may send: its target and its own headers (a session's cookie). */
export interface LoadRequest {
  /** Request target (`/session/...`). */
  path: string;
  /** Request headers added after `Host` and {@link LoadOptions.headers}. */
  headers?: Record<string, string>;
}

/** What to send and for how long. */
export interface LoadOptions {
  /** The server to load. */
  target: LoadTarget;
  /** Keep-alive connections, each with at most one request in flight. */
  connections: number;
  /** How long `runKeepAliveLoad` measures, after the warm-up. */
  durationMs: number;
  /** Requests sent before measuring starts (not counted). Default 0. */
  warmupMs?: number;
  /** Request target (`/session/...`) of every request; give this or `requests`. */
  path?: string;
  /**
   * Instead of `path`: each request goes to one of these, picked uniformly at
   * random, so that every entry gets traffic ({@link LoadResult.answeredRequests}
   * says how many did).
   */
  requests?: readonly LoadRequest[];
  /** Extra request headers (`Host` is always sent, as `host:port` or `localhost`). */
  headers?: Record<string, string>;
  /** A response with another status counts in `badStatus`. Default 200. */
  expectStatus?: number;
  /** A response with another body size counts in `badStatus`. Default: any size. */
  expectBodyBytes?: number;
  /** A request with no complete response after this long fails as `timeout`. Default 10 s. */
  requestTimeoutMs?: number;
  /**
   * Think time: each connection waits this long on average (uniformly 0.5 to
   * 1.5 times it) between a response and its next request, as a user reads a
   * page. Default 0: a closed loop at full speed.
   */
  thinkMs?: number;
}

/** The figures of one run. */
export interface LoadResult {
  connections: number;
  /** The measured window in milliseconds. */
  durationMs: number;
  /** Responses with the expected status and size, completed in the window. */
  ok: number;
  /**
   * Requests written that got no complete response (reset, closed, timeout,
   * garbage), warm-up included: every failure counts.
   */
  failed: number;
  /** Requests in flight when `stop()` was called. */
  inFlightAtStop: number;
  /** Of those, how many were answered as expected. */
  completedAfterStop: number;
  /** Complete responses with an unexpected status or body size. */
  badStatus: number;
  /** Connection attempts that failed (refused, reset before any request). */
  connectErrors: number;
  /** `ok` per second of the window. */
  rps: number;
  /** Latency percentiles of the `ok` responses, in milliseconds. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Response count per status code, in the window. */
  statuses: Record<string, number>;
  /** Failure count per cause (`ECONNRESET`, `closed`, `timeout`, ...), warm-up included. */
  errors: Record<string, number>;
  /**
   * How many distinct requests (entries of `requests`, or the one `path`) got
   * at least one expected answer in the window.
   */
  answeredRequests: number;
}

/**
 * What went wrong in `r`, in one phrase (unanswered requests by cause,
 * unexpected answers by status, refused connections), or null when nothing did.
 */
export function describeFailures(
  r: Pick<LoadResult, 'failed' | 'badStatus' | 'connectErrors' | 'errors' | 'statuses'>,
): string | null {
  if (r.failed + r.badStatus + r.connectErrors === 0) return null;
  return (
    `${r.failed} failed ${JSON.stringify(r.errors)}, ${r.badStatus} bad answers ` +
    `(statuses ${JSON.stringify(r.statuses)}), ${r.connectErrors} refused connections`
  );
}

/** The value at percentile `p` (0..100) of an ascending array; 0 when empty. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

/** Latencies in a growable typed array: no per-sample allocation. */
class Samples {
  #data = new Float64Array(1 << 16);
  #length = 0;

  push(value: number): void {
    if (this.#length === this.#data.length) {
      const bigger = new Float64Array(this.#data.length * 2);
      bigger.set(this.#data);
      this.#data = bigger;
    }
    this.#data[this.#length++] = value;
  }

  sorted(): Float64Array {
    return this.#data.slice(0, this.#length).sort();
  }
}

/** One keep-alive connection's loop. */
class Client {
  readonly #load: KeepAliveLoad;
  #socket: Socket | null = null;
  /** `performance.now()` when the in-flight request was written, or -1. */
  sentAt = -1;
  /** The index in {@link KeepAliveLoad.requests} of the request in flight (or the last one). */
  request = 0;

  constructor(load: KeepAliveLoad) {
    this.#load = load;
  }

  open(): void {
    const load = this.#load;
    const socket = load.connectSocket();
    socket.setNoDelay(true);
    const parser = new HttpResponseParser((r) => this.#onResponse(r));
    this.#socket = socket;
    let connected = false;
    socket.once('connect', () => {
      connected = true;
      this.#send();
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        parser.push(chunk);
      } catch {
        this.#fail('bad-response');
      }
    });
    socket.on('end', () => {
      try {
        parser.end();
      } catch {
        // Closed mid-response: reported by the close handler below.
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected) load.connectError();
      else if (this.sentAt >= 0) this.#fail(err.code ?? 'error');
    });
    socket.on('close', () => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      if (this.sentAt >= 0) this.#fail('closed');
      // Reconnect at once after a clean close; after a refused connection,
      // wait a little so that a dead server does not spin this loop.
      if (load.running) setTimeout(() => this.#reopen(), connected ? 0 : 5);
    });
  }

  /** Ends the in-flight request as failed and drops the connection. */
  timeout(): void {
    this.#fail('timeout');
  }

  destroy(): void {
    const s = this.#socket;
    this.#socket = null;
    s?.destroy();
  }

  #reopen(): void {
    if (this.#load.running && this.#socket === null) this.open();
  }

  #send(): void {
    const s = this.#socket;
    if (s === null || !this.#load.running) {
      if (this.#load.running === false) this.#load.idle();
      return;
    }
    const requests = this.#load.requests;
    this.request = requests.length === 1 ? 0 : Math.floor(Math.random() * requests.length);
    this.sentAt = performance.now();
    s.write(requests[this.request]!);
  }

  #fail(cause: string): void {
    if (this.sentAt < 0) return;
    this.sentAt = -1;
    this.#load.failure(cause);
    const s = this.#socket;
    this.#socket = null;
    s?.destroy();
    if (this.#load.running) setTimeout(() => this.#reopen(), 0);
    else this.#load.idle();
  }

  #onResponse(r: ParsedResponse): void {
    const latency = performance.now() - this.sentAt;
    this.sentAt = -1;
    this.#load.response(r, latency, this.request);
    if (!r.keepAlive) {
      // The server closes after this one: open a fresh connection.
      const s = this.#socket;
      this.#socket = null;
      s?.destroy();
      if (this.#load.running) this.open();
      else this.#load.idle();
      return;
    }
    const think = this.#load.thinkMs;
    if (think > 0) setTimeout(() => this.#send(), think * (0.5 + Math.random()));
    else this.#send();
  }
}

/**
 * A load run that can be started and stopped around other events (a signal to
 * the server, a worker killed): `start()`, then `stop()` for the figures.
 */
export class KeepAliveLoad {
  readonly #options: LoadOptions;
  readonly #clients: Client[] = [];
  readonly #samples = new Samples();
  readonly #statuses: Record<string, number> = {};
  readonly #errors: Record<string, number> = {};
  /** The bytes of each request, built once. */
  readonly requests: readonly Buffer[];
  /** Expected answers per entry of `requests`, in the window. */
  readonly #answered: Uint32Array;
  running = false;
  /** {@link LoadOptions.thinkMs}. */
  readonly thinkMs: number;
  #measuring = false;
  #measureStart = 0;
  #measureEnd = 0;
  #ok = 0;
  #failed = 0;
  #badStatus = 0;
  #connectErrors = 0;
  #completedAfterStop = 0;
  #timer: NodeJS.Timeout | null = null;
  #drained: (() => void) | null = null;

  /**
   * @param options what to send; see {@link LoadOptions}.
   * @throws VesperError `VESPER_BENCH_BAD_LOAD` unless exactly one of `path`
   * and a non-empty `requests` is given.
   */
  constructor(options: LoadOptions) {
    this.#options = options;
    this.thinkMs = options.thinkMs ?? 0;
    const t = options.target;
    const host = 'path' in t ? 'localhost' : `${t.host}:${t.port}`;
    const list: readonly LoadRequest[] | undefined =
      options.path !== undefined && options.requests === undefined
        ? [{ path: options.path }]
        : options.path === undefined && options.requests !== undefined
          ? options.requests
          : undefined;
    if (list === undefined || list.length === 0) {
      throw new VesperError(
        'VESPER_BENCH_BAD_LOAD',
        'The load needs either a path or a non-empty list of requests.',
      );
    }
    this.requests = list.map((r) => {
      const headers = Object.entries({ host, ...(options.headers ?? {}), ...(r.headers ?? {}) })
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('');
      return Buffer.from(`GET ${r.path} HTTP/1.1\r\n${headers}\r\n`, 'latin1');
    });
    this.#answered = new Uint32Array(list.length);
  }

  /** Opens every connection and starts sending; measuring starts after the warm-up. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const warmup = this.#options.warmupMs ?? 0;
    if (warmup > 0) {
      setTimeout(() => this.#beginMeasuring(), warmup);
    } else {
      this.#beginMeasuring();
    }
    const timeout = this.#options.requestTimeoutMs ?? 10_000;
    // One coarse timer for every connection's request deadline.
    this.#timer = setInterval(
      () => {
        const now = performance.now();
        for (const c of this.#clients) if (c.sentAt >= 0 && now - c.sentAt > timeout) c.timeout();
      },
      Math.min(250, timeout),
    );
    for (let i = 0; i < this.#options.connections; i++) {
      const c = new Client(this);
      this.#clients.push(c);
      c.open();
    }
  }

  /**
   * Stops sending, waits (up to `requestTimeoutMs`) for the requests in flight,
   * closes every connection and returns the figures of the measured window.
   */
  async stop(): Promise<LoadResult> {
    if (this.#measuring) this.#measureEnd = performance.now();
    this.#measuring = false;
    this.running = false;
    const limit = this.#options.requestTimeoutMs ?? 10_000;
    const inFlightAtStop = this.#inFlight();
    if (inFlightAtStop > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, limit);
        this.#drained = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    for (const c of this.#clients) if (c.sentAt >= 0) c.timeout();
    if (this.#timer !== null) clearInterval(this.#timer);
    for (const c of this.#clients) c.destroy();
    const sorted = this.#samples.sorted();
    const durationMs = Math.max(0, this.#measureEnd - this.#measureStart);
    return {
      connections: this.#options.connections,
      durationMs: Math.round(durationMs),
      ok: this.#ok,
      failed: this.#failed,
      inFlightAtStop,
      completedAfterStop: this.#completedAfterStop,
      badStatus: this.#badStatus,
      connectErrors: this.#connectErrors,
      rps: durationMs > 0 ? Math.round((this.#ok * 1000) / durationMs) : 0,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted.length > 0 ? sorted[sorted.length - 1]! : 0,
      statuses: { ...this.#statuses },
      errors: { ...this.#errors },
      answeredRequests: this.#answered.reduce((n, count) => (count > 0 ? n + 1 : n), 0),
    };
  }

  /** The counters so far (for watching a run while something happens to the server). */
  progress(): { ok: number; failed: number; badStatus: number; connectErrors: number } {
    return {
      ok: this.#ok,
      failed: this.#failed,
      badStatus: this.#badStatus,
      connectErrors: this.#connectErrors,
    };
  }

  /** @internal A new socket to the target. */
  connectSocket(): Socket {
    const t = this.#options.target;
    return 'path' in t ? connect(t.path) : connect(t.port, t.host);
  }

  /** @internal A connection attempt failed. */
  connectError(): void {
    this.#connectErrors += 1;
  }

  /** @internal A written request got no response. */
  failure(cause: string): void {
    this.#failed += 1;
    this.#errors[cause] = (this.#errors[cause] ?? 0) + 1;
  }

  /** @internal A complete response to `requests[index]`. */
  response(r: ParsedResponse, latencyMs: number, index: number): void {
    const size = this.#options.expectBodyBytes;
    const expected =
      r.status === (this.#options.expectStatus ?? 200) &&
      (size === undefined || r.bodyBytes === size);
    if (!this.running) {
      if (expected) this.#completedAfterStop += 1;
      else this.#badStatus += 1;
      return;
    }
    if (!this.#measuring) return;
    this.#statuses[r.status] = (this.#statuses[r.status] ?? 0) + 1;
    if (!expected) {
      this.#badStatus += 1;
      return;
    }
    this.#ok += 1;
    this.#answered[index]! += 1;
    this.#samples.push(latencyMs);
  }

  /** @internal A connection finished its last request after `stop()`. */
  idle(): void {
    if (this.#drained !== null && this.#inFlight() === 0) this.#drained();
  }

  #inFlight(): number {
    let n = 0;
    for (const c of this.#clients) if (c.sentAt >= 0) n += 1;
    return n;
  }

  #beginMeasuring(): void {
    if (!this.running) return;
    this.#measuring = true;
    this.#measureStart = performance.now();
  }
}

/** Runs `options.connections` keep-alive loops for the warm-up plus `options.durationMs`. */
export async function runKeepAliveLoad(options: LoadOptions): Promise<LoadResult> {
  const load = new KeepAliveLoad(options);
  load.start();
  await new Promise((resolve) => setTimeout(resolve, (options.warmupMs ?? 0) + options.durationMs));
  return load.stop();
}
