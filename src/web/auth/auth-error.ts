/**
 * @module The error OAuth2 and OpenID Connect raise when a provider answers badly,
 * refuses a grant, or sends a token that does not validate.
 */
import { VesperError } from '../../shared/errors/index.js';

/**
 * Stable codes of {@link AuthError}. Each names one failed step so that a log
 * line (and a test) says exactly what went wrong:
 *
 * - `VESPER_WEB_AUTH_CONFIG`: the handler or helper is misconfigured (an
 *   endpoint or client id is missing); a programming error, HTTP 500.
 * - `VESPER_WEB_AUTH_PROVIDER_UNREACHABLE`: the provider could not be reached or
 *   answered with a server error; HTTP 502.
 * - `VESPER_WEB_AUTH_PROVIDER_RESPONSE`: the provider answered with something
 *   that is not the JSON the protocol prescribes; HTTP 502.
 * - `VESPER_WEB_AUTH_TOKEN_REFUSED`: the token endpoint refused the grant
 *   (`invalid_grant`: a used, expired or foreign code; a wrong PKCE verifier);
 *   HTTP 403.
 * - `VESPER_WEB_AUTH_CLIENT_REJECTED`: the token endpoint refused our client
 *   (`invalid_client`, `unauthorized_client`, ...): the client credentials or
 *   registration are wrong; HTTP 502.
 * - `VESPER_WEB_AUTH_DENIED`: the provider sent the browser back with an
 *   `error` (the user declined, or the provider refused the request); HTTP 403.
 * - `VESPER_WEB_AUTH_ISSUER_MISMATCH`: the callback's `iss` parameter names
 *   another provider (RFC 9207, mix-up defence); HTTP 403.
 * - `VESPER_WEB_AUTH_DISCOVERY_INVALID`: the OpenID discovery document is
 *   unusable (wrong issuer, missing endpoint, insecure URL); HTTP 502.
 * - `VESPER_WEB_AUTH_ID_TOKEN_MALFORMED`, `..._ID_TOKEN_ALGORITHM`,
 *   `..._ID_TOKEN_SIGNATURE`, `..._ID_TOKEN_ISSUER`, `..._ID_TOKEN_AUDIENCE`,
 *   `..._ID_TOKEN_EXPIRED`, `..._ID_TOKEN_ISSUED_AT`, `..._ID_TOKEN_NONCE`,
 *   `..._ID_TOKEN_AT_HASH`: the ID token failed that check (OpenID Connect
 *   Core 1.0 section 3.1.3.7); HTTP 403.
 * - `VESPER_WEB_AUTH_USERINFO_MISMATCH`: the userinfo `sub` is not the ID
 *   token's (Core section 5.3.2); HTTP 403.
 */
export type AuthErrorCode =
  | 'VESPER_WEB_AUTH_CONFIG'
  | 'VESPER_WEB_AUTH_PROVIDER_UNREACHABLE'
  | 'VESPER_WEB_AUTH_PROVIDER_RESPONSE'
  | 'VESPER_WEB_AUTH_TOKEN_REFUSED'
  | 'VESPER_WEB_AUTH_CLIENT_REJECTED'
  | 'VESPER_WEB_AUTH_DENIED'
  | 'VESPER_WEB_AUTH_ISSUER_MISMATCH'
  | 'VESPER_WEB_AUTH_DISCOVERY_INVALID'
  | 'VESPER_WEB_AUTH_ID_TOKEN_MALFORMED'
  | 'VESPER_WEB_AUTH_ID_TOKEN_ALGORITHM'
  | 'VESPER_WEB_AUTH_ID_TOKEN_SIGNATURE'
  | 'VESPER_WEB_AUTH_ID_TOKEN_ISSUER'
  | 'VESPER_WEB_AUTH_ID_TOKEN_AUDIENCE'
  | 'VESPER_WEB_AUTH_ID_TOKEN_EXPIRED'
  | 'VESPER_WEB_AUTH_ID_TOKEN_ISSUED_AT'
  | 'VESPER_WEB_AUTH_ID_TOKEN_NONCE'
  | 'VESPER_WEB_AUTH_ID_TOKEN_AT_HASH'
  | 'VESPER_WEB_AUTH_USERINFO_MISMATCH';

const STATUS: Record<AuthErrorCode, number> = {
  VESPER_WEB_AUTH_CONFIG: 500,
  VESPER_WEB_AUTH_PROVIDER_UNREACHABLE: 502,
  VESPER_WEB_AUTH_PROVIDER_RESPONSE: 502,
  VESPER_WEB_AUTH_TOKEN_REFUSED: 403,
  VESPER_WEB_AUTH_CLIENT_REJECTED: 502,
  VESPER_WEB_AUTH_DENIED: 403,
  VESPER_WEB_AUTH_ISSUER_MISMATCH: 403,
  VESPER_WEB_AUTH_DISCOVERY_INVALID: 502,
  VESPER_WEB_AUTH_ID_TOKEN_MALFORMED: 403,
  VESPER_WEB_AUTH_ID_TOKEN_ALGORITHM: 403,
  VESPER_WEB_AUTH_ID_TOKEN_SIGNATURE: 403,
  VESPER_WEB_AUTH_ID_TOKEN_ISSUER: 403,
  VESPER_WEB_AUTH_ID_TOKEN_AUDIENCE: 403,
  VESPER_WEB_AUTH_ID_TOKEN_EXPIRED: 403,
  VESPER_WEB_AUTH_ID_TOKEN_ISSUED_AT: 403,
  VESPER_WEB_AUTH_ID_TOKEN_NONCE: 403,
  VESPER_WEB_AUTH_ID_TOKEN_AT_HASH: 403,
  VESPER_WEB_AUTH_USERINFO_MISMATCH: 403,
};

/**
 * Tornado's `tornado.auth.AuthError`, as a {@link VesperError}: a login could
 * not be completed because of the provider or what it sent. `httpStatus` is the
 * status a handler answers with when the error reaches it (see
 * {@link AuthErrorCode}); the message is for the log and never contains a token
 * or a secret.
 */
export class AuthError extends VesperError {
  declare readonly code: AuthErrorCode;

  constructor(code: AuthErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, { httpStatus: STATUS[code], cause: options.cause });
  }
}
