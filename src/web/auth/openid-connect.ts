/**
 * @module `OpenIdConnect`: login with an OpenID Provider configured from its
 * discovery document, with `state`, PKCE and `nonce`, ID-token validation
 * against the provider's JWKS, and the userinfo `sub` check.
 */
import type { RequestHandler } from '../request-handler.js';
import type { AsyncHTTPClient } from '../http-client.js';
import { HttpError } from '../web-errors.js';
import { AuthError } from './auth-error.js';
import {
  DEFAULT_AUTH_STATE_COOKIE,
  DEFAULT_AUTH_STATE_MAX_AGE,
  consumeAuthState,
  issueAuthState,
} from './auth-state-cookie.js';
import { validateIdToken, type IdTokenClaims } from './id-token.js';
import { JwksCache } from './jwks-cache.js';
import {
  assertNoCallbackError,
  authorizationUrl,
  defaultStateReplayGuard,
  exchangeAuthorizationCode,
} from './oauth2-mixin.js';
import type { OAuth2TokenResponse, TokenEndpointAuthMethod } from './oauth2-token.js';
import {
  discoveryUrl,
  parseProviderMetadata,
  type OpenIdProviderMetadata,
} from './oidc-discovery.js';
import { defaultAuthHttpClient, providerFetch, providerJson } from './provider-http.js';
import type { StateReplayGuard } from './state-replay-guard.js';

/** Options of {@link OpenIdConnect}. */
export interface OpenIdConnectOptions {
  /** The provider's issuer identifier, e.g. `https://accounts.example.com`. */
  issuer: string;
  clientId: string;
  /** The client secret; leave out for a public client (PKCE alone). */
  clientSecret?: string;
  /**
   * Token endpoint authentication. Default: `none` without a secret, else
   * `client_secret_basic` when the provider lists it (or lists nothing; it is
   * the specification's default), else `client_secret_post`.
   */
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
  /** Scopes to request; `openid` is always added. Default `['openid']`. */
  scope?: readonly string[];
  /** The HTTP client for discovery, JWKS, token and userinfo requests. */
  httpClient?: AsyncHTTPClient;
  /** Fetch the userinfo endpoint after the code exchange. Default true. */
  fetchUserinfo?: boolean;
  /** Accepted ID-token algorithms. Default: what the provider advertises (asymmetric ones only). */
  algorithms?: readonly string[];
  /** Further ID-token audiences trusted besides the client itself. */
  trustedAudiences?: readonly string[];
  /** Clock skew tolerated on `exp`/`iat`, seconds. Default 60. */
  clockSkewSeconds?: number;
  /** Name of the signed state cookie. */
  stateCookie?: string;
  /** Seconds a login may take. Default 600. */
  stateMaxAgeSeconds?: number;
  /** Remembers used states; `null` relies on the cookie being cleared alone. */
  replayGuard?: StateReplayGuard | null;
  /** Accept plain-http provider endpoints off loopback (never in production). */
  allowInsecureHttp?: boolean;
  /** How long the discovery document is kept, seconds. Default 3600. */
  discoveryTtlSeconds?: number;
  /** Least time between JWKS refetches caused by unknown keys, ms. Default 30000. */
  jwksCooldownMs?: number;
}

/** Options of {@link OpenIdConnect.authorizeRedirect}. */
export interface OpenIdAuthorizeOptions {
  /** The callback URL registered with the provider. */
  redirectUri: string;
  /** Scopes for this login instead of the configured ones (`openid` is added). */
  scope?: readonly string[];
  /** Further parameters (`prompt`, `login_hint`, `acr_values`, ...). */
  extraParams?: Readonly<Record<string, string>>;
}

/** Options of {@link OpenIdConnect.getAuthenticatedUser}. */
export interface OpenIdCallbackOptions {
  /** Must equal the login's redirect URI when given; default: the one in the state cookie. */
  redirectUri?: string;
  /** The authorization code; default: the `code` query argument. */
  code?: string;
}

/** The outcome of a login. */
export interface OpenIdUser {
  /** The user's stable identifier at this provider (`sub`). */
  readonly sub: string;
  /** The validated ID token's claims. */
  readonly claims: IdTokenClaims;
  /** The userinfo response, undefined when not fetched or the provider has none. */
  readonly userinfo: Readonly<Record<string, unknown>> | undefined;
  /** The token response (`access_token`, `id_token`, `refresh_token`, ...). */
  readonly tokens: OAuth2TokenResponse;
}

/**
 * OpenID Connect login (authorization code flow) for request handlers. One
 * instance per provider, shared by all requests (put it in the application
 * settings or a module): it caches the discovery document and the JWKS.
 *
 * ```ts
 * const oidc = new OpenIdConnect({ issuer, clientId, clientSecret, scope: ['openid', 'email'] });
 * class Login extends RequestHandler {
 *   override async get() {
 *     if (this.getQueryArgument('code', undefined) === undefined &&
 *         this.getQueryArgument('error', undefined) === undefined) {
 *       return oidc.authorizeRedirect(this, { redirectUri: CALLBACK });
 *     }
 *     const user = await oidc.getAuthenticatedUser(this);
 *     this.setSignedCookie('user', user.sub);
 *     await this.redirect('/');
 *   }
 * }
 * ```
 *
 * The discovery document is fetched from `<issuer>/.well-known/openid-configuration`
 * and refused unless its `issuer` is exactly the configured one and it names the
 * authorization, token and JWKS endpoints over https (plain http only on loopback).
 */
export class OpenIdConnect {
  /** The configured issuer. */
  readonly issuer: string;
  /** The client id. */
  readonly clientId: string;
  readonly #options: OpenIdConnectOptions;
  readonly #discoveryUrl: string;
  #metadata: { value: Promise<OpenIdProviderMetadata>; expiresAt: number } | undefined;
  readonly #jwks: JwksCache;

  /**
   * @throws AuthError `VESPER_WEB_AUTH_CONFIG` when the issuer is not an http(s)
   *   URL or the client id is empty.
   */
  constructor(options: OpenIdConnectOptions) {
    this.#discoveryUrl = discoveryUrl(options.issuer);
    if (options.clientId === '') {
      throw new AuthError('VESPER_WEB_AUTH_CONFIG', 'OpenIdConnect needs a client id.');
    }
    this.issuer = options.issuer;
    this.clientId = options.clientId;
    this.#options = options;
    this.#jwks = new JwksCache({
      fetchJwks: async () => {
        const meta = await this.discover();
        return providerJson(
          await providerFetch(
            this.#client(),
            meta.jwksUri,
            { method: 'GET', headers: { Accept: 'application/json' } },
            'the JWKS',
          ),
          'the JWKS',
        );
      },
      ...(options.jwksCooldownMs === undefined ? {} : { cooldownMs: options.jwksCooldownMs }),
    });
  }

  /**
   * The provider's validated metadata, fetched on first use and kept for
   * `discoveryTtlSeconds`. Concurrent callers share one fetch; a failed fetch is
   * not kept.
   *
   * @throws AuthError `VESPER_WEB_AUTH_DISCOVERY_INVALID` (see
   *   `parseProviderMetadata`), `..._PROVIDER_UNREACHABLE`, `..._PROVIDER_RESPONSE`.
   */
  discover(): Promise<OpenIdProviderMetadata> {
    const now = Date.now();
    if (this.#metadata !== undefined && this.#metadata.expiresAt > now) return this.#metadata.value;
    const value = (async () => {
      const response = await providerFetch(
        this.#client(),
        this.#discoveryUrl,
        { method: 'GET', headers: { Accept: 'application/json' } },
        'the OpenID discovery document',
      );
      return parseProviderMetadata(
        providerJson(response, 'the OpenID discovery document'),
        this.issuer,
        {
          ...(this.#options.allowInsecureHttp === undefined
            ? {}
            : { allowInsecureHttp: this.#options.allowInsecureHttp }),
        },
      );
    })();
    const entry = { value, expiresAt: now + (this.#options.discoveryTtlSeconds ?? 3600) * 1000 };
    this.#metadata = entry;
    value.catch(() => {
      if (this.#metadata === entry) this.#metadata = undefined;
    });
    return value;
  }

  /**
   * Redirects the browser to the provider's authorization endpoint with
   * `response_type=code`, the scopes (with `openid`), a fresh `state`, PKCE S256
   * challenge and `nonce`, all three kept in the signed state cookie.
   *
   * @throws as {@link discover}; VesperError `VESPER_WEB_SETTING_REQUIRED`
   *   without the `cookieSecret` setting.
   */
  async authorizeRedirect(handler: RequestHandler, options: OpenIdAuthorizeOptions): Promise<void> {
    const meta = await this.discover();
    const scope = options.scope ?? this.#options.scope ?? ['openid'];
    const issued = issueAuthState(handler, options.redirectUri, {
      withNonce: true,
      cookieName: this.#options.stateCookie ?? DEFAULT_AUTH_STATE_COOKIE,
      maxAgeSeconds: this.#options.stateMaxAgeSeconds ?? DEFAULT_AUTH_STATE_MAX_AGE,
    });
    await handler.redirect(
      authorizationUrl(
        meta.authorizationEndpoint,
        {
          redirectUri: options.redirectUri,
          clientId: this.clientId,
          scope: scope.includes('openid') ? scope : ['openid', ...scope],
          ...(options.extraParams === undefined ? {} : { extraParams: options.extraParams }),
        },
        {
          state: issued.state,
          code_challenge: issued.codeChallenge,
          code_challenge_method: issued.codeChallengeMethod,
          nonce: issued.nonce!,
        },
      ),
    );
  }

  /**
   * Completes the login at the callback:
   *
   * 1. checks `state` against the state cookie in constant time and clears the
   *    cookie (single use);
   * 2. refuses an `error` sent back by the provider, and an `iss` argument that
   *    is not the issuer (RFC 9207; required when the provider advertises
   *    `authorization_response_iss_parameter_supported`);
   * 3. exchanges the code with the PKCE verifier at the token endpoint;
   * 4. validates the ID token (signature against the JWKS, `iss`, `aud`/`azp`,
   *    `exp`, `iat`, `nonce`, `at_hash`);
   * 5. fetches userinfo with the access token and checks its `sub` is the ID
   *    token's.
   *
   * @returns `{sub, claims, userinfo, tokens}`.
   * @throws HttpError 400/403 for a missing, forged, expired, tampered or
   *   replayed state, 400 without a code; AuthError for each later step
   *   (`VESPER_WEB_AUTH_DENIED`, `..._ISSUER_MISMATCH`, the token endpoint's
   *   errors, `..._ID_TOKEN_*`, `..._USERINFO_MISMATCH`, `..._PROVIDER_*`).
   */
  async getAuthenticatedUser(
    handler: RequestHandler,
    options: OpenIdCallbackOptions = {},
  ): Promise<OpenIdUser> {
    const record = await consumeAuthState(handler, handler.getQueryArgument('state', undefined), {
      cookieName: this.#options.stateCookie ?? DEFAULT_AUTH_STATE_COOKIE,
      maxAgeSeconds: this.#options.stateMaxAgeSeconds ?? DEFAULT_AUTH_STATE_MAX_AGE,
      replayGuard:
        this.#options.replayGuard === undefined
          ? defaultStateReplayGuard
          : this.#options.replayGuard,
    });
    const nonce = record.nonce;
    if (nonce === undefined) {
      // A state cookie from a plain OAuth2 login under the same name.
      throw new HttpError(403, 'The state cookie carries no OpenID nonce.', {
        reason: 'Invalid login state',
      });
    }
    assertNoCallbackError(handler);
    const meta = await this.discover();
    // RFC 9207: the iss parameter tells which provider sent the browser back,
    // against mix-up attacks when an application trusts several providers.
    const iss = handler.getQueryArgument('iss', undefined);
    if (iss === undefined && meta.raw.authorization_response_iss_parameter_supported === true) {
      throw new AuthError(
        'VESPER_WEB_AUTH_ISSUER_MISMATCH',
        'The callback lacks the iss parameter the provider promises (RFC 9207).',
      );
    }
    if (iss !== undefined && iss !== this.issuer) {
      throw new AuthError(
        'VESPER_WEB_AUTH_ISSUER_MISMATCH',
        'The callback came from another issuer than the one the login was sent to (RFC 9207).',
      );
    }
    const client = this.#client();
    const tokens = await exchangeAuthorizationCode(handler, client, meta.tokenEndpoint, record, {
      ...options,
      clientId: this.clientId,
      ...(this.#options.clientSecret === undefined
        ? {}
        : { clientSecret: this.#options.clientSecret }),
      authMethod: this.#authMethod(meta),
    });
    if (tokens.id_token === undefined) {
      throw new AuthError(
        'VESPER_WEB_AUTH_PROVIDER_RESPONSE',
        'The token response of an OpenID login has no id_token.',
      );
    }
    const claims = await validateIdToken(tokens.id_token, {
      issuer: this.issuer,
      clientId: this.clientId,
      getKey: this.#jwks.getKey,
      algorithms: this.#options.algorithms ?? meta.idTokenSigningAlgValuesSupported,
      nonce,
      accessToken: tokens.access_token,
      ...(this.#options.trustedAudiences === undefined
        ? {}
        : { trustedAudiences: this.#options.trustedAudiences }),
      ...(this.#options.clockSkewSeconds === undefined
        ? {}
        : { clockSkewSeconds: this.#options.clockSkewSeconds }),
    });
    let userinfo: Record<string, unknown> | undefined;
    if (this.#options.fetchUserinfo !== false && meta.userinfoEndpoint !== undefined) {
      const response = await providerFetch(
        client,
        meta.userinfoEndpoint,
        {
          method: 'GET',
          headers: { Accept: 'application/json', Authorization: `Bearer ${tokens.access_token}` },
        },
        'the userinfo endpoint',
      );
      userinfo = providerJson(response, 'the userinfo endpoint');
      // Core 5.3.2: the sub in the userinfo response MUST be verified to
      // exactly match the sub in the ID token, against token substitution.
      if (userinfo.sub !== claims.sub) {
        throw new AuthError(
          'VESPER_WEB_AUTH_USERINFO_MISMATCH',
          'The userinfo response is for another subject than the ID token.',
        );
      }
    }
    return { sub: claims.sub, claims, userinfo, tokens };
  }

  #authMethod(meta: OpenIdProviderMetadata): TokenEndpointAuthMethod {
    if (this.#options.tokenEndpointAuthMethod !== undefined)
      return this.#options.tokenEndpointAuthMethod;
    if (this.#options.clientSecret === undefined) return 'none';
    const supported = meta.tokenEndpointAuthMethodsSupported;
    if (supported.includes('client_secret_basic') || !supported.includes('client_secret_post')) {
      return 'client_secret_basic';
    }
    return 'client_secret_post';
  }

  #client(): AsyncHTTPClient {
    return this.#options.httpClient ?? defaultAuthHttpClient();
  }
}
