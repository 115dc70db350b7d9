/**
 * @module HTTPResponse: what `AsyncHTTPClient.fetch` resolves with.
 */
import { VesperError } from '../shared/errors/index.js';
import type { HTTPClientError } from './http-client-error.js';
import type { HTTPHeaders } from './http-headers.js';
import type { HTTPRequest } from './http-request.js';

/** The fields an {@link HTTPResponse} is built from. */
export interface HTTPResponseInit {
  request: HTTPRequest;
  code: number;
  reason: string;
  headers: HTTPHeaders;
  body: Buffer;
  effectiveUrl: string;
  requestTime: number;
  startTime: number;
  error?: HTTPClientError;
}

/**
 * An HTTP response (Tornado's `HTTPResponse`). `request` is the request as
 * given to `fetch` (not the last redirect); `effectiveUrl` is where the
 * response finally came from. `code` 599 means no response arrived. A
 * decompressed body has its `Content-Encoding` header moved to
 * `X-Consumed-Content-Encoding`, as Tornado does.
 */
export class HTTPResponse {
  readonly request: HTTPRequest;
  /** The HTTP status (599: no response). */
  readonly code: number;
  /** The reason phrase sent by the server. */
  readonly reason: string;
  readonly headers: HTTPHeaders;
  /** The body, decompressed when `decompressResponse` was set. */
  readonly body: Buffer;
  /** The URL after redirects. */
  readonly effectiveUrl: string;
  /** Seconds from the start of `fetch` to the end of the response, redirects included. */
  readonly requestTime: number;
  /** When the fetch started, in milliseconds since the epoch. */
  readonly startTime: number;
  /**
   * Set when the fetch failed or the status is not 2xx (the client sets it
   * after construction, as the error refers back to this response).
   */
  error: HTTPClientError | undefined;

  constructor(init: HTTPResponseInit) {
    this.request = init.request;
    this.code = init.code;
    this.reason = init.reason;
    this.headers = init.headers;
    this.body = init.body;
    this.effectiveUrl = init.effectiveUrl;
    this.requestTime = init.requestTime;
    this.startTime = init.startTime;
    this.error = init.error;
  }

  /** The body decoded as text (UTF-8 unless told otherwise). */
  text(encoding: BufferEncoding = 'utf8'): string {
    return this.body.toString(encoding);
  }

  /**
   * The body parsed as JSON.
   * @throws {VesperError} `VESPER_WEB_HTTP_CLIENT_BAD_JSON` if it is not valid JSON.
   */
  json<T = unknown>(): T {
    try {
      return JSON.parse(this.text()) as T;
    } catch (err) {
      throw new VesperError(
        'VESPER_WEB_HTTP_CLIENT_BAD_JSON',
        `The response from ${this.effectiveUrl} is not valid JSON`,
        { cause: err },
      );
    }
  }

  /**
   * Throws {@link error} if there is one (Tornado's `rethrow`).
   * @throws {HTTPClientError}
   */
  rethrow(): void {
    if (this.error !== undefined) throw this.error;
  }
}
