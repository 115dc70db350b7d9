/**
 * @module The session server: logins on the init socket, spare session processes, limits, adoption and reaping.
 */
import { existsSync } from 'node:fs';
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { endpointFromConfig } from '../../accountd/client/index.js';
import type { VesperConfig } from '../../shared/config/index.js';
import type { Logger } from '../../shared/log/index.js';
import {
  AccountdAuthenticator,
  IdentityAuthenticator,
  type Authenticator,
} from '../authenticators/index.js';
import {
  failure,
  type InitReply,
  type InitRequest,
  type LoginRequest,
  type StatusReply,
} from '../init-protocol/index.js';
import {
  INIT_SOCKET_NAME,
  newSessionKey,
  SESSION_COOKIE,
  SESSION_SOCKET_PATTERN,
} from '../session-identity.js';
import { fetchStatus, requestShutdown } from './control-client.js';
import { InitListener } from './init-listener.js';
import { SessionCounter } from './session-counter.js';
import { SessionProcessHandle } from './session-process-handle.js';
import { SessionRegistry, type SessionRecord } from './session-registry.js';
import { ensureSocketDir } from './socket-dir.js';
import { SparePool } from './spare-pool.js';

/** Options of {@link SessionServer}. */
export interface SessionServerOptions {
  readonly config: VesperConfig;
  readonly log: Logger;
  /** The compiled session-process entry (default `../process/main.js` next to this module). */
  readonly processEntry?: string;
  /** Node flags for session processes. */
  readonly execArgv?: readonly string[];
  /** The environment of session processes (default: the minimal one). */
  readonly env?: Readonly<Record<string, string>>;
  /** Checks passwords (default: accountd). */
  readonly passwordAuthenticator?: Authenticator;
  /** Checks pre-authenticated identities (default: {@link IdentityAuthenticator}). */
  readonly identityAuthenticator?: Authenticator;
  /** How often adopted sessions' pids are checked, ms (default 1,000). */
  readonly reapIntervalMs?: number;
  /** How often every session is asked for its status and the socket directory rescanned, ms (default 30,000). */
  readonly sweepIntervalMs?: number;
  /** How far past its timeout a session may be before the server ends it, ms (default 30,000). */
  readonly timeoutGraceMs?: number;
  /** How long a session process may take to start, ms (default 10,000). */
  readonly startTimeoutMs?: number;
}

/** How long after a login the spare pool is refilled, ms. */
const REFILL_DELAY_MS = 100;

const WARM_SOCKET_PATTERN = /^warm-(\d+)\.sock$/;

const DEFAULT_ENTRY = fileURLToPath(new URL('../process/main.js', import.meta.url));

/** True when `pid` names a running process of ours. */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    // ESRCH: gone. EPERM: the pid now belongs to another user's process.
    return false;
  }
}

/**
 * The session server. `start()` prepares the socket directory, re-adopts every
 * session still running (socket directory scan plus a status request on each
 * socket), listens on the init socket and starts the spares. `close()` stops
 * all that and leaves sessions running.
 */
export class SessionServer {
  readonly #o: SessionServerOptions;
  readonly #config: VesperConfig;
  readonly #log: Logger;
  readonly #dir: string;
  readonly #registry = new SessionRegistry();
  readonly #pool: SparePool;
  readonly #listener: InitListener;
  readonly #password: Authenticator;
  readonly #identity: Authenticator;
  readonly #counter: SessionCounter;
  #pendingTotal = 0;
  readonly #pendingPerUser = new Map<string, number>();
  #reaper: NodeJS.Timeout | null = null;
  #sweeper: NodeJS.Timeout | null = null;
  #sweeping: Promise<void> | null = null;
  #closed = false;
  #adopted: Promise<void> = Promise.resolve();

  constructor(options: SessionServerOptions) {
    this.#o = options;
    this.#config = options.config;
    this.#log = options.log;
    this.#dir = options.config.session.socket_dir;
    this.#counter = new SessionCounter(join(options.config.paths.var, 'session-number'));
    this.#password =
      options.passwordAuthenticator ??
      new AccountdAuthenticator({
        endpoint: endpointFromConfig(options.config),
        timeoutMs: options.config.accountd.timeout,
      });
    this.#identity = options.identityAuthenticator ?? new IdentityAuthenticator();
    this.#pool = new SparePool({
      target: options.config.session.spares,
      log: options.log,
      spawn: () =>
        new SessionProcessHandle({
          entry: options.processEntry ?? DEFAULT_ENTRY,
          config: options.config,
          ...(options.execArgv === undefined ? {} : { execArgv: options.execArgv }),
          ...(options.env === undefined ? {} : { env: options.env }),
          ...(options.startTimeoutMs === undefined
            ? {}
            : { startTimeoutMs: options.startTimeoutMs }),
        }),
    });
    this.#listener = new InitListener({
      path: this.initSocketPath,
      log: options.log,
      handle: (request) => this.handle(request),
    });
  }

  /** `<socket_dir>/init.sock`. */
  get initSocketPath(): string {
    return join(this.#dir, INIT_SOCKET_NAME);
  }

  /** Live sessions the server knows. */
  get sessions(): readonly SessionRecord[] {
    return this.#registry.all();
  }

  /** Ready spares. */
  get readySpares(): number {
    return this.#pool.ready;
  }

  /** Pids of spare processes, ready or starting. */
  sparePids(): number[] {
    return this.#pool.pids();
  }

  /**
   * Starts serving.
   * @throws VesperError `VESPER_SESSION_SOCKET_DIR` for an unsafe socket
   *   directory, `VESPER_SESSION_INIT_IN_USE` when another session server runs.
   */
  async start(): Promise<void> {
    ensureSocketDir(this.#dir);
    await this.#listener.listen();
    this.#adopted = this.sweep();
    await this.#adopted;
    this.#pool.fill();
    this.#reaper = setInterval(() => this.#reap(), this.#o.reapIntervalMs ?? 1_000);
    this.#reaper.unref();
    this.#sweeper = setInterval(() => void this.sweep(), this.#o.sweepIntervalMs ?? 30_000);
    this.#sweeper.unref();
    this.#log.info(
      { sessions: this.#registry.size, socket: this.initSocketPath },
      `The session server listens on ${this.initSocketPath} with ${this.#registry.size} running session(s) adopted.`,
    );
  }

  /** Answers one init-socket request. */
  async handle(request: InitRequest): Promise<InitReply> {
    // Answers wait for the first scan: numbers and lists include adopted sessions.
    await this.#adopted;
    if (request.op === 'status') return this.status();
    return this.login(request);
  }

  /** The `status` reply: live sessions (freshly asked, else last known) and ready spares. */
  async status(): Promise<StatusReply> {
    const records = this.#registry.all();
    const fresh: Awaited<ReturnType<typeof fetchStatus>>[] = [];
    for (let i = 0; i < records.length; i += 64) {
      const batch = records.slice(i, i + 64).map((r) => fetchStatus(r.socketPath, 1_000));
      fresh.push(...(await Promise.all(batch)));
    }
    const sessions = records.map((r, i) => {
      const f = fresh[i]!;
      if (f.ok) {
        r.state = f.value.state;
        r.idleMs = f.value.idleMs;
      }
      return { user: r.user, session: r.session, pid: r.pid, state: r.state, idleMs: r.idleMs };
    });
    return { ok: true, sessions, spares: this.#pool.ready };
  }

  #reserve(user: string): boolean {
    const s = this.#config.session;
    const perUser = this.#registry.countFor(user) + (this.#pendingPerUser.get(user) ?? 0);
    if (this.#registry.size + this.#pendingTotal >= s.max_sessions || perUser >= s.max_per_user) {
      return false;
    }
    this.#pendingTotal += 1;
    this.#pendingPerUser.set(user, (this.#pendingPerUser.get(user) ?? 0) + 1);
    return true;
  }

  #unreserve(user: string): void {
    this.#pendingTotal -= 1;
    const n = (this.#pendingPerUser.get(user) ?? 1) - 1;
    if (n > 0) this.#pendingPerUser.set(user, n);
    else this.#pendingPerUser.delete(user);
  }

  /** Checks the login, starts the session in a spare and answers with its URL and cookie. */
  async login(request: LoginRequest): Promise<InitReply> {
    if (this.#closed) return failure('unavailable', 'The session server is shutting down.');
    const authenticator = request.identity !== undefined ? this.#identity : this.#password;
    const auth = await authenticator.authenticate(request);
    if (!auth.ok) {
      this.#log.info(
        {
          event: 'login-refused',
          user: request.user,
          error: auth.error,
          clientIp: request.clientIp,
        },
        `A login for ${request.user} was refused (${auth.error}).`,
      );
      return failure(auth.error, auth.message);
    }
    if (!this.#reserve(request.user)) {
      this.#log.warn(
        { event: 'login-refused', user: request.user, error: 'too-many-sessions' },
        `A login for ${request.user} was refused: too many sessions.`,
      );
      return failure(
        'too-many-sessions',
        'There are too many sessions; log out elsewhere or try later.',
      );
    }
    try {
      return await this.#startSession(request, auth.credential);
    } finally {
      this.#unreserve(request.user);
      // Refill once the reply is on its way and the browser has fetched the
      // first page: a starting Node process would compete with it for the CPU.
      setTimeout(() => this.#pool.fill(), REFILL_DELAY_MS).unref();
    }
  }

  async #startSession(
    request: LoginRequest,
    credential: { readonly password: string } | null,
  ): Promise<InitReply> {
    const user = request.user;
    const key = newSessionKey(this.#config.session.key_bytes);
    const session = this.#counter.next(this.#registry.highest + 1);
    let handle: SessionProcessHandle;
    let socketPath: string;
    const t0 = performance.now();
    const spare = this.#pool.ready > 0;
    try {
      handle = await this.#pool.acquire();
      socketPath = await handle.assign({
        user,
        session,
        key,
        clientIp: request.clientIp,
        tls: request.tls,
        loginAt: Date.now(),
        credential: credential === null ? null : { password: credential.password },
      });
    } catch (err) {
      this.#log.error(
        { err, user, session },
        `Session ${session} for ${user} could not be started.`,
      );
      return failure('unavailable', 'The session could not be started; try again.');
    }
    const record: SessionRecord = {
      user,
      session,
      pid: handle.pid,
      socketPath,
      since: Date.now(),
      child: handle.child,
      state: 'live',
      idleMs: 0,
    };
    this.#registry.add(record);
    handle.child.once('exit', (code, signal) => this.#ended(record, code, signal));
    this.#log.info(
      {
        event: 'login',
        user,
        session,
        pid: handle.pid,
        clientIp: request.clientIp,
        spare,
        startMs: Math.round((performance.now() - t0) * 10) / 10,
      },
      `${user} logged in: session ${session} runs in process ${handle.pid}.`,
    );
    return {
      ok: true,
      user,
      session,
      key,
      url: `/session/${user}/${key}/home`,
      cookie: {
        name: SESSION_COOKIE,
        value: key,
        path: `/session/${user}/`,
        httpOnly: true,
        sameSite: 'Lax',
        secure: request.tls,
      },
    };
  }

  /** A session's process is gone: forget it; a crash is logged and its socket removed. */
  #ended(record: SessionRecord, code: number | null, signal: string | null): void {
    if (this.#registry.remove(record.session) === undefined) return;
    const socketLeft = existsSync(record.socketPath);
    const { user, session, pid } = record;
    if (code === 0 && !socketLeft) {
      this.#log.debug(
        { event: 'ended', user, session, pid },
        `Session ${session} of ${user} has ended.`,
      );
      return;
    }
    if (socketLeft) void unlink(record.socketPath).catch(() => undefined);
    this.#log.error(
      { event: 'crash', user, session, pid, code, signal },
      `Session ${session} of ${user} (process ${pid}) crashed` +
        `${signal !== null ? ` with ${signal}` : code !== null ? ` with exit code ${code}` : ''}; its socket was removed.`,
    );
  }

  /** Checks adopted sessions' pids (children report their own exit). */
  #reap(): void {
    for (const r of this.#registry.all()) {
      if (r.child !== null || pidAlive(r.pid)) continue;
      this.#ended(r, null, null);
    }
  }

  /**
   * Scans the socket directory and asks every session for its status: adopts
   * sessions it does not know, removes sockets nobody listens on, notes states,
   * and ends sessions past their timeout (plus grace) that did not end themselves.
   * Concurrent calls join.
   */
  sweep(): Promise<void> {
    this.#sweeping ??= this.#sweep().finally(() => {
      this.#sweeping = null;
    });
    return this.#sweeping;
  }

  async #sweep(): Promise<void> {
    let all: string[];
    try {
      all = await readdir(this.#dir);
    } catch (err) {
      this.#log.error({ err }, `Cannot read the socket directory ${this.#dir}.`);
      return;
    }
    const names = all.filter((n) => SESSION_SOCKET_PATTERN.test(n));
    // A spare killed during its warm-up leaves warm-<pid>.sock behind.
    for (const n of all) {
      const warm = WARM_SOCKET_PATTERN.exec(n);
      if (warm !== null && !pidAlive(Number(warm[1]))) {
        await unlink(join(this.#dir, n)).catch(() => undefined);
      }
    }
    const grace = this.#o.timeoutGraceMs ?? 30_000;
    const byPath = new Map(this.#registry.all().map((r) => [r.socketPath, r]));
    const paths = names.map((n) => join(this.#dir, n));
    for (const r of byPath.values()) if (!paths.includes(r.socketPath)) paths.push(r.socketPath);
    for (let i = 0; i < paths.length; i += 64) {
      await Promise.all(
        paths.slice(i, i + 64).map(async (path) => {
          const known = byPath.get(path);
          const st = await fetchStatus(path);
          if (!st.ok) {
            if (!st.gone) return;
            if (known !== undefined) {
              // The process may still be on its way out; its exit event or the reaper decide.
              if (known.child === null && !pidAlive(known.pid)) this.#ended(known, null, null);
              return;
            }
            await unlink(path).catch(() => undefined);
            this.#log.info({ socket: path }, `Removed the stale session socket ${path}.`);
            return;
          }
          const s = st.value;
          let record = known;
          if (record === undefined) {
            record = {
              user: s.user,
              session: s.session,
              pid: s.pid,
              socketPath: path,
              since: Date.now(),
              child: null,
              state: s.state,
              idleMs: s.idleMs,
            };
            if (this.#registry.add(record)) {
              this.#log.info(
                { event: 'adopt', user: s.user, session: s.session, pid: s.pid },
                `Adopted the running session ${s.session} of ${s.user} (process ${s.pid}).`,
              );
            }
          }
          record.state = s.state;
          record.idleMs = s.idleMs;
          if (Date.now() > s.timeoutAt + grace) {
            this.#log.warn(
              { event: 'timeout', user: s.user, session: s.session, pid: s.pid },
              `Session ${s.session} of ${s.user} outlived its timeout; ending it.`,
            );
            const r = await requestShutdown(path);
            if (!r.ok && pidAlive(s.pid)) {
              try {
                process.kill(s.pid, 'SIGTERM');
              } catch {
                // Gone meanwhile.
              }
            }
          }
        }),
      );
    }
  }

  /**
   * Stops listening, stops the spares and the timers; running sessions keep
   * running (a new session server re-adopts them). Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#reaper !== null) clearInterval(this.#reaper);
    if (this.#sweeper !== null) clearInterval(this.#sweeper);
    this.#pool.close();
    await this.#listener.close();
    await this.#sweeping?.catch(() => undefined);
    await this.#counter.flush();
  }
}
