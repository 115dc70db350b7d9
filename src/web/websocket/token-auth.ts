/**
 * @module `WebSocketTokenAuth`: a mixin that admits a WebSocket only with a
 * one-time token from a {@link TokenStore} (seed 001, DESIGN §3).
 */
import { VesperError } from '../../shared/errors/index.js';
import type { HTTPServerRequest } from '../http-server-request.js';
import { HttpError } from '../web-errors.js';
import type { TokenStore } from './token-store.js';
import type { WebSocketHandler } from './websocket-handler.js';

/** The query argument that carries the token: `.../ws?ws_token=<token>`. */
export const WS_TOKEN_ARGUMENT = 'ws_token';

/**
 * The prefix of a `Sec-WebSocket-Protocol` entry that carries the token instead:
 * `new WebSocket(url, ['app.v1', 'bearer.' + token])`.
 */
export const BEARER_SUBPROTOCOL_PREFIX = 'bearer.';

/** The application setting that holds the store the mixin consumes tokens from. */
export const TOKEN_STORE_SETTING = 'websocketTokenStore';

/** The tokens each handler was presented, taken off its request at construction. */
const presented = new WeakMap<WebSocketHandler, string[]>();

// TypeScript's mixin pattern requires a constructor type whose only parameter
// is `...args: any[]` (TS2545); nothing else here uses `any`.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Constructor<T> = new (...args: any[]) => T;

/** What {@link WebSocketTokenAuth} adds to a handler class. */
export interface TokenAuthenticated {
  /**
   * The store tokens are consumed from: the `websocketTokenStore` setting by
   * default; override to pick another.
   * @throws VesperError `VESPER_WEB_SETTING_REQUIRED` when it is not set.
   */
  getTokenStore(): TokenStore;
}

/**
 * Makes a WebSocket handler class admit a connection only with a valid
 * one-time token:
 *
 * ```ts
 * class Live extends WebSocketTokenAuth(WebSocketHandler) {
 *   override open() { this.log.info(`${String(this.currentUser)} is live`); }
 * }
 * new Application([['/ws', Live]], { websocketTokenStore: new MemoryTokenStore() });
 * ```
 *
 * The token travels as the `ws_token` query argument (what a browser page does,
 * seed 001) or as a `bearer.<token>` entry of `Sec-WebSocket-Protocol` (for
 * clients that would rather keep it out of URLs). Presenting more than one
 * distinct token is refused.
 *
 * * When the handler is constructed, the token is taken off the request: the
 *   argument disappears from `request.arguments`/`queryArguments`, its value
 *   becomes `[redacted]` in `request.uri` and `request.query` (so the access log,
 *   error logs and the application never see it), and the `bearer.` entry is
 *   removed from the request's `Sec-WebSocket-Protocol` header.
 * * `authorizeUpgrade()` runs after the handshake checks (a malformed or
 *   cross-origin handshake does not burn a token) and before the upgrade: it
 *   consumes the token from the store named by the `websocketTokenStore`
 *   setting (or `getTokenStore()`), and refuses with an ordinary
 *   `401 Unauthorized` when there is none, it is unknown, already used or
 *   expired. Otherwise `currentUser` is the token's subject.
 * * The `bearer.` entry is never offered to `selectSubprotocol` nor echoed.
 *   Browsers fail a connection that offered subprotocols when the server picks
 *   none, so a browser using `bearer.` must also offer a real subprotocol and
 *   the handler must select it.
 */
export function WebSocketTokenAuth<TBase extends Constructor<WebSocketHandler>>(
  Base: TBase,
): TBase & Constructor<TokenAuthenticated> {
  // The declared return type names only the public additions: the inferred
  // class type would expose the base's #private members, which a declaration
  // file cannot express (TS4094).
  return class extends Base implements TokenAuthenticated {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the mixin constructor (TS2545)
    constructor(...args: any[]) {
      // eslint-disable-next-line @typescript-eslint/no-unsafe-argument -- passed through untouched
      super(...args);
      presented.set(this, takeTokens(this.request));
    }

    /** {@inheritDoc TokenAuthenticated.getTokenStore} */
    getTokenStore(): TokenStore {
      const store = this.settings[TOKEN_STORE_SETTING] as TokenStore | undefined;
      if (store === undefined || typeof store.consume !== 'function') {
        throw new VesperError(
          'VESPER_WEB_SETTING_REQUIRED',
          `WebSocketTokenAuth needs the '${TOKEN_STORE_SETTING}' application setting (a TokenStore).`,
        );
      }
      return store;
    }

    /**
     * Consumes the presented token; sets `currentUser` to its subject.
     * @throws HttpError 401 without a valid token.
     */
    override async authorizeUpgrade(): Promise<void> {
      await super.authorizeUpgrade();
      const tokens = presented.get(this) ?? [];
      presented.delete(this);
      if (tokens.length === 0) {
        throw new HttpError(401, 'no WebSocket token was presented');
      }
      if (tokens.length > 1) {
        throw new HttpError(401, 'more than one WebSocket token was presented');
      }
      const subject = await this.getTokenStore().consume(tokens[0]!);
      if (subject === null) {
        throw new HttpError(401, 'the WebSocket token is unknown, used or expired');
      }
      this.currentUser = subject;
    }

    /** The offered subprotocols without the `bearer.` entry. */
    override offeredSubprotocols(): string[] {
      return super.offeredSubprotocols().filter((p) => !p.startsWith(BEARER_SUBPROTOCOL_PREFIX));
    }
  };
}

/** A query-string name, decoded, or `null` when it does not decode. */
function decodedName(part: string): string | null {
  const eq = part.indexOf('=');
  const raw = eq < 0 ? part : part.slice(0, eq);
  try {
    return decodeURIComponent(raw.replaceAll('+', ' '));
  } catch {
    return null;
  }
}

/**
 * Takes every token off `request` (see {@link WebSocketTokenAuth}) and returns
 * the distinct ones.
 */
function takeTokens(request: HTTPServerRequest): string[] {
  const tokens = new Set<string>();
  for (const value of request.queryArguments[WS_TOKEN_ARGUMENT] ?? []) {
    tokens.add(value.toString('utf8'));
  }
  if (request.query !== '' && WS_TOKEN_ARGUMENT in request.queryArguments) {
    const query = request.query
      .split('&')
      .map((part) =>
        decodedName(part) === WS_TOKEN_ARGUMENT ? `${WS_TOKEN_ARGUMENT}=[redacted]` : part,
      )
      .join('&');
    // The request is read-only to applications; this is the one place that
    // rewrites it, so that nothing downstream can log or reuse the token.
    const writable = request as { uri: string; query: string };
    writable.query = query;
    writable.uri = `${request.path}?${query}`;
    delete request.queryArguments[WS_TOKEN_ARGUMENT];
    delete request.arguments[WS_TOKEN_ARGUMENT];
    const raw = request.connection?.upgrade?.req;
    if (raw !== undefined) raw.url = writable.uri;
  }
  const protocols = request.headers.get('Sec-WebSocket-Protocol');
  if (protocols !== undefined && protocols.includes(BEARER_SUBPROTOCOL_PREFIX)) {
    const kept: string[] = [];
    for (const entry of protocols.split(',')) {
      const name = entry.trim();
      if (name.startsWith(BEARER_SUBPROTOCOL_PREFIX)) {
        tokens.add(name.slice(BEARER_SUBPROTOCOL_PREFIX.length));
      } else {
        kept.push(name);
      }
    }
    const raw = request.connection?.upgrade?.req;
    if (kept.length > 0) {
      request.headers.set('Sec-WebSocket-Protocol', kept.join(', '));
      if (raw !== undefined) raw.headers['sec-websocket-protocol'] = kept.join(', ');
    } else {
      request.headers.delete('Sec-WebSocket-Protocol');
      if (raw !== undefined) delete raw.headers['sec-websocket-protocol'];
    }
  }
  return [...tokens];
}
