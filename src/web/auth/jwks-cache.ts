/**
 * @module The provider's JSON Web Key Set, fetched on first use, kept, and
 * fetched again (at most once per cooldown) when a token names an unknown key.
 */
import type { CompactVerifyGetKey, JSONWebKeySet, createLocalJWKSet } from 'jose';
import { AuthError } from './auth-error.js';
import { loadJose } from './jose-loader.js';

/** Options of {@link JwksCache}. */
export interface JwksCacheOptions {
  /** Fetches the provider's `jwks_uri` and returns the parsed JSON. */
  fetchJwks: () => Promise<unknown>;
  /** Least time between two fetches caused by unknown keys, ms. Default 30000. */
  cooldownMs?: number;
  /** The clock, in milliseconds. Default `Date.now`. */
  clock?: () => number;
}

/**
 * A key resolver for `validateIdToken` backed by the provider's JWKS. The set is
 * fetched lazily; when a token's `kid` (or key type) matches nothing, the set is
 * fetched again, since providers rotate keys, but not more often than once per
 * cooldown, so a stream of forged `kid`s cannot make Vesper hammer the provider.
 * Concurrent callers share one fetch.
 */
export class JwksCache {
  readonly #fetchJwks: () => Promise<unknown>;
  readonly #cooldownMs: number;
  readonly #clock: () => number;
  #keys: ReturnType<typeof createLocalJWKSet> | undefined;
  #fetchedAt = -Infinity;
  #inflight: Promise<ReturnType<typeof createLocalJWKSet>> | undefined;

  constructor(options: JwksCacheOptions) {
    this.#fetchJwks = options.fetchJwks;
    this.#cooldownMs = options.cooldownMs ?? 30_000;
    this.#clock = options.clock ?? Date.now;
  }

  /** The resolver to pass as `getKey`. */
  readonly getKey: CompactVerifyGetKey = async (header, token) => {
    let keys = this.#keys ?? (await this.#refresh());
    try {
      return await keys(header, token);
    } catch (err) {
      const { errors } = await loadJose();
      if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
      if (this.#clock() - this.#fetchedAt < this.#cooldownMs) throw err;
      keys = await this.#refresh();
      return await keys(header, token);
    }
  };

  /** Forgets the keys; the next token fetches them again. */
  clear(): void {
    this.#keys = undefined;
    this.#fetchedAt = -Infinity;
  }

  #refresh(): Promise<ReturnType<typeof createLocalJWKSet>> {
    if (this.#inflight === undefined) {
      const loading = this.#load();
      this.#inflight = loading;
      const done = (): void => {
        if (this.#inflight === loading) this.#inflight = undefined;
      };
      loading.then(done, done);
    }
    return this.#inflight;
  }

  async #load(): Promise<ReturnType<typeof createLocalJWKSet>> {
    const body = await this.#fetchJwks();
    const jose = await loadJose();
    let keys: ReturnType<typeof createLocalJWKSet>;
    try {
      keys = jose.createLocalJWKSet(body as JSONWebKeySet);
    } catch (err) {
      throw new AuthError(
        'VESPER_WEB_AUTH_PROVIDER_RESPONSE',
        "The OpenID provider's JWKS is not a valid JSON Web Key Set.",
        { cause: err },
      );
    }
    this.#keys = keys;
    this.#fetchedAt = this.#clock();
    return keys;
  }
}
