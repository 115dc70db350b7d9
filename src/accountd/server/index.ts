/**
 * @module The accountd server: listeners, connections, commands and login throttling.
 */
export {
  AccountdServer,
  type AccountdServerOptions,
  type AccountdTlsListen,
} from './accountd-server.js';
export {
  LoginThrottle,
  type LoginThrottleOptions,
  type ThrottleVerdict,
  type FailureVerdict,
} from './login-throttle.js';
export { COMMAND_NAMES } from './command-handlers.js';
