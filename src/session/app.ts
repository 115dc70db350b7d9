/**
 * @module The contract between the session-process runtime and a session application.
 */
import type { VesperConfig } from '../shared/config/index.js';
import type { Logger } from '../shared/log/index.js';
import type { Application, HTTPServerRequest, TokenStore } from '../web/index.js';

/**
 * The URLs of one session, as the application should write them into its pages.
 *
 * The runtime negotiates the cookie as Prayer does: until the session cookie has
 * come back once, every URL carries the key (`/session/<user>/<key>/<cmd>`);
 * afterwards the key is left out (`/session/<user>//<cmd>`). Build links
 * through these helpers on every page rather than caching them.
 */
export interface SessionUrls {
  /** The prefix every session URL starts with, ending in `/`: `/session/alice/<key>/` or `/session/alice//`. */
  base(): string;
  /**
   * `base()` followed by `cmd` and `args`, each percent-encoded as one path
   * segment: `url('folder', 'INBOX/old')` → `/session/alice//folder/INBOX%2Fold`.
   */
  url(cmd: string, ...args: string[]): string;
  /** The logout URL; it always carries the key: `/session/alice/<key>/logout`. */
  logout(): string;
  /** The frontend's login page for this user: `/login/alice`. */
  login(): string;
  /**
   * Mints a one-time WebSocket token for this session (the context's
   * {@link TokenStore}, lifetime `session.ws_token_ttl`) and returns the URL to
   * open: `/session/alice/<key>/ws?ws_token=<token>` (the key is left out once
   * the cookie has come back). Optional `path` segments follow `ws`.
   * @throws VesperError `VESPER_WEB_TOKEN_STORE_UNAVAILABLE` when the store fails.
   */
  websocket(...path: string[]): Promise<string>;
}

/** What a session application is given when its session starts. */
export interface SessionAppContext {
  /** The account name the session belongs to. */
  user: string;
  /** The session's number, unique within the session server's lifetime; safe to log. */
  session: number;
  /** The whole loaded configuration (read-only). */
  config: VesperConfig;
  /** The session's logger, already bound to `user` and `session`. Never log the key. */
  log: Logger;
  /** The session's one-time WebSocket token store (the runtime also accepts its tokens on `…/ws`). */
  tokens: TokenStore;
  /**
   * The password the user logged in with, kept in memory only, for backends
   * that need the user's own login (accountd); `null` for pre-authenticated
   * (identity) logins. Never log it or write it to disk.
   */
  credential: { password: string } | null;
  /** When the login happened, ms since the epoch. */
  loginAt: number;
  /** True when the client's connection to the frontend was TLS at login. */
  clientTls: boolean;
  /** Session URLs for links and redirects. */
  urls: SessionUrls;
  /**
   * Hands the session's serial queue on to the next request while `request`
   * keeps streaming its response. Call it only after the response headers are
   * sent (`await this.flush()`), and only from a handler that touches no
   * session state afterwards. Idempotent; a no-op once the request finished.
   */
  releaseQueue(request: HTTPServerRequest): void;
}

/** A running session application. */
export interface SessionApp {
  /** A src/web Application whose routes are relative to `/session/<user>/<key>/` (so `/home`, `/ws`). */
  application: Application;
  /** Runs after `session.idle_time` without a request: close backend connections. */
  onDormant?(): Promise<void> | void;
  /** Runs before the first request after dormancy. */
  onWake?(): Promise<void> | void;
  /** True while a draft is in progress: the session then times out after `session.timeout_compose`. */
  hasDraft?(): boolean;
  /** Runs once when the session exits (logout, timeout, shutdown). */
  close?(): Promise<void> | void;
}

/** Creates the session application of one session; `session.app` selects it. */
export type SessionAppFactory = (ctx: SessionAppContext) => SessionApp | Promise<SessionApp>;
