/**
 * @module The typed accountd client: one method per command, calls run one
 * at a time, with a timeout each, and a dropped connection is reopened (and
 * the user logged in again) on the next call.
 *
 * ```
 *  call ──▶ connected? ──no──▶ open + LOGIN again (if logged in before) ──┐
 *              │ yes                                                        │
 *              ▼                                                            ▼
 *           send ──▶ reply ──▶ OK: resolve · NO: AccountdRefusedError · BAD: AccountdProtocolError
 *              │
 *              └─ connection closed or server closing (idle/limit): retry once
 *                 on a fresh connection when the command is safe to repeat
 * ```
 */
import { VesperError } from '../../shared/errors/index.js';
import { encodeMessage } from '../protocol/token-encoding.js';
import type { Reply } from '../protocol/reply.js';
import {
  formatForwarding,
  formatVacation,
  parseForwarding,
  parseVacation,
  parseVacationLog,
  type ForwardingSettings,
  type QuotaStatus,
  type VacationLogEntry,
  type VacationSettings,
} from '../protocol/settings-text.js';
import { ClientConnection } from './client-connection.js';
import {
  AccountdProtocolError,
  AccountdRefusedError,
  CLIENT_ERROR_CODES,
} from './client-errors.js';
import type { AccountdEndpoint } from './endpoint.js';

/** Options of {@link AccountdClient}. */
export interface AccountdClientOptions {
  /** Limit for connecting and for each reply, ms (`accountd.timeout`). Default 10 s. */
  timeoutMs?: number;
}

/** Options of {@link AccountdClient.login}. */
export interface LoginOptions {
  /**
   * The end user's address, for the server's per-address lockout. Only a
   * trusted client (Unix socket, or TLS with a client certificate) is heard.
   */
  clientAddress?: string;
}

interface Credentials {
  user: string;
  password: string;
  clientAddress: string | undefined;
}

const retryable = (err: unknown): boolean =>
  err instanceof VesperError &&
  (err.code === CLIENT_ERROR_CODES.connectionClosed ||
    (err instanceof AccountdProtocolError && (err.reason === 'TIMEOUT' || err.reason === 'LIMIT')));

/** True for the refusals the server gives before it reads the command. */
const notExecuted = (err: unknown): boolean =>
  err instanceof AccountdProtocolError && (err.reason === 'TIMEOUT' || err.reason === 'LIMIT');

/** A client of one accountd server, for one user at a time. */
export class AccountdClient {
  readonly #endpoint: AccountdEndpoint;
  readonly #timeoutMs: number;
  #conn: ClientConnection | undefined;
  #credentials: Credentials | undefined;
  #tail: Promise<unknown> = Promise.resolve();
  #destroyed = false;
  #closing: Promise<void> | undefined;

  /** Makes a client; nothing is connected until the first call. */
  constructor(endpoint: AccountdEndpoint, options: AccountdClientOptions = {}) {
    this.#endpoint = endpoint;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  /**
   * Makes a client and opens its connection now. Throws {@link VesperError}
   * `VESPER_ACCOUNTD_UNAVAILABLE` or `VESPER_ACCOUNTD_TIMEOUT`.
   */
  static async connect(
    endpoint: AccountdEndpoint,
    options: AccountdClientOptions = {},
  ): Promise<AccountdClient> {
    const client = new AccountdClient(endpoint, options);
    await client.#serial(() => client.#connection());
    return client;
  }

  /** The logged-in user, or undefined. */
  get user(): string | undefined {
    return this.#credentials?.user;
  }

  /** True while a connection is open (false after `close()` until the next call). */
  get connected(): boolean {
    return this.#conn?.alive ?? false;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#destroyed) {
      return Promise.reject(
        new VesperError(CLIENT_ERROR_CODES.destroyed, 'the accountd client was destroyed'),
      );
    }
    const run = this.#tail.then(fn, fn);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #exchange(
    conn: ClientConnection,
    tokens: string[],
    literals: number[] = [],
  ): Promise<string[]> {
    const reply: Reply = await conn.request(encodeMessage(tokens, { literals }), this.#timeoutMs);
    if (reply.status === 'OK') return reply.data;
    if (reply.status === 'NO') throw new AccountdRefusedError(reply.code, reply.text);
    if (reply.code === 'TIMEOUT' || reply.code === 'LIMIT') conn.destroy();
    throw new AccountdProtocolError(reply.code, reply.text);
  }

  #loginTokens(c: Credentials): string[] {
    return c.clientAddress === undefined
      ? ['LOGIN', c.user, c.password]
      : ['LOGIN', c.user, c.password, c.clientAddress];
  }

  /** The open connection, opening one (and logging in again) when needed. */
  async #connection(): Promise<ClientConnection> {
    if (this.#conn?.alive === true) return this.#conn;
    const conn = await ClientConnection.open(this.#endpoint, this.#timeoutMs);
    if (this.#destroyed) {
      conn.destroy();
      throw new VesperError(CLIENT_ERROR_CODES.destroyed, 'the accountd client was destroyed');
    }
    this.#conn = conn;
    if (this.#credentials !== undefined) {
      try {
        await this.#exchange(conn, this.#loginTokens(this.#credentials));
      } catch (err) {
        conn.destroy();
        throw err;
      }
    }
    return conn;
  }

  /** Sends one command; a command safe to repeat is retried once on a fresh connection. */
  #call(
    tokens: string[],
    options: { literals?: number[]; idempotent: boolean },
  ): Promise<string[]> {
    return this.#serial(async () => {
      for (let attempt = 0; ; attempt++) {
        const conn = await this.#connection();
        try {
          return await this.#exchange(conn, tokens, options.literals);
        } catch (err) {
          if (attempt === 0 && options.idempotent && retryable(err)) continue;
          throw err;
        }
      }
    });
  }

  /**
   * `LOGIN`: checks the password and remembers the credentials (in memory
   * only) to log in again after a reconnect. A previous login on this client
   * ends first, whatever the outcome. Rejects with
   * {@link AccountdRefusedError} reason `AUTH` or `LOCKED`, or a connection error.
   */
  login(user: string, password: string, options: LoginOptions = {}): Promise<void> {
    return this.#serial(async () => {
      const credentials = { user, password, clientAddress: options.clientAddress };
      // The server ends the previous login on a new LOGIN, whatever its outcome.
      this.#credentials = undefined;
      for (let attempt = 0; ; attempt++) {
        const conn = await this.#connection();
        try {
          await this.#exchange(conn, this.#loginTokens(credentials));
          break;
        } catch (err) {
          // BAD LIMIT and BAD TIMEOUT come before the server reads the command:
          // the password was not checked, so trying once more counts no failure.
          if (attempt === 0 && notExecuted(err)) continue;
          throw err;
        }
      }
      this.#credentials = credentials;
    });
  }

  /** `LOGOUT`: ends the connection and forgets the credentials. */
  logout(): Promise<void> {
    return this.#serial(async () => {
      this.#credentials = undefined;
      const conn = this.#conn;
      this.#conn = undefined;
      if (conn?.alive !== true) return;
      await this.#exchange(conn, ['LOGOUT']).catch(() => undefined);
      conn.end();
    });
  }

  /**
   * `PASSWORD`: changes the password (and the remembered one). Rejects with
   * {@link AccountdRefusedError} reason `AUTH` (old password wrong) or `WEAK`.
   * Not retried after a dropped connection: the caller cannot know whether it took effect.
   */
  async password(oldPassword: string, newPassword: string): Promise<void> {
    await this.#call(['PASSWORD', oldPassword, newPassword], { idempotent: false });
    if (this.#credentials !== undefined) this.#credentials.password = newPassword;
  }

  /** `FULLNAME name`: sets the full name. Rejects with reason `INVALID`. */
  async fullName(name: string): Promise<void> {
    await this.#call(['FULLNAME', name], { idempotent: true });
  }

  /** `FULLNAME` without an argument: the current full name. */
  async getFullName(): Promise<string> {
    const [name] = await this.#call(['FULLNAME'], { idempotent: true });
    return name ?? '';
  }

  /** `QUOTA`: storage and message usage against the limits (0 = no limit). */
  async quota(): Promise<QuotaStatus> {
    const data = await this.#call(['QUOTA'], { idempotent: true });
    const n = data.map(Number);
    if (n.length !== 4 || !n.every(Number.isSafeInteger)) {
      throw new VesperError(CLIENT_ERROR_CODES.protocol, 'accountd sent a malformed QUOTA reply');
    }
    const [bytesUsed, bytesLimit, messagesUsed, messagesLimit] = n as [
      number,
      number,
      number,
      number,
    ];
    return { bytesUsed, bytesLimit, messagesUsed, messagesLimit };
  }

  async #literal(command: string): Promise<string> {
    const [text] = await this.#call([command], { idempotent: true });
    if (text === undefined) {
      throw new VesperError(CLIENT_ERROR_CODES.protocol, `accountd sent an empty ${command} reply`);
    }
    return text;
  }

  /** `MAILSTATUS`: the forwarding settings. */
  async mailStatus(): Promise<ForwardingSettings> {
    return parseForwarding(await this.#literal('MAILSTATUS'));
  }

  /** `MAILCHANGE`: replaces the forwarding settings. Rejects with reason `INVALID`. */
  async mailChange(settings: ForwardingSettings): Promise<void> {
    await this.#call(['MAILCHANGE', formatForwarding(settings)], {
      literals: [1],
      idempotent: true,
    });
  }

  /** `VACATION`: the vacation message settings. */
  async vacation(): Promise<VacationSettings> {
    return parseVacation(await this.#literal('VACATION'));
  }

  /** `VACATIONCHANGE`: replaces the vacation settings. Rejects with reason `INVALID`. */
  async vacationChange(settings: VacationSettings): Promise<void> {
    await this.#call(['VACATIONCHANGE', formatVacation(settings)], {
      literals: [1],
      idempotent: true,
    });
  }

  /** `VACLOG`: the senders a vacation reply went to. */
  async vacLog(): Promise<VacationLogEntry[]> {
    return parseVacationLog(await this.#literal('VACLOG'));
  }

  /** `VACLOGCLEAR`: empties the vacation log. */
  async vacLogClear(): Promise<void> {
    await this.#call(['VACLOGCLEAR'], { idempotent: true });
  }

  /** `NOOP`: checks the connection (reopening it if needed). */
  async noop(): Promise<void> {
    await this.#call(['NOOP'], { idempotent: true });
  }

  /**
   * Drains: waits for the calls already made, then ends the connection with
   * `LOGOUT`. The credentials are kept, so a later call reconnects and logs in
   * again (a dormant session uses this). Idempotent while in progress; does
   * nothing after {@link destroy}.
   */
  close(): Promise<void> {
    if (this.#destroyed) return Promise.resolve();
    this.#closing ??= this.#serial(async () => {
      const conn = this.#conn;
      this.#conn = undefined;
      if (conn?.alive !== true) return;
      await this.#exchange(conn, ['LOGOUT']).catch(() => undefined);
      conn.end();
    }).finally(() => {
      this.#closing = undefined;
    });
    return this.#closing;
  }

  /**
   * Aborts: drops the connection (a call in flight rejects with
   * `VESPER_ACCOUNTD_CONNECTION_CLOSED`), forgets the credentials, and makes
   * every later call reject with `VESPER_ACCOUNTD_CLIENT_DESTROYED`. Idempotent.
   */
  destroy(): void {
    this.#destroyed = true;
    this.#credentials = undefined;
    this.#conn?.destroy();
    this.#conn = undefined;
  }
}
