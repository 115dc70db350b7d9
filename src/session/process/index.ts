/**
 * @module The session-process runtime (its entry is `main.ts`).
 */
export {
  SessionRuntime,
  answerEnded,
  type SessionRuntimeOptions,
  type ExitReason,
  type SessionState,
} from './session-runtime.js';
export { SerialQueue, type QueueSlot } from './serial-queue.js';
export { ManualClock, systemClock, type Clock, type TimerHandle } from './clock.js';
export { SessionUrlBuilder, type CookieState, type SessionUrlOptions } from './session-urls.js';
export { loadAppFactory } from './load-app.js';
export { createTokenStore } from './token-store.js';
export type {
  AssignMessage,
  PrepareMessage,
  ProcessMessage,
  ServerMessage,
} from './ipc-messages.js';
