/**
 * @module The OAuth2 token endpoint: the authorization-code grant request with
 * client authentication and PKCE verifier, and the strict reading of its answer
 * (RFC 6749 sections 4.1.3 to 5.2).
 */
import { AuthError } from './auth-error.js';

/**
 * How the client authenticates at the token endpoint (RFC 6749 section 2.3.1,
 * OpenID Connect Core section 9): the secret in the form body, in an HTTP Basic
 * `Authorization` header, or not at all (a public client, protected by PKCE alone).
 */
export type TokenEndpointAuthMethod = 'client_secret_post' | 'client_secret_basic' | 'none';

/** A successful token response (RFC 6749 section 5.1); extra fields are kept. */
export interface OAuth2TokenResponse {
  readonly access_token: string;
  readonly token_type: string;
  readonly expires_in?: number;
  readonly refresh_token?: string;
  readonly scope?: string;
  /** Present in OpenID Connect responses. */
  readonly id_token?: string;
  readonly [field: string]: unknown;
}

/** What {@link buildTokenRequest} needs. */
export interface TokenRequestParams {
  code: string;
  redirectUri: string;
  clientId: string;
  clientSecret?: string | undefined;
  codeVerifier: string;
  authMethod: TokenEndpointAuthMethod;
  /** Further form fields; they cannot replace the ones above. */
  extraParams?: Readonly<Record<string, string>> | undefined;
}

/** The form body and headers of a token request. */
export interface TokenRequest {
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

// RFC 6749 section 2.3.1: client id and secret are form-urlencoded (Appendix B)
// before they are joined for Basic authentication.
function formEncode(value: string): string {
  return encodeURIComponent(value)
    .replace(/%20/g, '+')
    .replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The `grant_type=authorization_code` request: `code`, `redirect_uri`,
 * `code_verifier`, and the client's credentials as `authMethod` says.
 *
 * @throws AuthError `VESPER_WEB_AUTH_CONFIG` when the method needs a secret and
 *   none is given.
 */
export function buildTokenRequest(params: TokenRequestParams): TokenRequest {
  const form = new URLSearchParams(params.extraParams);
  form.set('grant_type', 'authorization_code');
  form.set('code', params.code);
  form.set('redirect_uri', params.redirectUri);
  form.set('code_verifier', params.codeVerifier);
  const headers: Record<string, string> = {
    'Content-Type': 'application/x-www-form-urlencoded',
    Accept: 'application/json',
  };
  const secret = params.clientSecret;
  if (params.authMethod !== 'none' && (secret === undefined || secret === '')) {
    throw new AuthError(
      'VESPER_WEB_AUTH_CONFIG',
      `The token endpoint authentication method ${params.authMethod} needs a client secret.`,
    );
  }
  switch (params.authMethod) {
    case 'client_secret_basic':
      form.delete('client_id');
      form.delete('client_secret');
      headers.Authorization = `Basic ${Buffer.from(`${formEncode(params.clientId)}:${formEncode(secret!)}`).toString('base64')}`;
      break;
    case 'client_secret_post':
      form.set('client_id', params.clientId);
      form.set('client_secret', secret!);
      break;
    case 'none':
      form.set('client_id', params.clientId);
      form.delete('client_secret');
      break;
  }
  return { body: form.toString(), headers };
}

function describe(value: unknown): string {
  return typeof value === 'string' ? value.replace(/[^\x20-\x7e]/g, '?').slice(0, 200) : '';
}

/**
 * Reads the token endpoint's answer: a JSON object with a string `access_token`
 * and `token_type` on 200, an `error` object (RFC 6749 section 5.2) otherwise.
 *
 * @throws AuthError `VESPER_WEB_AUTH_TOKEN_REFUSED` for `invalid_grant` (a used,
 *   expired or foreign code, or a wrong PKCE verifier); `..._CLIENT_REJECTED` for
 *   the other 4xx errors (`invalid_client`, `unauthorized_client`, ...);
 *   `..._PROVIDER_UNREACHABLE` for a 5xx; `..._PROVIDER_RESPONSE` for anything
 *   that is not the JSON the protocol prescribes.
 */
export function parseTokenResponse(status: number, body: Buffer): OAuth2TokenResponse {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    json = undefined;
  }
  const obj =
    typeof json === 'object' && json !== null && !Array.isArray(json)
      ? (json as Record<string, unknown>)
      : undefined;
  if (status >= 500) {
    throw new AuthError(
      'VESPER_WEB_AUTH_PROVIDER_UNREACHABLE',
      `The token endpoint failed with HTTP ${status}.`,
    );
  }
  if (status !== 200) {
    const error = describe(obj?.error);
    const detail = describe(obj?.error_description);
    const text = `The token endpoint refused the code with HTTP ${status}${error === '' ? '' : ` ${error}`}${detail === '' ? '' : `: ${detail}`}.`;
    if (error === 'invalid_grant') throw new AuthError('VESPER_WEB_AUTH_TOKEN_REFUSED', text);
    if (status >= 400 && status < 500 && error !== '')
      throw new AuthError('VESPER_WEB_AUTH_CLIENT_REJECTED', text);
    throw new AuthError('VESPER_WEB_AUTH_PROVIDER_RESPONSE', text);
  }
  if (obj === undefined) {
    throw new AuthError(
      'VESPER_WEB_AUTH_PROVIDER_RESPONSE',
      'The token endpoint answered with something other than a JSON object.',
    );
  }
  if (typeof obj.access_token !== 'string' || obj.access_token === '') {
    throw new AuthError(
      'VESPER_WEB_AUTH_PROVIDER_RESPONSE',
      'The token endpoint answered without an access_token.',
    );
  }
  if (typeof obj.token_type !== 'string' || obj.token_type === '') {
    throw new AuthError(
      'VESPER_WEB_AUTH_PROVIDER_RESPONSE',
      'The token endpoint answered without a token_type.',
    );
  }
  if (obj.id_token !== undefined && typeof obj.id_token !== 'string') {
    throw new AuthError(
      'VESPER_WEB_AUTH_PROVIDER_RESPONSE',
      'The token endpoint answered with a non-string id_token.',
    );
  }
  return obj as OAuth2TokenResponse;
}
