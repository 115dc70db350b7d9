/**
 * @module Login authenticators of the session server.
 */
export type { Authenticator, AuthResult } from './authenticator.js';
export {
  AccountdAuthenticator,
  type AccountdAuthenticatorOptions,
} from './accountd-authenticator.js';
export { IdentityAuthenticator } from './identity-authenticator.js';
