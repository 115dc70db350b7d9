/**
 * @module The public face of `src/web/auth`: OAuth 2.0 login (`OAuth2Mixin`) and
 * OpenID Connect (`OpenIdConnect`) with the building blocks they share.
 */
export { AuthError, type AuthErrorCode } from './auth-error.js';
export {
  OAuth2Mixin,
  oauth2Request,
  defaultStateReplayGuard,
  PROTECTED_AUTHORIZE_PARAMS,
  type OAuth2Handler,
  type OAuth2MixinClass,
  type MixinConstructor,
  type RequestHandlerConstructor,
  type AuthorizeRedirectOptions,
  type OAuth2AuthenticatedUserOptions,
  type OAuth2RequestOptions,
} from './oauth2-mixin.js';
export {
  OpenIdConnect,
  type OpenIdConnectOptions,
  type OpenIdAuthorizeOptions,
  type OpenIdCallbackOptions,
  type OpenIdUser,
} from './openid-connect.js';
export {
  buildTokenRequest,
  parseTokenResponse,
  type OAuth2TokenResponse,
  type TokenEndpointAuthMethod,
  type TokenRequest,
  type TokenRequestParams,
} from './oauth2-token.js';
export { validateIdToken, type IdTokenClaims, type IdTokenValidationOptions } from './id-token.js';
export {
  discoveryUrl,
  parseProviderMetadata,
  type OpenIdProviderMetadata,
  type ParseProviderMetadataOptions,
} from './oidc-discovery.js';
export { JwksCache, type JwksCacheOptions } from './jwks-cache.js';
export {
  createPkcePair,
  createCodeVerifier,
  codeChallengeS256,
  isValidCodeVerifier,
  type PkcePair,
} from './pkce.js';
export {
  issueAuthState,
  consumeAuthState,
  DEFAULT_AUTH_STATE_COOKIE,
  DEFAULT_AUTH_STATE_MAX_AGE,
  type AuthStateCookieHandler,
  type AuthStateCookieOptions,
  type IssuedAuthState,
} from './auth-state-cookie.js';
export type { AuthStateRecord } from './auth-state.js';
export {
  MemoryStateReplayGuard,
  type StateReplayGuard,
  type MemoryStateReplayGuardOptions,
} from './state-replay-guard.js';
