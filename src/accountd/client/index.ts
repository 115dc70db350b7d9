/**
 * @module The accountd client library.
 */
export {
  AccountdClient,
  type AccountdClientOptions,
  type LoginOptions,
} from './accountd-client.js';
export {
  AccountdRefusedError,
  AccountdProtocolError,
  CLIENT_ERROR_CODES,
} from './client-errors.js';
export { endpointFromConfig, type AccountdEndpoint } from './endpoint.js';
export type {
  ForwardingSettings,
  VacationSettings,
  VacationLogEntry,
  QuotaStatus,
} from '../protocol/settings-text.js';
