/**
 * @module A session's URLs and the Prayer-style cookie negotiation that decides whether they carry the key.
 */
import type { TokenStore } from '../../web/index.js';
import type { SessionUrls } from '../app.js';
import { SESSION_COOKIE } from '../session-identity.js';

/**
 * Where the cookie negotiation stands:
 * `unsent` (nothing sent yet by this process), `sent` (set on a response, not
 * seen back yet), `confirmed` (it came back: URLs leave the key out),
 * `refused` (it did not come back: URLs keep the key).
 */
export type CookieState = 'unsent' | 'sent' | 'confirmed' | 'refused';

/** What {@link SessionUrlBuilder} needs. */
export interface SessionUrlOptions {
  readonly user: string;
  readonly key: string;
  readonly useCookie: boolean;
  readonly tokens: TokenStore;
  readonly tokenTtlMs: number;
}

/** Builds session URLs and tracks the cookie negotiation. */
export class SessionUrlBuilder implements SessionUrls {
  readonly #o: SessionUrlOptions;
  #state: CookieState = 'unsent';

  constructor(options: SessionUrlOptions) {
    this.#o = options;
  }

  /** The negotiation state. */
  get cookieState(): CookieState {
    return this.#state;
  }

  /**
   * Records whether an authenticated request brought the cookie back and
   * returns the `Set-Cookie` value its response must carry, or null.
   * The first request without the cookie gets it; the next one without it
   * settles the matter: the key stays in the URL.
   */
  negotiate(cookieCameBack: boolean, secure: boolean): string | null {
    if (cookieCameBack) {
      this.#state = 'confirmed';
      return null;
    }
    if (this.#state === 'unsent') {
      this.#state = 'sent';
      return this.cookie(secure);
    }
    if (this.#state === 'sent') this.#state = 'refused';
    return null;
  }

  /** The `Set-Cookie` value carrying the key. */
  cookie(secure: boolean): string {
    const { user, key } = this.#o;
    return (
      `${SESSION_COOKIE}=${key}; Path=/session/${user}/; HttpOnly; SameSite=Lax` +
      (secure ? '; Secure' : '')
    );
  }

  base(): string {
    const { user, key, useCookie } = this.#o;
    return useCookie && this.#state === 'confirmed'
      ? `/session/${user}//`
      : `/session/${user}/${key}/`;
  }

  url(cmd: string, ...args: string[]): string {
    return this.base() + [cmd, ...args].map((s) => encodeURIComponent(s)).join('/');
  }

  logout(): string {
    return `/session/${this.#o.user}/${this.#o.key}/logout`;
  }

  login(): string {
    return `/login/${this.#o.user}`;
  }

  async websocket(...path: string[]): Promise<string> {
    const token = await this.#o.tokens.issue(this.#o.user, this.#o.tokenTtlMs);
    return `${this.url('ws', ...path)}?ws_token=${token}`;
  }
}
