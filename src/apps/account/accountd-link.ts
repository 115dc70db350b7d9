/**
 * @module The session's accountd connection: opened lazily on the first page
 * that needs it and logged in with the user's own password (kept in memory
 * only), kept open between requests, closed when the session goes dormant and
 * reopened by the next request.
 *
 * ```
 *  (none) ──first call──▶ LOGIN ──OK──▶ open ──close() (dormant)──▶ closed ──next call──▶ LOGIN ──▶ open
 *                           │  └─ down ──▶ (none): the next call tries again
 *                           └─ NO AUTH ──▶ rejected (final: no more LOGINs, which would count
 *                                          towards accountd's lockout of the account)
 * ```
 */
import { timingSafeEqual } from 'node:crypto';
import {
  AccountdClient,
  AccountdRefusedError,
  type AccountdEndpoint,
  type QuotaStatus,
} from '../../accountd/client/index.js';
import type { Logger } from '../../shared/log/index.js';
import { AccountServiceError, isServiceFailure } from './account-errors.js';

/** Options of {@link AccountdLink}. */
export interface AccountdLinkOptions {
  /** The account name. */
  user: string;
  /** The user's password, or null for a session opened without one (identity login). */
  password: string | null;
  /** Where accountd listens. */
  endpoint: AccountdEndpoint;
  /** Limit for connecting and for each reply, ms (`accountd.timeout`). */
  timeoutMs: number;
  /** How long a quota answer is reused, ms (`accountd.quota_cache`); 0 = never. */
  quotaCacheMs: number;
  /** For operator messages (never given the password). */
  log: Logger;
  /** Called when accountd becomes reachable again or stops being reachable. */
  onAvailability?: (available: boolean) => void;
  /** Clock for the quota cache. Default `Date.now`. */
  now?: () => number;
}

/** What {@link AccountdLink.state} reports. */
export type AccountdLinkState = 'idle' | 'open' | 'rejected' | 'no-credential' | 'closed-for-good';

/** Options of {@link AccountdLink.run}. */
export interface RunOptions {
  /**
   * Pass `NO AUTH`/`NO LOCKED` replies through to the caller instead of
   * treating them as a failed re-login (for `PASSWORD`, whose `NO AUTH` means
   * "the old password is wrong").
   */
  refusalsAreAnswers?: boolean;
}

/** One session's connection to accountd. */
export class AccountdLink {
  readonly #user: string;
  #password: string | null;
  readonly #endpoint: AccountdEndpoint;
  readonly #timeoutMs: number;
  readonly #quotaCacheMs: number;
  readonly #log: Logger;
  readonly #onAvailability: ((available: boolean) => void) | undefined;
  readonly #now: () => number;
  #client: AccountdClient | undefined;
  #loggedIn = false;
  #rejected: AccountServiceError | undefined;
  #destroyed = false;
  #available: boolean | undefined;
  #quota: { value: QuotaStatus; at: number } | undefined;

  /** Makes a link; nothing is connected until the first {@link run}. */
  constructor(options: AccountdLinkOptions) {
    this.#user = options.user;
    this.#password = options.password;
    this.#endpoint = options.endpoint;
    this.#timeoutMs = options.timeoutMs;
    this.#quotaCacheMs = options.quotaCacheMs;
    this.#log = options.log;
    this.#onAvailability = options.onAvailability;
    this.#now = options.now ?? Date.now;
  }

  /** Where the link stands: `open` while a logged-in connection is up. */
  get state(): AccountdLinkState {
    if (this.#destroyed) return 'closed-for-good';
    if (this.#password === null) return 'no-credential';
    if (this.#rejected !== undefined) return 'rejected';
    return this.#loggedIn && this.#client?.connected === true ? 'open' : 'idle';
  }

  /** True while a connection to accountd is open. */
  get connected(): boolean {
    return this.#client?.connected === true;
  }

  /**
   * True when `password` is the one this session holds, compared in constant
   * time (length aside). False for a session without a password.
   */
  passwordMatches(password: string): boolean {
    if (this.#password === null) return false;
    const a = Buffer.from(password, 'utf8');
    const b = Buffer.from(this.#password, 'utf8');
    return a.length === b.length && timingSafeEqual(a, b);
  }

  #markAvailable(available: boolean): void {
    if (this.#available === available) return;
    const before = this.#available;
    this.#available = available;
    if (available) {
      if (before === false) this.#log.info('accountd is reachable again.');
    } else {
      this.#log.warn('accountd is unavailable; account pages say so until it is back.');
    }
    // The first successful contact is not news; a change after that is.
    if (before !== undefined || !available) this.#onAvailability?.(available);
  }

  #unavailable(err: unknown): AccountServiceError {
    this.#markAvailable(false);
    return new AccountServiceError('unavailable', 'account services are unavailable', err);
  }

  /** The logged-in client, logging in first when needed. */
  async #loggedInClient(): Promise<AccountdClient> {
    if (this.#destroyed) {
      throw new AccountServiceError('unavailable', 'the session is ending');
    }
    if (this.#password === null) {
      throw new AccountServiceError(
        'no-credential',
        'this session was opened without a password, so it cannot use account services',
      );
    }
    if (this.#rejected !== undefined) throw this.#rejected;
    this.#client ??= new AccountdClient(this.#endpoint, { timeoutMs: this.#timeoutMs });
    if (!this.#loggedIn) {
      try {
        await this.#client.login(this.#user, this.#password);
      } catch (err) {
        throw this.#refusalOrFailure(err);
      }
      this.#loggedIn = true;
    }
    return this.#client;
  }

  /** Turns a failed (re-)login or call into the error pages understand. */
  #refusalOrFailure(err: unknown): unknown {
    if (err instanceof AccountdRefusedError && err.reason === 'AUTH') {
      this.#markAvailable(true);
      this.#rejected = new AccountServiceError(
        'rejected',
        'account services no longer accept the password this session was opened with',
        err,
      );
      this.#log.warn(
        'accountd refused the password this session logged in with; account pages are off for this session.',
      );
      this.#client?.destroy();
      this.#client = undefined;
      this.#loggedIn = false;
      return this.#rejected;
    }
    if (err instanceof AccountdRefusedError && err.reason === 'LOCKED') {
      this.#markAvailable(true);
      this.#loggedIn = false;
      return new AccountServiceError('locked', 'the account is locked for a while', err);
    }
    if (isServiceFailure(err)) return this.#unavailable(err);
    return err;
  }

  /**
   * Runs `fn` with the logged-in client. Rejects with
   * {@link AccountServiceError} when accountd is unavailable (`unavailable`),
   * refuses this session's password (`rejected`, final), has locked the
   * account (`locked`), or the session has no password (`no-credential`);
   * other refusals (`NO INVALID`, `NO WEAK`, ...) reach the caller as the
   * client's {@link AccountdRefusedError}.
   */
  async run<T>(fn: (client: AccountdClient) => Promise<T>, options: RunOptions = {}): Promise<T> {
    const client = await this.#loggedInClient();
    try {
      const result = await fn(client);
      this.#markAvailable(true);
      return result;
    } catch (err) {
      if (
        options.refusalsAreAnswers === true &&
        err instanceof AccountdRefusedError &&
        (err.reason === 'AUTH' || err.reason === 'LOCKED')
      ) {
        throw err;
      }
      throw this.#refusalOrFailure(err);
    }
  }

  /**
   * The quota, from accountd or from the cache when the last answer is younger
   * than `accountd.quota_cache` and `fresh` is false. Rejects as {@link run}.
   */
  async quota(fresh = false): Promise<{ quota: QuotaStatus; changed: boolean }> {
    const cached = this.#quota;
    if (!fresh && cached !== undefined && this.#now() - cached.at < this.#quotaCacheMs) {
      return { quota: cached.value, changed: false };
    }
    const value = await this.run((c) => c.quota());
    this.#quota = { value, at: this.#now() };
    const changed =
      cached !== undefined &&
      (cached.value.bytesUsed !== value.bytesUsed ||
        cached.value.bytesLimit !== value.bytesLimit ||
        cached.value.messagesUsed !== value.messagesUsed ||
        cached.value.messagesLimit !== value.messagesLimit);
    return { quota: value, changed };
  }

  /** Remembers a password this session changed successfully (memory only). */
  passwordChanged(newPassword: string): void {
    this.#password = newPassword;
  }

  /**
   * Ends the connection (`LOGOUT`) but keeps what is needed to log in again
   * on the next {@link run}: what a dormant session does. Never rejects.
   */
  async close(): Promise<void> {
    const client = this.#client;
    if (client === undefined) return;
    // The client logs in again by itself on its next call after close().
    await client.close().catch(() => undefined);
  }

  /**
   * Ends the connection for good and forgets the password; every later
   * {@link run} rejects. Idempotent; never rejects.
   */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#password = null;
    const client = this.#client;
    this.#client = undefined;
    if (client === undefined) return;
    await client.logout().catch(() => undefined);
    client.destroy();
  }
}
