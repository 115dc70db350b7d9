/**
 * @module The init socket protocol: JSON lines between the frontend and the session server.
 */
export { initRequest } from './init-client.js';
export { JsonLineDecoder, encodeLine, MAX_LINE_BYTES, type DecodedLine } from './line-decoder.js';
export {
  parseInitRequest,
  failure,
  type InitRequest,
  type LoginRequest,
  type StatusRequest,
  type LoginIdentity,
  type InitReply,
  type LoginSuccess,
  type InitFailure,
  type InitErrorCode,
  type StatusReply,
  type SessionSummary,
  type SessionCookie,
} from './messages.js';
