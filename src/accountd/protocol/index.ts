/**
 * @module The accountd wire protocol, shared by the server and the client:
 * the resumable message parser, token encoding, replies and settings texts.
 */
export {
  MessageParser,
  type ParserLimits,
  type ParseEvent,
  type ParseErrorCode,
} from './message-parser.js';
export { percentEncode, encodeMessage } from './token-encoding.js';
export {
  okReply,
  noReply,
  badReply,
  decodeReply,
  type Reply,
  type ReplyCode,
  type ReplyStatus,
} from './reply.js';
export {
  formatForwarding,
  parseForwarding,
  formatVacation,
  parseVacation,
  formatVacationLog,
  parseVacationLog,
  type ForwardingSettings,
  type VacationSettings,
  type VacationLogEntry,
  type QuotaStatus,
} from './settings-text.js';
