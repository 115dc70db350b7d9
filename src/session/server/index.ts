/**
 * @module The session server.
 */
export { SessionServer, type SessionServerOptions } from './session-server.js';
export { SessionRegistry, type SessionRecord } from './session-registry.js';
export { SessionProcessHandle, minimalEnv, type SpawnOptions } from './session-process-handle.js';
export { SparePool, type SparePoolOptions } from './spare-pool.js';
export { InitListener, type InitListenerOptions } from './init-listener.js';
export {
  fetchStatus,
  requestShutdown,
  type SessionStatus,
  type ControlResult,
} from './control-client.js';
export { ensureSocketDir } from './socket-dir.js';
