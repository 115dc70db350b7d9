/**
 * @module The Redis-backed {@link TokenStore}, for several hosts sharing
 * sessions: any host may issue a token and any other may consume it (DESIGN §9).
 */
import { createHash } from 'node:crypto';
import { VesperError } from '../../shared/errors/index.js';
import { silentLogger, type Logger } from '../../shared/log/index.js';
import {
  checkIssueArguments,
  isWellFormedToken,
  newToken,
  tokenStoreClosedError,
  type TokenStore,
} from './token-store.js';

/**
 * The two commands the store needs, as node-redis (`redis` 5+) spells them. A
 * client from `createClient()` or `createCluster()` fits; so does a test double.
 * `GETDEL` needs Redis 6.2 or later.
 */
export interface RedisTokenClient {
  set(
    key: string,
    value: string,
    options: { expiration: { type: 'PX'; value: number }; condition: 'NX' },
  ): Promise<unknown>;
  getDel(key: string): Promise<unknown>;
}

/** Options of {@link RedisTokenStore}. */
export interface RedisTokenStoreOptions {
  /** Prepended to every key (default `vesper:wstoken:`), so deployments can share a Redis. */
  keyPrefix?: string;
  /** Where the store reports Redis connection trouble. Default: nowhere. */
  log?: Logger;
}

/** Options of {@link RedisTokenStore.connect}. */
export interface RedisTokenStoreConnectOptions extends RedisTokenStoreOptions {
  /** Give up connecting after this many milliseconds (default 5,000). */
  connectTimeoutMs?: number;
}

/** How long a command may wait for an owned client that is reconnecting. */
const OWNED_CLIENT_COMMAND_TIMEOUT_MS = 5_000;

/**
 * A {@link TokenStore} in Redis.
 *
 * * `issue` runs `SET <prefix><sha256(token)> <subject> NX PX <ttl>`: Redis
 *   expires the token itself, and `NX` guarantees a fresh key.
 * * `consume` runs `GETDEL`: one command, so of many concurrent consumers on any
 *   number of hosts exactly one gets the subject.
 *
 * Keys hold the SHA-256 of the token, never the token. Redis is a shared,
 * long-lived store that more people and programs can read than the session
 * process itself (`MONITOR`, `KEYS`, replicas, RDB/AOF dumps, backups); with
 * only the hash there, none of them can turn what they see into a working
 * bearer token. A plain, unsalted hash suffices because the token carries 256
 * random bits: there is nothing to guess by brute force.
 */
export class RedisTokenStore implements TokenStore {
  readonly #client: RedisTokenClient;
  readonly #keyPrefix: string;
  #release: (() => Promise<void>) | undefined;
  #closed = false;

  /**
   * Wraps a connected client that the caller owns (and closes).
   * @throws VesperError `VESPER_WEB_TOKEN_INVALID_ARGUMENT` for a non-string key prefix.
   */
  constructor(client: RedisTokenClient, options: RedisTokenStoreOptions = {}) {
    this.#client = client;
    this.#keyPrefix = options.keyPrefix ?? 'vesper:wstoken:';
    if (typeof this.#keyPrefix !== 'string') {
      throw new VesperError(
        'VESPER_WEB_TOKEN_INVALID_ARGUMENT',
        'invalid keyPrefix: expected a string',
      );
    }
  }

  /**
   * Connects a client of its own to `url` (`redis://host:port/db`) and returns a
   * store that closes it on {@link RedisTokenStore.close}. While Redis is away,
   * commands fail at once (or after five seconds without an answer) instead of
   * queueing, so a handshake is refused rather than left hanging.
   * @throws VesperError `VESPER_WEB_TOKEN_STORE_UNAVAILABLE` when Redis cannot be reached.
   */
  static async connect(
    url: string,
    options: RedisTokenStoreConnectOptions = {},
  ): Promise<RedisTokenStore> {
    const log = options.log ?? silentLogger;
    let connected = false;
    // Loaded on first use: the Redis client library costs every process that
    // imports the framework about 12 MiB, and most never use it.
    const { createClient } = await import('redis');
    const client = createClient({
      url,
      socket: {
        connectTimeout: options.connectTimeoutMs ?? 5_000,
        // While connecting for the first time, fail rather than retry: the
        // caller is starting up and wants to know. Afterwards, back off up to 2 s.
        reconnectStrategy: (retries: number, cause: Error) =>
          connected ? Math.min(50 * 2 ** retries, 2_000) : cause,
      },
      // Fail a command rather than queue it forever while Redis is away.
      disableOfflineQueue: true,
      commandOptions: { timeout: OWNED_CLIENT_COMMAND_TIMEOUT_MS },
    });
    client.on('error', (err: unknown) => {
      if (connected) log.warn({ err }, 'The Redis token store lost its connection; retrying.');
    });
    try {
      await client.connect();
    } catch (err) {
      client.destroy();
      throw new VesperError(
        'VESPER_WEB_TOKEN_STORE_UNAVAILABLE',
        'The Redis token store could not connect to Redis.',
        { cause: err },
      );
    }
    connected = true;
    const store = new RedisTokenStore(client, options);
    store.#release = () => client.close();
    return store;
  }

  /** The Redis key under which `token` is kept. */
  #key(token: string): string {
    return this.#keyPrefix + createHash('sha256').update(token).digest('base64url');
  }

  /** {@inheritDoc TokenStore.issue} */
  async issue(subject: string, ttlMs?: number): Promise<string> {
    if (this.#closed) throw tokenStoreClosedError();
    const ttl = checkIssueArguments(subject, ttlMs);
    // A collision of 256 random bits does not happen; NX makes sure that if it
    // ever did, the holder of the first token is not handed to someone else.
    for (;;) {
      const token = newToken();
      const reply = await this.#command(() =>
        this.#client.set(this.#key(token), subject, {
          expiration: { type: 'PX', value: ttl },
          condition: 'NX',
        }),
      );
      if (reply === 'OK') return token;
      if (reply !== null) {
        throw new VesperError(
          'VESPER_WEB_TOKEN_STORE_UNAVAILABLE',
          'Redis gave an unexpected answer to SET.',
        );
      }
    }
  }

  /** {@inheritDoc TokenStore.consume} */
  async consume(token: string): Promise<string | null> {
    if (this.#closed) throw tokenStoreClosedError();
    if (!isWellFormedToken(token)) return null;
    const reply = await this.#command(() => this.#client.getDel(this.#key(token)));
    if (reply === null) return null;
    if (typeof reply === 'string') return reply;
    if (Buffer.isBuffer(reply)) return reply.toString('utf8');
    throw new VesperError(
      'VESPER_WEB_TOKEN_STORE_UNAVAILABLE',
      'Redis gave an unexpected answer to GETDEL.',
    );
  }

  /** Runs one Redis command, turning its failure into a {@link VesperError}. */
  async #command(run: () => Promise<unknown>): Promise<unknown> {
    try {
      return await run();
    } catch (err) {
      throw new VesperError(
        'VESPER_WEB_TOKEN_STORE_UNAVAILABLE',
        'The Redis token store could not reach Redis.',
        { cause: err },
      );
    }
  }

  /** {@inheritDoc TokenStore.close} Closes the client only if {@link RedisTokenStore.connect} made it. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#release !== undefined) await this.#release();
  }
}
