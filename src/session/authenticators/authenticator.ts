/**
 * @module The interface every login authenticator implements.
 */
import type { LoginRequest } from '../init-protocol/index.js';

/** The outcome of checking a login. */
export type AuthResult =
  | {
      readonly ok: true;
      /** What the session keeps in memory for backends that need the user's own login. */
      readonly credential: { readonly password: string } | null;
    }
  | {
      readonly ok: false;
      readonly error: 'bad-credentials' | 'locked-out' | 'unavailable';
      readonly message: string;
    };

/**
 * Checks one login request. Implementations never log the password and
 * answer every refusal through {@link AuthResult} rather than by throwing.
 */
export interface Authenticator {
  /** A short name for logs (`accountd`, `identity`). */
  readonly name: string;
  /** Checks `request`; resolves, never rejects. */
  authenticate(request: LoginRequest): Promise<AuthResult>;
}
