/**
 * @module Accepts a pre-authenticated identity (from the OpenID login) on the init socket.
 */
import type { LoginRequest } from '../init-protocol/index.js';
import type { AuthResult, Authenticator } from './authenticator.js';

/**
 * Accepts a login that carries `identity` instead of a password: the frontend
 * has already verified it (an OpenID Connect ID token) and mapped it to the
 * account. The trust boundary is the init socket itself (mode 0600 in a 0700
 * directory): only the Vesper user can connect to it, so only Vesper's own
 * frontend can present an identity. When `issuers` is given, other issuers are
 * refused as `bad-credentials`. The session gets no credential.
 */
export class IdentityAuthenticator implements Authenticator {
  readonly name = 'identity';
  readonly #issuers: ReadonlySet<string> | null;

  /** `issuers`: the issuers to accept; omitted means any. */
  constructor(options: { readonly issuers?: readonly string[] } = {}) {
    this.#issuers = options.issuers === undefined ? null : new Set(options.issuers);
  }

  authenticate(request: LoginRequest): Promise<AuthResult> {
    const id = request.identity;
    if (id === undefined || (this.#issuers !== null && !this.#issuers.has(id.issuer))) {
      return Promise.resolve({
        ok: false,
        error: 'bad-credentials',
        message: 'The identity is not accepted.',
      });
    }
    return Promise.resolve({ ok: true, credential: null });
  }
}
