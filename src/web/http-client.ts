/**
 * @module AsyncHTTPClient: Tornado's promise-based HTTP client on Node's
 * `http`/`https`, with keep-alive pooling, deadlines, body caps, safe
 * decompression and redirects that do not leak credentials across origins.
 */
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { VesperError } from '../shared/errors/index.js';
import { HTTPClientError, type HTTPClientErrorCode } from './http-client-error.js';
import { HTTPHeaders } from './http-headers.js';
import { HTTPRequest, STANDARD_METHODS, type HTTPRequestOptions } from './http-request.js';
import { HTTPResponse } from './http-response.js';

/** Tornado's default `max_body_size`: 100 MiB. */
export const DEFAULT_MAX_BODY_SIZE = 100 * 1024 * 1024;
/** `User-Agent` sent when the request names none. */
export const DEFAULT_USER_AGENT = 'Vesper';

/** Options of an {@link AsyncHTTPClient}. */
export interface AsyncHTTPClientOptions {
  /** Request options applied to every fetch by URL (a fetch's own options win). */
  defaults?: HTTPRequestOptions;
  /**
   * Largest response body accepted, counted after decompression (and before
   * it, on the wire). Default 100 MiB. A larger body fails the fetch with 599.
   */
  maxBodySize?: number;
  /** Largest response header block (Node's `maxHeaderSize`). Default Node's (16 KiB). */
  maxHeaderSize?: number;
  /** Connections per origin; further requests queue. Default 10 (Tornado's `max_clients`). */
  maxClients?: number;
  /** Seconds an idle pooled connection is kept. Default 4 (below Node servers' 5 s keep-alive). */
  idleSocketTimeout?: number;
}

/** Options of one {@link AsyncHTTPClient.fetch}. */
export interface FetchOptions extends HTTPRequestOptions {
  /**
   * Reject when the response status is not 2xx. Default true. As in Tornado 6,
   * `false` only covers responses that arrived: a 599 (timeout, connection
   * failure, oversized body) always rejects.
   */
  raiseError?: boolean;
}

const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);
/** Methods retried once when a pooled connection turns out to be dead. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
const CLIENT_CLOSED = 'VESPER_WEB_HTTP_CLIENT_CLOSED';

/** One fetch's failure before a full response arrived. */
class FetchFailure {
  constructor(
    readonly code: HTTPClientErrorCode,
    readonly message: string,
    readonly cause?: unknown,
  ) {}
}

/**
 * Tornado's `AsyncHTTPClient`, built on Node's `http`/`https` so that
 * deadlines, caps and connection reuse are under its control.
 *
 * Unlike Tornado's simple client it keeps connections alive: each client owns
 * one keep-alive `http.Agent` and one `https.Agent`, so sequential requests to
 * an origin reuse a socket, and a request that finds its pooled socket dead
 * (closed by the server just as it was picked) is retried once on a new one if
 * its method is idempotent. Create one client per purpose and `close()` it when
 * done; idle pooled sockets do not keep the process alive.
 *
 * Redirects (301, 302, 303, 307, 308) are followed up to `maxRedirects`: 303,
 * and 302 for anything but HEAD, and 301 for POST, become a GET without body
 * (as browsers and Tornado do); 307 and 308 keep method and body. A redirect
 * to another origin drops `Authorization`, `Cookie` and basic-auth
 * credentials. Compressed bodies are decompressed as a stream and refused as
 * soon as they pass `maxBodySize`, so a decompression bomb is never buffered.
 */
export class AsyncHTTPClient {
  readonly #defaults: HTTPRequestOptions;
  readonly #maxBodySize: number;
  readonly #maxHeaderSize: number | undefined;
  readonly #httpAgent: http.Agent;
  readonly #httpsAgent: https.Agent;
  readonly #active = new Set<http.ClientRequest>();
  readonly #inFlight = new Set<Promise<unknown>>();
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: AsyncHTTPClientOptions = {}) {
    this.#defaults = options.defaults ?? {};
    this.#maxBodySize = options.maxBodySize ?? DEFAULT_MAX_BODY_SIZE;
    this.#maxHeaderSize = options.maxHeaderSize;
    const agentOptions: http.AgentOptions = {
      keepAlive: true,
      maxSockets: options.maxClients ?? 10,
      timeout: (options.idleSocketTimeout ?? 4) * 1000,
      scheduling: 'lifo',
    };
    this.#httpAgent = new http.Agent(agentOptions);
    this.#httpsAgent = new https.Agent(agentOptions);
  }

  /** True after `close()` or `destroy()`. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Fetches `request` (a URL, with `options`, or an {@link HTTPRequest}, with at
   * most `raiseError`) and resolves with the final {@link HTTPResponse}.
   * @throws {HTTPClientError} (rejects) for a non-2xx status unless `raiseError`
   *   is false, and always for 599 failures: `VESPER_WEB_HTTP_CLIENT_TIMEOUT`,
   *   `..._CONNECTION`, `..._BODY_TOO_LARGE`, `..._BAD_RESPONSE`, `..._CLOSED`;
   *   `..._TOO_MANY_REDIRECTS` / `..._BAD_REDIRECT` carry the last 3xx response.
   * @throws {VesperError} (rejects) `VESPER_WEB_HTTP_CLIENT_BAD_REQUEST` for an
   *   invalid URL, method or body, or options given along with an HTTPRequest.
   */
  fetch(request: string | HTTPRequest, options: FetchOptions = {}): Promise<HTTPResponse> {
    const run = this.#fetch(request, options);
    this.#inFlight.add(run);
    const forget = (): void => {
      this.#inFlight.delete(run);
    };
    run.then(forget, forget);
    return run;
  }

  /**
   * Stops accepting fetches, waits for the ones in flight, then destroys the
   * connection pools. Idempotent: a second call joins the first.
   */
  close(): Promise<void> {
    this.#closed = true;
    this.#closing ??= (async () => {
      await Promise.allSettled([...this.#inFlight]);
      this.#httpAgent.destroy();
      this.#httpsAgent.destroy();
    })();
    return this.#closing;
  }

  /**
   * Aborts every fetch in flight (they reject with 599
   * `VESPER_WEB_HTTP_CLIENT_CLOSED`) and destroys the pools. Idempotent.
   */
  destroy(): void {
    this.#closed = true;
    for (const req of this.#active) {
      req.destroy(new VesperError(CLIENT_CLOSED, 'The HTTP client was destroyed'));
    }
    this.#httpAgent.destroy();
    this.#httpsAgent.destroy();
  }

  async #fetch(input: string | HTTPRequest, options: FetchOptions): Promise<HTTPResponse> {
    const { raiseError = true, ...requestOptions } = options;
    let request: HTTPRequest;
    if (input instanceof HTTPRequest) {
      if (Object.keys(requestOptions).length > 0) {
        throw badRequest('Options cannot be given along with an HTTPRequest; set them on it');
      }
      request = input;
    } else {
      request = new HTTPRequest(input, { ...this.#defaults, ...requestOptions });
    }
    if (this.#closed) {
      throw new HTTPClientError(599, {
        code: CLIENT_CLOSED,
        message: 'fetch() called on a closed AsyncHTTPClient',
      });
    }
    checkRequest(request);
    const startTime = Date.now();
    const started = performance.now();
    const elapsed = (): number => (performance.now() - started) / 1000;

    let current = request;
    for (;;) {
      const response = await this.#fetchOnce(current, request, startTime, elapsed);
      const location = response.headers.get('Location');
      if (
        !current.followRedirects ||
        !REDIRECT_CODES.has(response.code) ||
        location === undefined
      ) {
        return settle(response, raiseError);
      }
      if (current.maxRedirects <= 0) {
        return settle(
          withError(response, 'VESPER_WEB_HTTP_CLIENT_TOO_MANY_REDIRECTS', 'Too many redirects'),
          raiseError,
        );
      }
      let next: HTTPRequest | undefined;
      try {
        next = redirectRequest(current, response.code, location);
      } catch {
        next = undefined;
      }
      if (next === undefined) {
        return settle(
          withError(response, 'VESPER_WEB_HTTP_CLIENT_BAD_REDIRECT', 'Cannot follow redirect'),
          raiseError,
        );
      }
      current = next;
    }
  }

  /** One request/response exchange, retried once on a dead pooled socket. */
  async #fetchOnce(
    request: HTTPRequest,
    original: HTTPRequest,
    startTime: number,
    elapsed: () => number,
  ): Promise<HTTPResponse> {
    let outcome = await this.#exchange(request);
    if (outcome instanceof RetryableFailure && IDEMPOTENT.has(request.method)) {
      outcome = await this.#exchange(request);
    }
    const base = { request: original, effectiveUrl: request.url, startTime };
    if (outcome instanceof FetchFailure) {
      const response = new HTTPResponse({
        ...base,
        code: 599,
        reason: 'Unknown',
        headers: new HTTPHeaders(),
        body: Buffer.alloc(0),
        requestTime: elapsed(),
        error: new HTTPClientError(599, {
          code: outcome.code,
          message: outcome.message,
          cause: outcome.cause,
        }),
      });
      return response;
    }
    const { code, reason, headers, body } = outcome;
    const response = new HTTPResponse({
      ...base,
      code,
      reason,
      headers,
      body,
      requestTime: elapsed(),
    });
    if (code >= 200 && code < 300) return response;
    return withError(response, 'VESPER_WEB_HTTP_CLIENT_RESPONSE', reason || 'Unknown');
  }

  #exchange(request: HTTPRequest): Promise<Exchanged | FetchFailure> {
    return new Promise((resolve) => {
      let url: URL;
      try {
        url = new URL(request.url);
      } catch (err) {
        resolve(
          new FetchFailure('VESPER_WEB_HTTP_CLIENT_CONNECTION', `Invalid URL ${request.url}`, err),
        );
        return;
      }
      const secure = url.protocol === 'https:';
      const headers = outgoingHeaders(request, url);
      let req: http.ClientRequest;
      const requestOptions: https.RequestOptions = {
        method: request.method,
        path: `${url.pathname}${url.search}`,
        headers: flattenHeaders(headers),
        agent: secure ? this.#httpsAgent : this.#httpAgent,
        maxHeaderSize: this.#maxHeaderSize,
      };
      if (request.socketPath !== undefined) {
        requestOptions.socketPath = request.socketPath;
      } else {
        requestOptions.hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
        requestOptions.port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
      }
      if (secure) {
        requestOptions.rejectUnauthorized = request.validateCert;
        if (request.ca !== undefined) requestOptions.ca = request.ca;
        if (request.clientCert !== undefined) requestOptions.cert = request.clientCert;
        if (request.clientKey !== undefined) requestOptions.key = request.clientKey;
      }
      try {
        req = (secure ? https : http).request(requestOptions);
      } catch (err) {
        resolve(
          new FetchFailure(
            'VESPER_WEB_HTTP_CLIENT_CONNECTION',
            `Cannot send request: ${(err as Error).message}`,
            err,
          ),
        );
        return;
      }
      this.#active.add(req);

      let done = false;
      let gotResponse = false;
      let connectTimer: NodeJS.Timeout | undefined;
      let requestTimer: NodeJS.Timeout | undefined;
      const finish = (result: Exchanged | FetchFailure): void => {
        if (done) return;
        done = true;
        clearTimeout(connectTimer);
        clearTimeout(requestTimer);
        this.#active.delete(req);
        if (result instanceof FetchFailure) req.destroy();
        resolve(result);
      };
      const fail = (code: HTTPClientErrorCode, message: string, cause?: unknown): void => {
        finish(new FetchFailure(code, message, cause));
      };

      if (request.requestTimeout > 0) {
        requestTimer = setTimeout(() => {
          fail('VESPER_WEB_HTTP_CLIENT_TIMEOUT', 'Timeout during request');
        }, request.requestTimeout * 1000);
      }
      req.on('socket', (socket: net.Socket) => {
        if (request.connectTimeout <= 0 || !socket.connecting) return;
        connectTimer = setTimeout(() => {
          fail('VESPER_WEB_HTTP_CLIENT_TIMEOUT', 'Timeout while connecting');
        }, request.connectTimeout * 1000);
        socket.once(secure ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
      });
      req.on('error', (err: Error) => {
        if (done) return;
        if (err instanceof VesperError && err.code === CLIENT_CLOSED) {
          fail(CLIENT_CLOSED, 'The HTTP client was closed', err);
        } else if (!gotResponse && req.reusedSocket && !done) {
          finish(
            new RetryableFailure(
              'VESPER_WEB_HTTP_CLIENT_CONNECTION',
              `Connection failed: ${err.message}`,
              err,
            ),
          );
        } else if (gotResponse) {
          fail('VESPER_WEB_HTTP_CLIENT_BAD_RESPONSE', `Response failed: ${err.message}`, err);
        } else {
          fail('VESPER_WEB_HTTP_CLIENT_CONNECTION', `Connection failed: ${err.message}`, err);
        }
      });
      req.on('response', (res: http.IncomingMessage) => {
        gotResponse = true;
        clearTimeout(connectTimer);
        this.#readResponse(request, res, finish, fail);
      });
      req.end(request.body);
    });
  }

  #readResponse(
    request: HTTPRequest,
    res: http.IncomingMessage,
    finish: (result: Exchanged) => void,
    fail: (code: HTTPClientErrorCode, message: string, cause?: unknown) => void,
  ): void {
    const max = this.#maxBodySize;
    const headers = HTTPHeaders.fromNode(res.rawHeaders);
    const tooLarge = (): void =>
      fail('VESPER_WEB_HTTP_CLIENT_BODY_TOO_LARGE', `Response body larger than ${max} bytes`);
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > max) {
      res.resume();
      tooLarge();
      return;
    }
    let wireBytes = 0;
    let source: Readable = res;
    const encoding = (headers.get('Content-Encoding') ?? '').trim().toLowerCase();
    if (
      request.decompressResponse &&
      (encoding === 'gzip' || encoding === 'x-gzip' || encoding === 'deflate')
    ) {
      const inflater = encoding === 'deflate' ? zlib.createInflate() : zlib.createGunzip();
      headers.add('X-Consumed-Content-Encoding', headers.get('Content-Encoding')!);
      headers.delete('Content-Encoding');
      res.on('data', (chunk: Buffer) => {
        wireBytes += chunk.length;
        if (wireBytes > max) {
          inflater.destroy();
          tooLarge();
        }
      });
      res.on('error', (err) => inflater.destroy(err));
      res.pipe(inflater);
      inflater.on('error', (err) =>
        fail(
          'VESPER_WEB_HTTP_CLIENT_BAD_RESPONSE',
          `Invalid ${encoding} body: ${err.message}`,
          err,
        ),
      );
      source = inflater;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    source.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > max) {
        failed = true;
        source.destroy();
        tooLarge();
        return;
      }
      chunks.push(chunk);
    });
    source.on('end', () => {
      if (failed) return;
      if (!res.complete) {
        fail(
          'VESPER_WEB_HTTP_CLIENT_BAD_RESPONSE',
          'Connection closed before the response was complete',
        );
        return;
      }
      finish({
        code: res.statusCode ?? 599,
        reason: res.statusMessage ?? '',
        headers,
        body: Buffer.concat(chunks, size),
      });
    });
    res.on('error', (err) =>
      fail('VESPER_WEB_HTTP_CLIENT_BAD_RESPONSE', `Response failed: ${err.message}`, err),
    );
    res.on('close', () => {
      if (!res.complete) {
        fail(
          'VESPER_WEB_HTTP_CLIENT_BAD_RESPONSE',
          'Connection closed before the response was complete',
        );
      }
    });
  }
}

/** A response that arrived in full. */
interface Exchanged {
  code: number;
  reason: string;
  headers: HTTPHeaders;
  body: Buffer;
}

/** A failure on a reused pooled socket before any response: worth one retry. */
class RetryableFailure extends FetchFailure {}

function badRequest(message: string): VesperError {
  return new VesperError('VESPER_WEB_HTTP_CLIENT_BAD_REQUEST', message);
}

/**
 * Tornado's request checks.
 * @throws {VesperError} `VESPER_WEB_HTTP_CLIENT_BAD_REQUEST`.
 */
function checkRequest(request: HTTPRequest): void {
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    throw badRequest(`Invalid URL ${JSON.stringify(request.url)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw badRequest(`Unsupported URL scheme ${url.protocol}`);
  }
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(request.method)) {
    throw badRequest(`Invalid method ${JSON.stringify(request.method)}`);
  }
  if (request.allowNonstandardMethods) return;
  if (!STANDARD_METHODS.includes(request.method)) {
    throw badRequest(`Unknown method ${request.method} (set allowNonstandardMethods to send it)`);
  }
  const needsBody = ['POST', 'PATCH', 'PUT'].includes(request.method);
  if (needsBody && request.body === undefined) {
    throw badRequest(`Body must not be missing for method ${request.method} (use an empty body)`);
  }
  if (!needsBody && request.body !== undefined) {
    throw badRequest(`Body must be missing for method ${request.method}`);
  }
}

function outgoingHeaders(request: HTTPRequest, url: URL): HTTPHeaders {
  const headers = request.headers.copy();
  if (request.userAgent !== undefined) headers.set('User-Agent', request.userAgent);
  else if (!headers.has('User-Agent')) headers.set('User-Agent', DEFAULT_USER_AGENT);
  if (request.decompressResponse && !headers.has('Accept-Encoding')) {
    headers.set('Accept-Encoding', 'gzip, deflate');
  }
  if (request.authUsername !== undefined) {
    const token = Buffer.from(`${request.authUsername}:${request.authPassword ?? ''}`).toString(
      'base64',
    );
    headers.set('Authorization', `Basic ${token}`);
  }
  if (request.ifModifiedSince !== undefined) {
    headers.set('If-Modified-Since', request.ifModifiedSince.toUTCString());
  }
  if (request.body !== undefined && !headers.has('Content-Length')) {
    headers.set('Content-Length', String(request.body.length));
  }
  if (!headers.has('Host')) headers.set('Host', url.host);
  return headers;
}

function flattenHeaders(headers: HTTPHeaders): string[] {
  const flat: string[] = [];
  for (const [name, value] of headers) flat.push(name, value);
  return flat;
}

/**
 * The request that follows a redirect, or throws if `location` cannot be followed.
 * @throws {Error} for an invalid location or a scheme other than http/https.
 */
function redirectRequest(current: HTTPRequest, code: number, location: string): HTTPRequest {
  const target = new URL(location, current.url);
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new Error(`Cannot follow a redirect to ${target.protocol}`);
  }
  const next = current.copy();
  next.url = target.href;
  next.maxRedirects = current.maxRedirects - 1;
  next.headers.delete('Host');
  const toGet =
    (code === 303 && current.method !== 'HEAD') ||
    (code === 302 && current.method !== 'HEAD') ||
    (code === 301 && current.method === 'POST');
  if (toGet) {
    next.method = 'GET';
    next.body = undefined;
    for (const name of [
      'Content-Length',
      'Content-Type',
      'Content-Encoding',
      'Transfer-Encoding',
    ]) {
      next.headers.delete(name);
    }
  }
  if (new URL(current.url).origin !== target.origin) {
    // Credentials are for the origin they were given to (Tornado 6.5.6, CVE-2026-49853).
    next.headers.delete('Authorization');
    next.headers.delete('Cookie');
    next.authUsername = undefined;
    next.authPassword = undefined;
  }
  return next;
}

function withError(
  response: HTTPResponse,
  code: HTTPClientErrorCode,
  message: string,
): HTTPResponse {
  response.error = new HTTPClientError(response.code, { code, message, response });
  return response;
}

function settle(response: HTTPResponse, raiseError: boolean): HTTPResponse {
  if (response.error !== undefined && (raiseError || response.code === 599)) throw response.error;
  return response;
}
