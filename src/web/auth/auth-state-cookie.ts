/**
 * @module Binding a login to the browser that started it: the signed, short-lived,
 * single-use cookie holding `state`, the PKCE verifier and the OpenID nonce.
 */
import { HttpError } from '../web-errors.js';
import type { RequestHandler } from '../request-handler.js';
import {
  authValuesEqual,
  decodeAuthState,
  encodeAuthState,
  newAuthStateValue,
  type AuthStateRecord,
} from './auth-state.js';
import { createPkcePair } from './pkce.js';
import type { StateReplayGuard } from './state-replay-guard.js';

/** The default name of the state cookie. */
export const DEFAULT_AUTH_STATE_COOKIE = '_vesper_oauth2_state';

/** The default lifetime of a login attempt, in seconds (10 minutes). */
export const DEFAULT_AUTH_STATE_MAX_AGE = 600;

/**
 * The parts of a `RequestHandler` the state cookie uses; any `RequestHandler`
 * is one.
 */
export type AuthStateCookieHandler = Pick<
  RequestHandler,
  'request' | 'setSignedCookie' | 'getSignedCookie' | 'getCookie' | 'clearCookie'
>;

/** Options shared by {@link issueAuthState} and {@link consumeAuthState}. */
export interface AuthStateCookieOptions {
  /** Cookie name. Default {@link DEFAULT_AUTH_STATE_COOKIE}. */
  cookieName?: string;
  /** Lifetime of a login attempt in seconds. Default {@link DEFAULT_AUTH_STATE_MAX_AGE}. */
  maxAgeSeconds?: number;
  /** The clock in milliseconds. Default `Date.now`. */
  clock?: () => number;
}

/** What {@link issueAuthState} returns: the values to put in the authorization URL. */
export interface IssuedAuthState {
  readonly state: string;
  readonly codeChallenge: string;
  readonly codeChallengeMethod: 'S256';
  /** Present when `withNonce` was set. */
  readonly nonce?: string;
}

// The cookie is sent only to the callback: its path is the redirect URI's path.
function callbackPath(redirectUri: string): string {
  try {
    return new URL(redirectUri, 'http://callback.invalid').pathname;
  } catch {
    return '/';
  }
}

/**
 * Starts a login: makes a fresh `state`, PKCE pair and (with `withNonce`) an
 * OpenID nonce, and stores them with `redirectUri` in a signed cookie that is
 * `HttpOnly`, `SameSite=Lax` (it must come back on the provider's top-level
 * redirect), `Secure` on https, scoped to the redirect URI's path, and lives
 * `maxAgeSeconds`.
 *
 * @throws whatever `setSignedCookie` throws (no `cookieSecret` configured).
 */
export function issueAuthState(
  handler: AuthStateCookieHandler,
  redirectUri: string,
  options: AuthStateCookieOptions & { withNonce?: boolean } = {},
): IssuedAuthState {
  const maxAge = options.maxAgeSeconds ?? DEFAULT_AUTH_STATE_MAX_AGE;
  const pkce = createPkcePair();
  const nonce = options.withNonce === true ? newAuthStateValue() : undefined;
  const now = (options.clock ?? Date.now)();
  const record: AuthStateRecord = {
    state: newAuthStateValue(),
    codeVerifier: pkce.codeVerifier,
    redirectUri,
    issuedAt: Math.floor(now / 1000),
    ...(nonce === undefined ? {} : { nonce }),
  };
  handler.setSignedCookie(
    options.cookieName ?? DEFAULT_AUTH_STATE_COOKIE,
    encodeAuthState(record),
    {
      // Both: Max-Age for current browsers, expires for old ones (and it
      // overrides setSignedCookie's default of 30 days).
      expires: now + maxAge * 1000,
      maxAge,
      path: callbackPath(redirectUri),
      httpOnly: true,
      sameSite: 'Lax',
      secure: handler.request.protocol === 'https',
    },
  );
  return {
    state: record.state,
    codeChallenge: pkce.codeChallenge,
    codeChallengeMethod: pkce.codeChallengeMethod,
    ...(nonce === undefined ? {} : { nonce }),
  };
}

/**
 * Ends a login at the callback: clears the state cookie whatever happens (it is
 * single use), then checks, in this order:
 *
 * - the callback carried a `state` parameter, else HTTP 400 "Missing OAuth2 state";
 * - the browser sent the state cookie, else HTTP 400 "No login in progress";
 * - its signature is valid and its record well formed, else HTTP 403 "Invalid
 *   login state" (a tampered or foreign cookie);
 * - the login started less than `maxAgeSeconds` ago, else HTTP 403 "Login expired";
 * - `state` equals the cookie's, compared in constant time, else HTTP 403
 *   "OAuth2 state mismatch" (a forged callback: login CSRF);
 * - `replayGuard`, when given, has not seen this state, else HTTP 403 "OAuth2
 *   state already used".
 *
 * @returns the record: the PKCE verifier, nonce and redirect URI for the code exchange.
 * @throws HttpError as listed.
 */
export async function consumeAuthState(
  handler: AuthStateCookieHandler,
  state: string | undefined,
  options: AuthStateCookieOptions & { replayGuard?: StateReplayGuard | null } = {},
): Promise<AuthStateRecord> {
  const name = options.cookieName ?? DEFAULT_AUTH_STATE_COOKIE;
  const maxAge = options.maxAgeSeconds ?? DEFAULT_AUTH_STATE_MAX_AGE;
  const present = handler.getCookie(name) !== undefined;
  // The signature's own age limit is twice the login's, so that an old but
  // genuine cookie is reported as "Login expired" by the issuedAt check below
  // (inside the signed record, so just as trustworthy).
  const signed = present
    ? handler.getSignedCookie(name, { maxAgeDays: (2 * maxAge) / 86400 })
    : null;
  handler.clearCookie(name, { path: handler.request.path });

  if (state === undefined || state === '') {
    throw new HttpError(400, 'The OAuth2 callback carries no state parameter.', {
      reason: 'Missing OAuth2 state',
    });
  }
  if (!present) {
    throw new HttpError(
      400,
      'The OAuth2 callback came without the state cookie: no login was started in this browser, or it was already completed.',
      {
        reason: 'No login in progress',
      },
    );
  }
  const record = signed === null ? null : decodeAuthState(signed.toString('utf8'));
  if (record === null) {
    throw new HttpError(
      403,
      'The OAuth2 state cookie has a bad signature, is expired or is malformed.',
      {
        reason: 'Invalid login state',
      },
    );
  }
  const now = (options.clock ?? Date.now)();
  if (record.issuedAt * 1000 + maxAge * 1000 <= now) {
    throw new HttpError(403, 'The login took longer than the state cookie lives.', {
      reason: 'Login expired',
    });
  }
  if (!authValuesEqual(state, record.state)) {
    throw new HttpError(403, 'The OAuth2 state parameter does not match the state cookie.', {
      reason: 'OAuth2 state mismatch',
    });
  }
  const guard = options.replayGuard;
  if (guard !== undefined && guard !== null) {
    const fresh = await guard.consume(record.state, record.issuedAt * 1000 + maxAge * 1000);
    if (!fresh) {
      throw new HttpError(403, 'The OAuth2 state cookie was already used for a login.', {
        reason: 'OAuth2 state already used',
      });
    }
  }
  return record;
}
