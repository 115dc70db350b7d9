/**
 * @module The public entry of Vesper's Tornado-style web framework (`vesper/web`).
 * Everything an application uses is exported from here.
 */
export * from './httputil.js';
export {
  HTTPServerRequest,
  hostNameOf,
  type HTTPServerRequestInit,
} from './http-server-request.js';
export * from './signed-value.js';
export * from './xsrf-token.js';
export * from './escape.js';
export * from './template/index.js';
export {
  IOStream,
  serverHandshake,
  DEFAULT_MAX_BUFFER_SIZE,
  DEFAULT_READ_CHUNK_SIZE,
  type IOStreamOptions,
  type ConnectOptions,
  type StartTlsOptions,
  type ServerTlsOptions,
} from './iostream.js';
export {
  StreamClosedError,
  UnsatisfiableReadError,
  StreamBufferFullError,
} from './iostream-errors.js';
export {
  bindSockets,
  bindUnixSocket,
  addAcceptHandler,
  acceptedAddress,
  DEFAULT_BACKLOG,
  type AcceptedAddress,
} from './netutil.js';
export { probeUnixSocket, type UnixSocketState } from './unix-socket-probe.js';
export { TCPServer, type TCPServerOptions } from './tcp-server.js';
export { IOLoop, TimeoutHandle } from './ioloop.js';
export { PeriodicCallback, type PeriodicCallbackOptions } from './periodic-callback.js';
export { TimeoutError } from './timeout-error.js';
export {
  AsyncHTTPClient,
  DEFAULT_MAX_BODY_SIZE,
  DEFAULT_USER_AGENT,
  type AsyncHTTPClientOptions,
  type FetchOptions,
} from './http-client.js';
export { HTTPClientError, type HTTPClientErrorCode } from './http-client-error.js';
export {
  HTTPRequest,
  STANDARD_METHODS,
  type HTTPRequestOptions,
  type HTTPHeadersInit,
} from './http-request.js';
export { HTTPResponse, type HTTPResponseInit } from './http-response.js';
export * from './web-errors.js';
export * from './http-connection.js';
export * from './routing.js';
export * from './output-transform.js';
export * from './set-cookie.js';
export * from './ui-module.js';
export * from './request-handler.js';
export * from './builtin-handlers.js';
export * from './authenticated.js';
export * from './web-server.js';
export * from './application.js';
export * from './testing.js';
export * from './redact-uri.js';
export * from './websocket/index.js';
export { StaticFileHandler, parseRangeHeader, type StaticContent } from './static-file-handler.js';
export { guessMimeType } from './mime-types.js';
export * from './auth/index.js';
