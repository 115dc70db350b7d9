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
