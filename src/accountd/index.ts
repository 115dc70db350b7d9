/**
 * @module accountd's public entry: the server, the store, the client and
 * the protocol, plus start-up helpers on a configuration.
 */
export * from './client/index.js';
export * from './server/index.js';
export * from './store/index.js';
export * from './protocol/index.js';
export { ensureDemoUsers, DEMO_USERS, DEMO_PASSWORD } from './demo-users.js';
export { startAccountd, type StartAccountdOverrides } from './start-accountd.js';
export { openAccountStore, accountsDir, mailDir } from './store-from-config.js';
