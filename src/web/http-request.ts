/**
 * @module HTTPRequest: one outgoing request of the AsyncHTTPClient, with
 * Tornado's options and defaults.
 */
import { HTTPHeaders } from './http-headers.js';

/** Headers as an {@link HTTPRequest} accepts them. */
export type HTTPHeadersInit =
  HTTPHeaders | Record<string, string> | Iterable<readonly [string, string]>;

/** Options of an {@link HTTPRequest}; every one has Tornado's default. */
export interface HTTPRequestOptions {
  /** Default `GET`. */
  method?: string;
  headers?: HTTPHeadersInit;
  /** The request body; a string is sent as UTF-8. */
  body?: string | Uint8Array;
  /** Basic authentication (sent as `Authorization`; dropped on cross-origin redirects). */
  authUsername?: string;
  authPassword?: string;
  /** Seconds allowed to connect (TCP and TLS handshake). Default 20; 0 = none. */
  connectTimeout?: number;
  /** Seconds allowed for the whole request, queueing included. Default 20; 0 = none. */
  requestTimeout?: number;
  /** Sends `If-Modified-Since`. */
  ifModifiedSince?: Date;
  /** Follow 301, 302, 303, 307 and 308. Default true. */
  followRedirects?: boolean;
  /** How many redirects to follow before failing. Default 5. */
  maxRedirects?: number;
  /** `User-Agent` (default `Vesper` unless a `User-Agent` header is given). */
  userAgent?: string;
  /** Ask for gzip/deflate and decompress the body. Default true. */
  decompressResponse?: boolean;
  /**
   * Allow any method, and a body with any method. Default false: the method
   * must be a standard one, POST/PUT/PATCH need a body and the others must
   * have none (Tornado's check).
   */
  allowNonstandardMethods?: boolean;
  /** Verify the server's certificate (https). Default true. */
  validateCert?: boolean;
  /** CA certificates to verify against instead of the system's (PEM). */
  ca?: string | Buffer | (string | Buffer)[];
  /** Client certificate and key for https (PEM). */
  clientCert?: string | Buffer;
  clientKey?: string | Buffer;
  /** Connect to this Unix socket instead of the URL's host (the URL still gives `Host` and path). */
  socketPath?: string;
}

/** The methods Tornado's client accepts without `allowNonstandardMethods`. */
export const STANDARD_METHODS: readonly string[] = [
  'GET',
  'HEAD',
  'POST',
  'DELETE',
  'PATCH',
  'PUT',
  'OPTIONS',
];

/**
 * One request for {@link AsyncHTTPClient.fetch}. Fields are plain and may be
 * changed before fetching; the client copies the request for each redirect.
 */
export class HTTPRequest {
  url: string;
  method: string;
  headers: HTTPHeaders;
  body: Buffer | undefined;
  authUsername: string | undefined;
  authPassword: string | undefined;
  connectTimeout: number;
  requestTimeout: number;
  ifModifiedSince: Date | undefined;
  followRedirects: boolean;
  maxRedirects: number;
  userAgent: string | undefined;
  decompressResponse: boolean;
  allowNonstandardMethods: boolean;
  validateCert: boolean;
  ca: string | Buffer | (string | Buffer)[] | undefined;
  clientCert: string | Buffer | undefined;
  clientKey: string | Buffer | undefined;
  socketPath: string | undefined;

  /**
   * @throws {VesperError} `VESPER_WEB_BAD_HEADER` for an invalid header name or value.
   */
  constructor(url: string, options: HTTPRequestOptions = {}) {
    this.url = url;
    this.method = (options.method ?? 'GET').toUpperCase();
    const h = options.headers;
    this.headers =
      h instanceof HTTPHeaders
        ? h.copy()
        : new HTTPHeaders(h as Iterable<readonly [string, string]> | Record<string, string>);
    this.body =
      options.body === undefined
        ? undefined
        : typeof options.body === 'string'
          ? Buffer.from(options.body, 'utf8')
          : Buffer.from(options.body.buffer, options.body.byteOffset, options.body.byteLength);
    this.authUsername = options.authUsername;
    this.authPassword = options.authPassword;
    this.connectTimeout = options.connectTimeout ?? 20;
    this.requestTimeout = options.requestTimeout ?? 20;
    this.ifModifiedSince = options.ifModifiedSince;
    this.followRedirects = options.followRedirects ?? true;
    this.maxRedirects = options.maxRedirects ?? 5;
    this.userAgent = options.userAgent;
    this.decompressResponse = options.decompressResponse ?? true;
    this.allowNonstandardMethods = options.allowNonstandardMethods ?? false;
    this.validateCert = options.validateCert ?? true;
    this.ca = options.ca;
    this.clientCert = options.clientCert;
    this.clientKey = options.clientKey;
    this.socketPath = options.socketPath;
  }

  /** A copy whose headers can be changed without touching this one. */
  copy(): HTTPRequest {
    const c = Object.assign(Object.create(HTTPRequest.prototype) as HTTPRequest, this);
    c.headers = this.headers.copy();
    return c;
  }
}
