/**
 * @module WebSockets for `src/web`: the handler, the client, and one-time token
 * authentication with its in-process and Redis stores.
 */
export { WebSocketHandler, parseSubprotocols } from './websocket-handler.js';
export {
  websocketConnect,
  WebSocketClientConnection,
  DEFAULT_MAX_MESSAGE_SIZE,
  type WebSocketConnectRequest,
  type WebSocketConnectOptions,
} from './websocket-client.js';
export {
  WebSocketError,
  WebSocketClosedError,
  WebSocketHandshakeError,
} from './websocket-errors.js';
export type {
  WebSocketMessage,
  WriteMessageOptions,
  ReceivedMessage,
} from './websocket-message.js';
export type { WebSocketCompressionOptions } from './compression-options.js';
export {
  DEFAULT_TOKEN_TTL_MS,
  TOKEN_BYTES,
  MAX_TOKEN_SUBJECT_BYTES,
  MAX_TOKEN_TTL_MS,
  isWellFormedToken,
  type TokenStore,
} from './token-store.js';
export { MemoryTokenStore, type MemoryTokenStoreOptions } from './memory-token-store.js';
export {
  RedisTokenStore,
  type RedisTokenClient,
  type RedisTokenStoreOptions,
  type RedisTokenStoreConnectOptions,
} from './redis-token-store.js';
export {
  WebSocketTokenAuth,
  WS_TOKEN_ARGUMENT,
  BEARER_SUBPROTOCOL_PREFIX,
  TOKEN_STORE_SETTING,
} from './token-auth.js';
