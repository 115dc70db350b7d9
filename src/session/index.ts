/**
 * @module Sessions: the session server, the session-process runtime and the application contract.
 */
export type { SessionApp, SessionAppContext, SessionAppFactory, SessionUrls } from './app.js';
export * from './session-identity.js';
export * from './init-protocol/index.js';
export * from './authenticators/index.js';
export * from './server/index.js';
export * from './process/index.js';
