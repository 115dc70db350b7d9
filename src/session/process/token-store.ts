/**
 * @module The WebSocket token store a session uses, as `session.token_store` selects.
 */
import type { VesperConfig } from '../../shared/config/index.js';
import { VesperError } from '../../shared/errors/index.js';
import type { Logger } from '../../shared/log/index.js';
import { MemoryTokenStore } from '../../web/websocket/memory-token-store.js';
import { RedisTokenStore } from '../../web/websocket/redis-token-store.js';
import type { TokenStore } from '../../web/websocket/token-store.js';

/**
 * A memory store (tokens live in the session process) or a Redis store
 * (`redis.url`, shared by several hosts).
 * @throws VesperError `VESPER_WEB_TOKEN_STORE_UNAVAILABLE` when Redis cannot be
 *   reached; `VESPER_SESSION_TOKEN_STORE` when Redis is chosen without a URL.
 */
export async function createTokenStore(config: VesperConfig, log: Logger): Promise<TokenStore> {
  if (config.session.token_store === 'memory') return new MemoryTokenStore({ maxTokens: 1_000 });
  const url = config.redis.url;
  if (url === null) {
    throw new VesperError(
      'VESPER_SESSION_TOKEN_STORE',
      'session.token_store is redis but redis.url is not set.',
    );
  }
  return RedisTokenStore.connect(url, { log });
}
