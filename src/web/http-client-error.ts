/**
 * @module HTTPClientError: why an `AsyncHTTPClient.fetch` failed, with the HTTP
 * status (599 when no response arrived) and the response if there was one.
 */
import { STATUS_CODES } from 'node:http';
import { VesperError } from '../shared/errors/index.js';
import type { HTTPResponse } from './http-response.js';

/** Stable codes of {@link HTTPClientError}. */
export type HTTPClientErrorCode =
  /** The server answered with a status outside 2xx. */
  | 'VESPER_WEB_HTTP_CLIENT_RESPONSE'
  /** Redirects went on past `maxRedirects` (the last 3xx response is attached). */
  | 'VESPER_WEB_HTTP_CLIENT_TOO_MANY_REDIRECTS'
  /** A redirect pointed to a URL the client cannot follow (not http/https). */
  | 'VESPER_WEB_HTTP_CLIENT_BAD_REDIRECT'
  /** 599: `connectTimeout` or `requestTimeout` passed. */
  | 'VESPER_WEB_HTTP_CLIENT_TIMEOUT'
  /** 599: connecting failed or the connection broke before a response (the cause says how). */
  | 'VESPER_WEB_HTTP_CLIENT_CONNECTION'
  /** 599: the body (after decompression) would pass `maxBodySize`. */
  | 'VESPER_WEB_HTTP_CLIENT_BODY_TOO_LARGE'
  /** 599: the response was malformed or cut short, or its compressed body was invalid. */
  | 'VESPER_WEB_HTTP_CLIENT_BAD_RESPONSE'
  /** 599: the client was closed or destroyed. */
  | 'VESPER_WEB_HTTP_CLIENT_CLOSED';

/**
 * A failed fetch, Tornado's `HTTPClientError`. Tornado's `code` (the HTTP
 * status) is `statusCode` here, because `code` is the stable error code every
 * `VesperError` carries. `statusCode` 599 means no HTTP response arrived
 * (timeout, refused connection, oversized or broken body); `cause` then holds
 * the underlying error.
 */
export class HTTPClientError extends VesperError {
  /** The HTTP status, or 599 when no (complete) response arrived. */
  readonly statusCode: number;
  /** The response, when one arrived (non-2xx, too many redirects). */
  readonly response: HTTPResponse | undefined;

  constructor(
    statusCode: number,
    options: {
      code?: HTTPClientErrorCode;
      message?: string;
      response?: HTTPResponse;
      cause?: unknown;
    } = {},
  ) {
    const text = options.message ?? STATUS_CODES[statusCode] ?? 'Unknown';
    super(options.code ?? 'VESPER_WEB_HTTP_CLIENT_RESPONSE', `HTTP ${statusCode}: ${text}`, {
      cause: options.cause,
    });
    this.statusCode = statusCode;
    this.response = options.response;
  }
}
