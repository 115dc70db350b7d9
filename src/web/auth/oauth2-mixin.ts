/**
 * @module `OAuth2Mixin`: Tornado's `tornado.auth.OAuth2Mixin` as a TypeScript
 * mixin over `RequestHandler`, with `state` and PKCE always on.
 */
import type { RequestHandler } from '../request-handler.js';
import type { AsyncHTTPClient } from '../http-client.js';
import { urlConcat } from '../httputil.js';
import { AuthError } from './auth-error.js';
import {
  DEFAULT_AUTH_STATE_COOKIE,
  DEFAULT_AUTH_STATE_MAX_AGE,
  consumeAuthState,
  issueAuthState,
} from './auth-state-cookie.js';
import type { AuthStateRecord } from './auth-state.js';
import { MemoryStateReplayGuard, type StateReplayGuard } from './state-replay-guard.js';
import {
  buildTokenRequest,
  parseTokenResponse,
  type OAuth2TokenResponse,
  type TokenEndpointAuthMethod,
} from './oauth2-token.js';
import { defaultAuthHttpClient, providerFetch, providerJson } from './provider-http.js';

/**
 * A class whose instances are `T`, constructed with any arguments: the shape
 * TypeScript requires of mixin constructors (TS2545).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- TS2545 demands exactly `...args: any[]`.
export type MixinConstructor<T> = new (...args: any[]) => T;

/** The constructors `OAuth2Mixin` accepts: `RequestHandler` and its subclasses. */
export type RequestHandlerConstructor = MixinConstructor<RequestHandler>;

/** Options of `authorizeRedirect`. */
export interface AuthorizeRedirectOptions {
  /** Where the provider sends the browser back; registered with the provider. */
  redirectUri: string;
  clientId: string;
  /** Scopes, sent space-joined. */
  scope?: readonly string[];
  /**
   * Further query parameters (`access_type`, `prompt`, ...). They cannot
   * replace `state`, `code_challenge`, `code_challenge_method`, `nonce`,
   * `client_id`, `redirect_uri` or `response_type`.
   */
  extraParams?: Readonly<Record<string, string>>;
  /** Default `code`, the only type whose result this mixin can redeem. */
  responseType?: string;
}

/** Options of `getAuthenticatedUser`. */
export interface OAuth2AuthenticatedUserOptions {
  /**
   * The redirect URI the login started with. Default: the one kept in the state
   * cookie. When given, it must equal that one.
   */
  redirectUri?: string;
  /** The authorization code. Default: the `code` query argument. */
  code?: string;
  clientId: string;
  /** Needed unless `OAUTH_TOKEN_ENDPOINT_AUTH_METHOD` is `none`. */
  clientSecret?: string;
  /** Further form fields for the token request. */
  extraParams?: Readonly<Record<string, string>>;
}

/** Options of `oauth2Request`. */
export interface OAuth2RequestOptions {
  /** Sent as the `access_token` query argument (Tornado's way) or, with `bearer`, as a header. */
  accessToken?: string;
  /**
   * Send the token in `Authorization: Bearer` (RFC 6750 section 2.1) instead of
   * the query, where it could end up in logs. Default false, as in Tornado.
   */
  bearer?: boolean;
  /** When given, the request is a POST with these form fields. */
  postArgs?: Readonly<Record<string, string>>;
  /** Further query arguments. */
  args?: Readonly<Record<string, string>>;
}

/**
 * The replay guard handlers use unless they set `OAUTH_STATE_REPLAY_GUARD`:
 * one per process.
 */
export const defaultStateReplayGuard: StateReplayGuard = new MemoryStateReplayGuard();

/** Parameters `authorizeRedirect` sets itself; `extraParams` cannot replace them. */
export const PROTECTED_AUTHORIZE_PARAMS: readonly string[] = [
  'state',
  'code_challenge',
  'code_challenge_method',
  'nonce',
  'client_id',
  'redirect_uri',
  'response_type',
];

/**
 * Builds the authorization URL: `endpoint` with `response_type`, `client_id`,
 * `redirect_uri`, `scope`, the extra parameters, and the protected `state`,
 * `code_challenge`, `code_challenge_method` (and `nonce`) last.
 */
export function authorizationUrl(
  endpoint: string,
  options: AuthorizeRedirectOptions,
  bound: Readonly<Record<string, string>>,
): string {
  const args: Record<string, string> = {
    response_type: options.responseType ?? 'code',
    client_id: options.clientId,
    redirect_uri: options.redirectUri,
  };
  if (options.scope !== undefined && options.scope.length > 0) args.scope = options.scope.join(' ');
  for (const [k, v] of Object.entries(options.extraParams ?? {})) {
    if (!PROTECTED_AUTHORIZE_PARAMS.includes(k)) args[k] = v;
  }
  return urlConcat(endpoint, { ...args, ...bound });
}

/**
 * What `OAuth2Mixin` adds to a handler class; see {@link OAuth2Mixin} for each
 * member.
 */
export interface OAuth2Handler {
  /** The provider's authorization endpoint (Tornado's `_OAUTH_AUTHORIZE_URL`). Required. */
  OAUTH_AUTHORIZE_URL: string;
  /** The provider's token endpoint (Tornado's `_OAUTH_ACCESS_TOKEN_URL`). Required for `getAuthenticatedUser`. */
  OAUTH_ACCESS_TOKEN_URL: string;
  /** How the client authenticates at the token endpoint. Default `client_secret_post` (Tornado's). */
  OAUTH_TOKEN_ENDPOINT_AUTH_METHOD: TokenEndpointAuthMethod;
  /** Name of the signed state cookie. Default `_vesper_oauth2_state`. */
  OAUTH_STATE_COOKIE: string;
  /** Seconds a login may take between redirect and callback. Default 600. */
  OAUTH_STATE_MAX_AGE: number;
  /** Remembers used states; `null` relies on the cookie being cleared alone. Default: one per process. */
  OAUTH_STATE_REPLAY_GUARD: StateReplayGuard | null;
  authorizeRedirect(options: AuthorizeRedirectOptions): Promise<void>;
  getAuthenticatedUser(options: OAuth2AuthenticatedUserOptions): Promise<OAuth2TokenResponse>;
  consumeOAuthState(): Promise<AuthStateRecord>;
  exchangeOAuthCode(
    record: AuthStateRecord,
    options: OAuth2AuthenticatedUserOptions,
  ): Promise<OAuth2TokenResponse>;
  oauth2Request(url: string, options?: OAuth2RequestOptions): Promise<unknown>;
  getAuthHttpClient(): AsyncHTTPClient;
}

/** The class `OAuth2Mixin(Base)` returns: `Base` with the {@link OAuth2Handler} members. */
export type OAuth2MixinClass<TBase extends RequestHandlerConstructor> = TBase &
  MixinConstructor<OAuth2Handler>;

/**
 * Adds OAuth 2.0 login to a `RequestHandler` class, as Tornado's `OAuth2Mixin`
 * does, for the authorization code flow:
 *
 * ```ts
 * class GlobusLogin extends OAuth2Mixin(RequestHandler) {
 *   override OAUTH_AUTHORIZE_URL = 'https://auth.globus.org/v2/oauth2/authorize';
 *   override OAUTH_ACCESS_TOKEN_URL = 'https://auth.globus.org/v2/oauth2/token';
 *   override async get() {
 *     const { key, secret, redirectUri } = GLOBUS; // from the application's configuration
 *     if (this.getQueryArgument('code', undefined) === undefined) {
 *       return this.authorizeRedirect({ redirectUri, clientId: key, scope: ['openid', 'email'] });
 *     }
 *     const tokens = await this.getAuthenticatedUser({ clientId: key, clientSecret: secret });
 *     const user = await this.oauth2Request(USERINFO_URL, { accessToken: tokens.access_token, bearer: true });
 *     ...
 *   }
 * }
 * ```
 *
 * Beyond Tornado, which leaves both to the application: `authorizeRedirect`
 * always sends a random `state` and a PKCE S256 challenge, keeping `state`, the
 * verifier and the redirect URI in a signed, HttpOnly, SameSite=Lax cookie
 * (Secure on https) that lives `OAUTH_STATE_MAX_AGE` seconds;
 * `getAuthenticatedUser` checks `state` against it in constant time, clears it
 * (single use) and sends the verifier with the code. The application therefore
 * needs the `cookieSecret` setting.
 *
 * The endpoints and policies are instance fields a subclass overrides; the
 * methods take option objects rather than Tornado's keyword arguments.
 */
export function OAuth2Mixin<TBase extends RequestHandlerConstructor>(
  Base: TBase,
): OAuth2MixinClass<TBase> {
  class OAuth2HandlerImpl extends Base implements OAuth2Handler {
    /** The provider's authorization endpoint. Required. */
    OAUTH_AUTHORIZE_URL = '';
    /** The provider's token endpoint. Required for `getAuthenticatedUser`. */
    OAUTH_ACCESS_TOKEN_URL = '';
    /** How the client authenticates at the token endpoint. Default `client_secret_post` (Tornado's). */
    OAUTH_TOKEN_ENDPOINT_AUTH_METHOD: TokenEndpointAuthMethod = 'client_secret_post';
    /** Name of the signed state cookie. */
    OAUTH_STATE_COOKIE = DEFAULT_AUTH_STATE_COOKIE;
    /** Seconds a login may take between redirect and callback. */
    OAUTH_STATE_MAX_AGE = DEFAULT_AUTH_STATE_MAX_AGE;
    /** Remembers used states; `null` relies on the cookie being cleared alone. */
    OAUTH_STATE_REPLAY_GUARD: StateReplayGuard | null = defaultStateReplayGuard;

    /**
     * Redirects the browser to the provider to log in (Tornado's
     * `authorize_redirect`), with a fresh `state` and PKCE challenge bound to
     * this browser by the signed state cookie.
     *
     * @throws AuthError `VESPER_WEB_AUTH_CONFIG` without `OAUTH_AUTHORIZE_URL`;
     *   VesperError `VESPER_WEB_SETTING_REQUIRED` without `cookieSecret`.
     */
    authorizeRedirect(options: AuthorizeRedirectOptions): Promise<void> {
      if (this.OAUTH_AUTHORIZE_URL === '') {
        throw new AuthError(
          'VESPER_WEB_AUTH_CONFIG',
          `${this.constructor.name} has no OAUTH_AUTHORIZE_URL.`,
        );
      }
      const issued = issueAuthState(this, options.redirectUri, {
        cookieName: this.OAUTH_STATE_COOKIE,
        maxAgeSeconds: this.OAUTH_STATE_MAX_AGE,
      });
      return this.redirect(
        authorizationUrl(this.OAUTH_AUTHORIZE_URL, options, {
          state: issued.state,
          code_challenge: issued.codeChallenge,
          code_challenge_method: issued.codeChallengeMethod,
        }),
      );
    }

    /**
     * Completes the login at the redirect URI (Tornado's
     * `GoogleOAuth2Mixin.get_authenticated_user`): checks `state` against the
     * state cookie and clears it, then exchanges the code, with the PKCE
     * verifier, at `OAUTH_ACCESS_TOKEN_URL`.
     *
     * @returns the token response (`access_token`, `token_type`, `expires_in`,
     *   `refresh_token`, `id_token`, ...).
     * @throws HttpError 400/403 for a missing, forged, expired, tampered or
     *   replayed state (see `consumeAuthState`), 400 without a code; AuthError
     *   `VESPER_WEB_AUTH_DENIED` when the provider sent an `error` back, and the
     *   token endpoint's errors (see `parseTokenResponse`).
     */
    async getAuthenticatedUser(
      options: OAuth2AuthenticatedUserOptions,
    ): Promise<OAuth2TokenResponse> {
      const record = await this.consumeOAuthState();
      return this.exchangeOAuthCode(record, options);
    }

    /**
     * Checks and clears the state cookie against the callback's `state` and
     * `error` arguments; the first half of `getAuthenticatedUser`.
     *
     * @throws as `getAuthenticatedUser`.
     */
    async consumeOAuthState(): Promise<AuthStateRecord> {
      const record = await consumeAuthState(this, this.getQueryArgument('state', undefined), {
        cookieName: this.OAUTH_STATE_COOKIE,
        maxAgeSeconds: this.OAUTH_STATE_MAX_AGE,
        replayGuard: this.OAUTH_STATE_REPLAY_GUARD,
      });
      assertNoCallbackError(this);
      return record;
    }

    /**
     * Redeems the authorization code with the verifier from `record`; the second
     * half of `getAuthenticatedUser`.
     *
     * @throws as `getAuthenticatedUser`.
     */
    async exchangeOAuthCode(
      record: AuthStateRecord,
      options: OAuth2AuthenticatedUserOptions,
    ): Promise<OAuth2TokenResponse> {
      if (this.OAUTH_ACCESS_TOKEN_URL === '') {
        throw new AuthError(
          'VESPER_WEB_AUTH_CONFIG',
          `${this.constructor.name} has no OAUTH_ACCESS_TOKEN_URL.`,
        );
      }
      return exchangeAuthorizationCode(
        this,
        this.getAuthHttpClient(),
        this.OAUTH_ACCESS_TOKEN_URL,
        record,
        {
          ...options,
          authMethod: this.OAUTH_TOKEN_ENDPOINT_AUTH_METHOD,
        },
      );
    }

    /**
     * Fetches a provider API URL and returns its decoded JSON (Tornado's
     * `oauth2_request`): a GET, or a POST of `postArgs` as a form, with the
     * access token in the query (as Tornado does) or, with `bearer`, in the
     * `Authorization` header.
     *
     * @throws AuthError `VESPER_WEB_AUTH_PROVIDER_UNREACHABLE` when the request
     *   fails or answers 5xx, `VESPER_WEB_AUTH_PROVIDER_RESPONSE` for another
     *   non-2xx status or a body that is not JSON.
     */
    async oauth2Request(url: string, options: OAuth2RequestOptions = {}): Promise<unknown> {
      return oauth2Request(this.getAuthHttpClient(), url, options);
    }

    /**
     * The HTTP client for requests to the provider (Tornado's
     * `get_auth_http_client`). Default: one shared client; override to use
     * another (a proxy, custom CA, test doubles).
     */
    getAuthHttpClient(): AsyncHTTPClient {
      return defaultAuthHttpClient();
    }
  }
  return OAuth2HandlerImpl;
}

/**
 * Raises when the provider sent the browser back with an `error` argument
 * (RFC 6749 section 4.1.2.1: `access_denied` when the user declined).
 *
 * @throws AuthError `VESPER_WEB_AUTH_DENIED` naming the error.
 */
export function assertNoCallbackError(handler: Pick<RequestHandler, 'getQueryArgument'>): void {
  const error = handler.getQueryArgument('error', undefined);
  if (error !== undefined) {
    const safe = error.replace(/[^\x20-\x7e]/g, '?').slice(0, 100);
    throw new AuthError(
      'VESPER_WEB_AUTH_DENIED',
      `The provider ended the login with the error "${safe}".`,
    );
  }
}

/**
 * Redeems an authorization code at `tokenUrl` with the PKCE verifier and
 * redirect URI from `record`. Used by `OAuth2Mixin` and `OpenIdConnect`.
 *
 * @throws HttpError 400 without a code; AuthError as `parseTokenResponse`,
 *   `VESPER_WEB_AUTH_CONFIG` when `options.redirectUri` differs from the one the
 *   login started with.
 */
export async function exchangeAuthorizationCode(
  handler: Pick<RequestHandler, 'getQueryArgument'>,
  client: AsyncHTTPClient,
  tokenUrl: string,
  record: AuthStateRecord,
  options: OAuth2AuthenticatedUserOptions & { authMethod: TokenEndpointAuthMethod },
): Promise<OAuth2TokenResponse> {
  if (options.redirectUri !== undefined && options.redirectUri !== record.redirectUri) {
    throw new AuthError(
      'VESPER_WEB_AUTH_CONFIG',
      'The redirect URI given for the code exchange is not the one the login started with.',
    );
  }
  const code = options.code ?? handler.getQueryArgument('code');
  const request = buildTokenRequest({
    code,
    redirectUri: record.redirectUri,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    codeVerifier: record.codeVerifier,
    authMethod: options.authMethod,
    extraParams: options.extraParams,
  });
  const response = await providerFetch(
    client,
    tokenUrl,
    { method: 'POST', ...request },
    'the token endpoint',
  );
  return parseTokenResponse(response.status, response.body);
}

/**
 * Tornado's `oauth2_request` without a handler: see `OAuth2Mixin.oauth2Request`.
 *
 * @throws as `OAuth2Mixin.oauth2Request`.
 */
export async function oauth2Request(
  client: AsyncHTTPClient,
  url: string,
  options: OAuth2RequestOptions = {},
): Promise<unknown> {
  const query: Record<string, string> = { ...options.args };
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (options.accessToken !== undefined) {
    if (options.bearer === true) headers.Authorization = `Bearer ${options.accessToken}`;
    else query.access_token = options.accessToken;
  }
  const target = Object.keys(query).length > 0 ? urlConcat(url, query) : url;
  const response =
    options.postArgs === undefined
      ? await providerFetch(client, target, { method: 'GET', headers }, url)
      : await providerFetch(
          client,
          target,
          {
            method: 'POST',
            headers: { ...headers, 'Content-Type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams(options.postArgs).toString(),
          },
          url,
        );
  return providerJson(response, url);
}
