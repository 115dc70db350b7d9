/**
 * @module `RequestHandler`, the base class of every page: Tornado's life cycle
 * (initialize, prepare, verb method, finish, onFinish), input arguments,
 * buffered and streamed output, ETags, error pages, cookies, signed cookies,
 * XSRF protection, the current user and template rendering.
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../shared/log/index.js';
import { VesperError, isVesperError } from '../shared/errors/index.js';
import type { Application, ApplicationSettings } from './application.js';
import { jsonEncode, linkify, squeeze, urlEscape, xhtmlEscape } from './escape.js';
import type { HTTPConnection } from './http-connection.js';
import type { HTTPServerRequest } from './http-server-request.js';
import { HTTPHeaders, formatTimestamp } from './httputil.js';
import type { OutputTransform } from './output-transform.js';
import { redactUri } from './redact-uri.js';
import { formatSetCookie, type CookieOptions } from './set-cookie.js';
import { createSignedValue, decodeSignedValue, getSignatureKeyVersion } from './signed-value.js';
import type { BaseLoader } from './template/index.js';
import { Loader } from './template/index.js';
import {
  LinkifyModule,
  TemplateModule,
  XsrfFormHtmlModule,
  type UIModule,
  type UIModuleClass,
  type ResourceFiles,
} from './ui-module.js';
import { Finish, HttpError, MissingArgumentError, reasonPhrase } from './web-errors.js';
import {
  decodeXsrfToken,
  encodeXsrfToken,
  newXsrfTokenBytes,
  xsrfTokensEqual,
} from './xsrf-token.js';

/** What `write()` accepts: text (UTF-8), bytes, or a plain object sent as JSON. */
export type WriteChunk = string | Buffer | Uint8Array | Record<string, unknown>;

/** A header value: text, a number, or a date (sent as an HTTP date). */
export type HeaderValue = string | number | Date;

/** Extra information for `sendError`/`writeError`. */
export interface ErrorInfo {
  /** A reason phrase for the status line and page. */
  reason?: string;
  /** The exception that caused the error (its stack is shown with `serveTraceback`). */
  error?: unknown;
}

/** A `RequestHandler` subclass, as the routing table holds it. */
export type RequestHandlerClass = (new (
  application: Application,
  request: HTTPServerRequest,
  kwargs?: Record<string, unknown>,
) => RequestHandler) & { SUPPORTED_METHODS: readonly string[] };

/** Options of `setSignedCookie`. */
export interface SignedCookieOptions extends CookieOptions {
  /** Signed-value format version, 2 by default. */
  version?: 1 | 2;
}

/** Options of `getSignedCookie`. */
export interface GetSignedCookieOptions {
  /** Use this value instead of the request's cookie. */
  value?: string | null;
  /** Oldest accepted signature, in days (default 31). */
  maxAgeDays?: number;
  /** Oldest accepted format version. */
  minVersion?: 1 | 2;
}

// eslint-disable-next-line no-control-regex -- the point is to find control characters
const UNSAFE_HEADER_VALUE = /[\x00-\x08\x0a-\x1f\x7f]|[^\x00-\xff]/;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// eslint-disable-next-line no-control-regex -- Tornado turns these control characters into spaces
const CONTROL_CHARS = /[\x00-\x08\x0e-\x1f]/g;
const REASON_OK = /^[\t\x20-\x7e\x80-\xff]*$/;
const ETAG_LIST = /\*|(?:W\/)?"[^"]*"/g;
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const REQUIRED: unique symbol = Symbol('required');

let dateCacheSecond = -1;
let dateCacheValue = '';
/** The HTTP date of now, formatted at most once a second. */
function httpDateNow(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateCacheSecond) {
    dateCacheSecond = second;
    dateCacheValue = formatTimestamp(new Date(second * 1000));
  }
  return dateCacheValue;
}

function weakValue(etag: string): string {
  return etag.startsWith('W/') ? etag.slice(2) : etag;
}

function isAbsoluteUrl(path: string): boolean {
  return path.startsWith('/') || path.startsWith('http:') || path.startsWith('https:');
}

function outputError(code: string, message: string): VesperError {
  return new VesperError(code, message);
}

/**
 * The base class of every page. A fresh instance handles one request:
 *
 * ```
 *  constructor ─▶ initialize(kwargs) ─▶ [405?] ─▶ [XSRF check] ─▶ prepare()
 *      ─▶ get/post/...(...pathArgs) ─▶ finish() (automatic) ─▶ onFinish()
 * ```
 *
 * `prepare` and the verb methods may be async; if `prepare` finishes the
 * request the verb is not called. An exception becomes an error page through
 * `sendError` (`HttpError` → its status, anything else → 500); `Finish` ends
 * the request normally. `onConnectionClose` runs if the client goes away
 * before the response is finished.
 */
export class RequestHandler {
  /** The methods this class accepts; others get 405. Extend per subclass. */
  static SUPPORTED_METHODS: readonly string[] = [
    'GET',
    'HEAD',
    'POST',
    'DELETE',
    'PATCH',
    'PUT',
    'OPTIONS',
  ];

  /** The application. */
  readonly application: Application;
  /** The request being handled. */
  readonly request: HTTPServerRequest;
  /** Decoded positional path groups (unmatched optional groups are undefined). */
  pathArgs: (string | undefined)[] = [];
  /** Decoded named path groups. */
  pathKwargs: Record<string, string | undefined> = {};
  /** Default for `staticUrl`'s `includeHost`. */
  includeHost = false;

  readonly #kwargs: Record<string, unknown>;
  #headers: HTTPHeaders = new HTTPHeaders();
  #statusCode = 200;
  #reason = 'OK';
  #writeBuffer: Buffer[] = [];
  #headersWritten = false;
  #finished = false;
  #detached = false;
  #autoFinish = true;
  #transforms: OutputTransform[] = [];
  #newCookies: Map<string, string> | null = null;
  #currentUser: { value: unknown } | null = null;
  #rawXsrf: { version: number | null; token: Buffer; timestamp: number } | null = null;
  #xsrfToken: string | null = null;
  #activeModules: Map<string, UIModule> | null = null;
  #flushChain: Promise<void> = Promise.resolve();

  constructor(
    application: Application,
    request: HTTPServerRequest,
    kwargs: Record<string, unknown> = {},
  ) {
    this.application = application;
    this.request = request;
    this.#kwargs = kwargs;
    this.clear();
  }

  /** The application's settings. */
  get settings(): ApplicationSettings {
    return this.application.settings;
  }

  /** The application's logger. */
  get log(): Logger {
    return this.application.log;
  }

  /** The kwargs of the matching rule (also passed to `initialize`). */
  get kwargs(): Record<string, unknown> {
    return this.#kwargs;
  }

  // ---------------------------------------------------------------- hooks

  /**
   * Receives the rule's kwargs. Called by `_execute` before anything else (not
   * from the constructor, so that subclass field initialisers do not overwrite
   * what it sets).
   */
  initialize(_kwargs: Record<string, unknown>): void {}

  /** Runs before the verb method; may be async; may finish the request. */
  prepare(): void | Promise<void> {}

  /** Runs after the response was finished (logging, cleanup). */
  onFinish(): void {}

  /** Runs when the client closes the connection before the response finished. */
  onConnectionClose(): void {}

  /** Sets headers every response of this handler carries; called by `clear()`. */
  setDefaultHeaders(): void {}

  /** Answers GET; 405 unless overridden. */
  get(..._args: (string | undefined)[]): void | Promise<void> {
    throw new HttpError(405);
  }
  /** Answers HEAD (not mapped to GET); 405 unless overridden. */
  head(..._args: (string | undefined)[]): void | Promise<void> {
    throw new HttpError(405);
  }
  /** Answers POST; 405 unless overridden. */
  post(..._args: (string | undefined)[]): void | Promise<void> {
    throw new HttpError(405);
  }
  /** Answers DELETE; 405 unless overridden. */
  delete(..._args: (string | undefined)[]): void | Promise<void> {
    throw new HttpError(405);
  }
  /** Answers PATCH; 405 unless overridden. */
  patch(..._args: (string | undefined)[]): void | Promise<void> {
    throw new HttpError(405);
  }
  /** Answers PUT; 405 unless overridden. */
  put(..._args: (string | undefined)[]): void | Promise<void> {
    throw new HttpError(405);
  }
  /** Answers OPTIONS; 405 unless overridden. */
  options(..._args: (string | undefined)[]): void | Promise<void> {
    throw new HttpError(405);
  }

  // ---------------------------------------------------------------- status and headers

  /** Resets headers, status and buffered output to their defaults. */
  clear(): void {
    const h = new HTTPHeaders();
    h.set('Server', 'Vesper');
    h.set('Content-Type', 'text/html; charset=UTF-8');
    h.set('Date', httpDateNow());
    this.#headers = h;
    this.setDefaultHeaders();
    this.#writeBuffer = [];
    this.#statusCode = 200;
    this.#reason = 'OK';
  }

  /**
   * Sets the status. Without a reason the standard phrase is used (`Unknown`
   * for an unknown code); a reason with `<` or a character not allowed in a
   * status line is replaced by `Unknown`.
   * @throws VesperError `VESPER_WEB_BAD_STATUS` for a code outside 100-599.
   */
  setStatus(statusCode: number, reason?: string): void {
    this.#checkAttached('setStatus()');
    if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
      throw outputError('VESPER_WEB_BAD_STATUS', `Invalid HTTP status ${statusCode}.`);
    }
    this.#statusCode = statusCode;
    if (reason === undefined) this.#reason = reasonPhrase(statusCode);
    else this.#reason = reason.includes('<') || !REASON_OK.test(reason) ? 'Unknown' : reason;
  }

  /** The status of the response. */
  getStatus(): number {
    return this.#statusCode;
  }

  /** The reason phrase of the response. */
  get reason(): string {
    return this.#reason;
  }

  static #convertHeaderValue(value: HeaderValue): string {
    let v: string;
    if (typeof value === 'string') v = value;
    else if (typeof value === 'number') return String(value);
    else if (value instanceof Date) return formatTimestamp(value);
    else throw outputError('VESPER_WEB_UNSAFE_HEADER', 'Unsupported header value.');
    if (UNSAFE_HEADER_VALUE.test(v)) {
      throw outputError('VESPER_WEB_UNSAFE_HEADER', `Unsafe header value ${JSON.stringify(v)}.`);
    }
    return v;
  }

  static #checkHeaderName(name: string): void {
    if (!HEADER_NAME.test(name)) {
      throw outputError('VESPER_WEB_UNSAFE_HEADER', `Invalid header name ${JSON.stringify(name)}.`);
    }
  }

  /**
   * Sets a response header, replacing any earlier value.
   * @throws VesperError `VESPER_WEB_UNSAFE_HEADER` for a value with CR, LF or
   * another control character, or a name that is not a token.
   */
  setHeader(name: string, value: HeaderValue): void {
    this.#checkAttached('setHeader()');
    RequestHandler.#checkHeaderName(name);
    this.#headers.set(name, RequestHandler.#convertHeaderValue(value));
  }

  /**
   * Adds another value of a header.
   * @throws VesperError `VESPER_WEB_UNSAFE_HEADER` as `setHeader`.
   */
  addHeader(name: string, value: HeaderValue): void {
    this.#checkAttached('addHeader()');
    RequestHandler.#checkHeaderName(name);
    this.#headers.add(name, RequestHandler.#convertHeaderValue(value));
  }

  /** Removes a header. */
  clearHeader(name: string): void {
    this.#checkAttached('clearHeader()');
    this.#headers.delete(name);
  }

  /** The response headers set so far (read them; change them through setHeader). */
  get responseHeaders(): HTTPHeaders {
    return this.#headers;
  }

  /**
   * The `Set-Cookie` values that `setCookie` and `clearCookie` have queued and
   * that go out with the response head. WebSocketHandler adds them to its 101.
   */
  protected get pendingSetCookies(): readonly string[] {
    return this.#newCookies === null ? [] : [...this.#newCookies.values()];
  }

  // ---------------------------------------------------------------- input

  /**
   * The last value of an argument from the query or the body (a body value
   * wins), decoded, control characters turned into spaces, stripped unless
   * `strip` is false. Without a default a missing argument is a 400.
   * @throws MissingArgumentError when the argument is missing and no default was given.
   * @throws HttpError 400 when the value is not valid UTF-8.
   */
  getArgument(name: string): string;
  getArgument<D>(name: string, defaultValue: D, strip?: boolean): string | D;
  getArgument(name: string, ...rest: [unknown?, boolean?]): unknown {
    const def = rest.length === 0 ? REQUIRED : rest[0];
    return this.#getArgument(name, def, this.request.arguments, rest[1] ?? true);
  }

  /** Every value of an argument from the query and then the body. */
  getArguments(name: string, strip = true): string[] {
    return this.#getArguments(name, this.request.arguments, strip);
  }

  /** Like `getArgument`, from the query only. */
  getQueryArgument(name: string): string;
  getQueryArgument<D>(name: string, defaultValue: D, strip?: boolean): string | D;
  getQueryArgument(name: string, ...rest: [unknown?, boolean?]): unknown {
    const def = rest.length === 0 ? REQUIRED : rest[0];
    return this.#getArgument(name, def, this.request.queryArguments, rest[1] ?? true);
  }

  /** Like `getArguments`, from the query only. */
  getQueryArguments(name: string, strip = true): string[] {
    return this.#getArguments(name, this.request.queryArguments, strip);
  }

  /** Like `getArgument`, from the body only. */
  getBodyArgument(name: string): string;
  getBodyArgument<D>(name: string, defaultValue: D, strip?: boolean): string | D;
  getBodyArgument(name: string, ...rest: [unknown?, boolean?]): unknown {
    const def = rest.length === 0 ? REQUIRED : rest[0];
    return this.#getArgument(name, def, this.request.bodyArguments, rest[1] ?? true);
  }

  /** Like `getArguments`, from the body only. */
  getBodyArguments(name: string, strip = true): string[] {
    return this.#getArguments(name, this.request.bodyArguments, strip);
  }

  #getArgument(
    name: string,
    def: unknown,
    source: Record<string, Buffer[]>,
    strip: boolean,
  ): unknown {
    const values = this.#getArguments(name, source, strip);
    if (values.length === 0) {
      if (def === REQUIRED) throw new MissingArgumentError(name);
      return def;
    }
    return values[values.length - 1];
  }

  #getArguments(name: string, source: Record<string, Buffer[]>, strip: boolean): string[] {
    const raw = Object.hasOwn(source, name) ? source[name]! : [];
    return raw.map((v) => {
      let s = this.decodeArgument(v, name).replace(CONTROL_CHARS, ' ');
      if (strip) s = s.trim();
      return s;
    });
  }

  /**
   * Decodes an argument or path group from bytes; UTF-8 by default. Override
   * to accept another encoding.
   * @throws HttpError 400 `Invalid unicode in <name>` when the bytes are not UTF-8.
   */
  decodeArgument(value: Buffer, name?: string): string {
    try {
      return utf8Decoder.decode(value);
    } catch {
      throw new HttpError(400, `Invalid unicode in ${name ?? 'url'}: %j`, {
        args: [value.subarray(0, 40).toString('latin1')],
      });
    }
  }

  // ---------------------------------------------------------------- output

  #checkAttached(what: string): void {
    if (this.#detached) {
      throw outputError('VESPER_WEB_DETACHED', `Cannot ${what} after detach().`);
    }
  }

  #checkOpen(what: string): void {
    this.#checkAttached(what);
    if (this.#finished) {
      throw outputError('VESPER_WEB_FINISHED', `Cannot ${what} after finish().`);
    }
  }

  /**
   * Buffers output. A string is sent as UTF-8; a plain object is sent as JSON
   * with `Content-Type: application/json; charset=UTF-8`.
   * @throws VesperError `VESPER_WEB_FINISHED` after `finish()`,
   * `VESPER_WEB_BAD_WRITE` for an array (JSON hijacking defence) or another type.
   */
  write(chunk: WriteChunk): void {
    this.#checkOpen('write()');
    let bytes: Buffer;
    if (typeof chunk === 'string') bytes = Buffer.from(chunk, 'utf8');
    else if (Buffer.isBuffer(chunk)) bytes = chunk;
    else if (chunk instanceof Uint8Array) bytes = Buffer.from(chunk);
    else if (Array.isArray(chunk)) {
      throw outputError(
        'VESPER_WEB_BAD_WRITE',
        'write() does not accept arrays, for security reasons (JSON hijacking); wrap them in an object.',
      );
    } else if (typeof chunk === 'object' && chunk !== null) {
      bytes = Buffer.from(jsonEncode(chunk), 'utf8');
      this.setHeader('Content-Type', 'application/json; charset=UTF-8');
    } else {
      throw outputError(
        'VESPER_WEB_BAD_WRITE',
        'write() only accepts strings, bytes and plain objects.',
      );
    }
    this.#writeBuffer.push(bytes);
  }

  /**
   * Sends what is buffered: the first flush sends the status and headers, later
   * ones send chunks (chunked transfer encoding). Resolves when the data was
   * handed to the OS.
   * @throws VesperError `VESPER_WEB_STREAM_CLOSED` (rejection) when the client went away.
   */
  flush(): Promise<void> {
    this.#checkOpen('flush()');
    return this.#flush(false);
  }

  #connection(): HTTPConnection {
    const c = this.request.connection;
    if (c === undefined) {
      throw outputError('VESPER_WEB_NO_CONNECTION', 'The request has no connection.');
    }
    return c;
  }

  #flush(finishing: boolean): Promise<void> {
    const chunk =
      this.#writeBuffer.length === 1 ? this.#writeBuffer[0]! : Buffer.concat(this.#writeBuffer);
    this.#writeBuffer = [];
    const connection = this.#connection();
    if (!this.#headersWritten) {
      this.#headersWritten = true;
      if (this.#newCookies !== null) {
        for (const value of this.#newCookies.values()) this.#headers.add('Set-Cookie', value);
      }
      const transforms = this.#transforms;
      const headers = this.#headers;
      const isHead = this.request.method === 'HEAD';
      const status = { code: this.#statusCode, reason: this.#reason };
      if (transforms.length === 0) {
        return connection.writeHeaders(status, headers, isHead ? undefined : chunk);
      }
      const run = async (): Promise<void> => {
        let c = chunk;
        for (const t of transforms)
          c = await t.transformFirstChunk(status.code, headers, c, finishing);
        await connection.writeHeaders(status, headers, isHead ? undefined : c);
      };
      const p = this.#flushChain.then(run);
      this.#flushChain = p.catch(() => undefined);
      return p;
    }
    const run = async (): Promise<void> => {
      let c = chunk;
      for (const t of this.#transforms) c = await t.transformChunk(c, finishing);
      if (this.request.method !== 'HEAD') await connection.write(c);
    };
    const p = this.#flushChain.then(run);
    this.#flushChain = p.catch(() => undefined);
    return p;
  }

  /** True once `finish()` ran (or the handler was detached). */
  get finished(): boolean {
    return this.#finished;
  }

  /** True once the status line and headers were sent. */
  get headersWritten(): boolean {
    return this.#headersWritten;
  }

  #clearRepresentationHeaders(): void {
    for (const h of ['Content-Encoding', 'Content-Language', 'Content-Type']) {
      this.#headers.delete(h);
    }
  }

  /**
   * Ends the response, writing `chunk` first. For a 200 answer to GET/HEAD
   * without an `Etag` header it sets one from `computeEtag()` and answers 304
   * when the request's `If-None-Match` matches; 1xx/204/304 answers lose their
   * body and content headers; otherwise `Content-Length` is set unless the
   * response was already streamed. Resolves when the data was handed to the OS
   * (a client that went away is not an error here).
   * @throws VesperError `VESPER_WEB_FINISHED` when called twice.
   */
  finish(chunk?: WriteChunk): Promise<void> {
    if (this.#detached) throw outputError('VESPER_WEB_DETACHED', 'Cannot finish() after detach().');
    if (this.#finished) throw outputError('VESPER_WEB_FINISHED', 'finish() called twice.');
    if (chunk !== undefined) this.write(chunk);
    if (!this.#headersWritten) {
      const method = this.request.method;
      if (
        this.#statusCode === 200 &&
        (method === 'GET' || method === 'HEAD') &&
        !this.#headers.has('Etag')
      ) {
        this.setEtagHeader();
        if (this.checkEtagHeader()) {
          this.#writeBuffer = [];
          this.setStatus(304);
        }
      }
      const code = this.#statusCode;
      if (code === 204 || code === 304 || (code >= 100 && code < 200)) {
        this.#writeBuffer = [];
        this.#clearRepresentationHeaders();
        this.#headers.delete('Content-Length');
      } else if (!this.#headers.has('Content-Length')) {
        let n = 0;
        for (const part of this.#writeBuffer) n += part.length;
        this.setHeader('Content-Length', n);
      }
    }
    const connection = this.#connection();
    connection.setCloseCallback(null);
    const flushed = this.#flush(true).then(
      () => connection.finish(),
      (err: unknown) => {
        connection.finish();
        if (!isVesperError(err, 'VESPER_WEB_STREAM_CLOSED')) {
          this.log.error({ err }, `Could not send the response to ${this.#requestSummary()}.`);
        }
      },
    );
    this.request.markFinished();
    this.application.logRequest(this);
    this.#finished = true;
    try {
      this.onFinish();
    } catch (err) {
      this.log.error({ err }, `onFinish() failed for ${this.#requestSummary()}.`);
    }
    return flushed;
  }

  /**
   * Redirects to `url`: 302, 301 when `permanent`, or an explicit 3xx `status`.
   * @throws VesperError `VESPER_WEB_HEADERS_WRITTEN` after a flush,
   * `VESPER_WEB_BAD_STATUS` for a status outside 300-399.
   */
  redirect(url: string, permanent = false, status?: number): Promise<void> {
    this.#checkAttached('redirect()');
    if (this.#headersWritten) {
      throw outputError(
        'VESPER_WEB_HEADERS_WRITTEN',
        'Cannot redirect after headers have been written.',
      );
    }
    const code = status ?? (permanent ? 301 : 302);
    if (!Number.isInteger(code) || code < 300 || code > 399) {
      throw outputError('VESPER_WEB_BAD_STATUS', `Invalid redirect status ${code}.`);
    }
    this.setStatus(code);
    this.setHeader('Location', url);
    return this.finish();
  }

  /**
   * Answers with an error page: clears the buffer and headers, sets the
   * status (the reason from `info.reason` or the `HttpError`'s reason) and calls
   * `writeError`. After headers were flushed it can only log and finish.
   */
  sendError(statusCode = 500, info: ErrorInfo = {}): void {
    if (this.#detached) return;
    if (this.#headersWritten) {
      this.log.error(
        `Cannot send an error response to ${this.#requestSummary()}: headers were already written.`,
      );
      if (!this.#finished) {
        try {
          void this.finish();
        } catch (err) {
          this.log.error({ err }, 'Failed to flush a partial response.');
        }
      }
      return;
    }
    this.clear();
    let reason = info.reason;
    if (info.error instanceof HttpError && info.error.reason !== undefined) {
      reason = info.error.reason;
    }
    this.setStatus(statusCode, reason);
    try {
      this.writeError(statusCode, info);
    } catch (err) {
      this.log.error({ err }, 'Uncaught exception in writeError().');
    }
    if (!this.#finished) void this.finish();
  }

  /**
   * Writes the error page; override for custom pages. The default is
   * `<html><title>404: Not Found</title><body>404: Not Found</body></html>`,
   * or, with the `serveTraceback` setting and an exception, its stack as
   * `text/plain`.
   */
  writeError(statusCode: number, info: ErrorInfo = {}): void {
    if (this.settings.serveTraceback === true && info.error !== undefined) {
      this.setHeader('Content-Type', 'text/plain');
      const e = info.error;
      this.write(e instanceof Error ? `${e.stack ?? e.message}\n` : `${JSON.stringify(e)}\n`);
      void this.finish();
      return;
    }
    const message = xhtmlEscape(this.#reason);
    void this.finish(
      `<html><title>${statusCode}: ${message}</title><body>${statusCode}: ${message}</body></html>`,
    );
  }

  // ---------------------------------------------------------------- ETags

  /** The ETag for the buffered body: `"<sha1 hex>"`; return null to disable. */
  computeEtag(): string | null {
    const hash = createHash('sha1');
    for (const part of this.#writeBuffer) hash.update(part);
    return `"${hash.digest('hex')}"`;
  }

  /** Sets the `Etag` header from `computeEtag()`. */
  setEtagHeader(): void {
    const etag = this.computeEtag();
    if (etag !== null) this.setHeader('Etag', etag);
  }

  /** True when the request's `If-None-Match` matches the `Etag` header (weak comparison; `*` matches). */
  checkEtagHeader(): boolean {
    const computed = this.#headers.get('Etag') ?? '';
    const etags = (this.request.headers.get('If-None-Match') ?? '').match(ETAG_LIST) ?? [];
    if (computed === '' || etags.length === 0) return false;
    if (etags[0] === '*') return true;
    const mine = weakValue(computed);
    return etags.some((e) => weakValue(e) === mine);
  }

  // ---------------------------------------------------------------- cookies

  /** The request's cookies. */
  get cookies(): Record<string, string> {
    return this.request.cookies;
  }

  /** The value of a request cookie (not one set in this response), or `defaultValue`. */
  getCookie(name: string): string | undefined;
  getCookie<D>(name: string, defaultValue: D): string | D;
  getCookie(name: string, defaultValue?: unknown): unknown {
    const cookies = this.request.cookies;
    return Object.hasOwn(cookies, name) ? cookies[name] : defaultValue;
  }

  /**
   * Sets a cookie; a second call with the same name replaces the first,
   * attributes included. `path` defaults to `/`.
   * @throws VesperError `VESPER_WEB_INVALID_COOKIE` for forbidden characters.
   */
  setCookie(name: string, value: string | Buffer, options: CookieOptions = {}): void {
    this.#checkAttached('setCookie()');
    const v = typeof value === 'string' ? value : value.toString('latin1');
    const header = formatSetCookie(name, v, options);
    this.#newCookies ??= new Map();
    this.#newCookies.delete(name);
    this.#newCookies.set(name, header);
  }

  /** Deletes a cookie by setting it empty and expired a year ago (same `path`/`domain` as when set). */
  clearCookie(
    name: string,
    options: Omit<CookieOptions, 'expires' | 'expiresDays' | 'maxAge'> = {},
  ): void {
    this.setCookie(name, '', { ...options, expires: new Date(Date.now() - 365 * 86_400_000) });
  }

  /** Clears every cookie the request carried. */
  clearAllCookies(options: Omit<CookieOptions, 'expires' | 'expiresDays' | 'maxAge'> = {}): void {
    for (const name of Object.keys(this.request.cookies)) this.clearCookie(name, options);
  }

  /**
   * Raises unless a setting is present.
   * @throws VesperError `VESPER_WEB_SETTING_REQUIRED` naming the setting.
   */
  requireSetting(name: keyof ApplicationSettings, feature = 'this feature'): void {
    if (this.settings[name] === undefined) {
      throw new VesperError(
        'VESPER_WEB_SETTING_REQUIRED',
        `You must define the '${name}' setting in your application to use ${feature}.`,
      );
    }
  }

  /**
   * Signs `value` for the cookie `name` with the `cookieSecret` setting.
   * @throws VesperError `VESPER_WEB_SETTING_REQUIRED` without `cookieSecret`
   * (or without `keyVersion` when the secret is a map of versions).
   */
  createSignedValue(name: string, value: string | Buffer, version?: 1 | 2): string {
    this.requireSetting('cookieSecret', 'signed cookies');
    const secret = this.settings.cookieSecret!;
    let keyVersion: number | undefined;
    if (typeof secret !== 'string') {
      if (this.settings.keyVersion === undefined) {
        throw new VesperError(
          'VESPER_WEB_SETTING_REQUIRED',
          'The keyVersion setting must be used when cookieSecret is a map of versions.',
        );
      }
      keyVersion = this.settings.keyVersion;
    }
    return createSignedValue(secret, name, value, {
      ...(version !== undefined ? { version } : {}),
      ...(keyVersion !== undefined ? { keyVersion } : {}),
    });
  }

  /**
   * Sets a signed, timestamped cookie (`expiresDays` 30 by default) that
   * `getSignedCookie` verifies.
   * @throws VesperError as `createSignedValue` and `setCookie`.
   */
  setSignedCookie(name: string, value: string | Buffer, options: SignedCookieOptions = {}): void {
    const { version, ...cookie } = options;
    this.setCookie(name, this.createSignedValue(name, value, version), {
      expiresDays: 30,
      ...cookie,
    });
  }

  /**
   * The verified value of a signed cookie, or null when it is missing,
   * tampered with, for another name, or older than `maxAgeDays` (31).
   * @throws VesperError `VESPER_WEB_SETTING_REQUIRED` without `cookieSecret`.
   */
  getSignedCookie(name: string, options: GetSignedCookieOptions = {}): Buffer | null {
    this.requireSetting('cookieSecret', 'signed cookies');
    const value = options.value !== undefined ? options.value : this.getCookie(name);
    return decodeSignedValue(this.settings.cookieSecret!, name, value, {
      ...(options.maxAgeDays !== undefined ? { maxAgeDays: options.maxAgeDays } : {}),
      ...(options.minVersion !== undefined ? { minVersion: options.minVersion } : {}),
    });
  }

  /** The key version a signed cookie was signed with, or null. */
  getSignedCookieKeyVersion(name: string, value?: string | null): number | null {
    this.requireSetting('cookieSecret', 'signed cookies');
    const v = value !== undefined ? value : this.getCookie(name);
    if (v === undefined || v === null) return null;
    return getSignatureKeyVersion(v);
  }

  // ---------------------------------------------------------------- XSRF

  #xsrfCookieName(): string {
    return this.settings.xsrfCookieName ?? '_xsrf';
  }

  #getRawXsrfToken(): { version: number | null; token: Buffer; timestamp: number } {
    if (this.#rawXsrf === null) {
      const cookie = this.getCookie(this.#xsrfCookieName());
      const decoded = cookie ? decodeXsrfToken(cookie) : null;
      this.#rawXsrf =
        decoded !== null && decoded.token.length > 0
          ? decoded
          : { version: null, token: newXsrfTokenBytes(), timestamp: Math.floor(Date.now() / 1000) };
    }
    return this.#rawXsrf;
  }

  /**
   * The XSRF token of this request, masked afresh for every request (BREACH);
   * sets the XSRF cookie when the request had no valid one.
   */
  get xsrfToken(): string {
    if (this.#xsrfToken === null) {
      const raw = this.#getRawXsrfToken();
      const version = this.settings.xsrfCookieVersion ?? 2;
      this.#xsrfToken =
        version === 1 ? raw.token.toString('hex') : encodeXsrfToken(raw.token, raw.timestamp);
      if (raw.version === null) {
        const options: CookieOptions = { ...(this.settings.xsrfCookieKwargs ?? {}) };
        if (
          this.currentUser &&
          options.expiresDays === undefined &&
          options.expires === undefined
        ) {
          options.expiresDays = 30;
        }
        this.setCookie(this.#xsrfCookieName(), this.#xsrfToken, options);
      }
    }
    return this.#xsrfToken;
  }

  /**
   * Checks the XSRF token of an unsafe request: the `_xsrf` argument, else the
   * `X-Xsrftoken` or `X-Csrftoken` header, against the XSRF cookie.
   * @throws HttpError 403 (`'_xsrf' argument missing from POST`, `'_xsrf'
   * argument has invalid format`, `XSRF cookie does not match POST argument`).
   */
  checkXsrfCookie(): void {
    const token =
      this.getArgument('_xsrf', null) ||
      this.request.headers.get('X-Xsrftoken') ||
      this.request.headers.get('X-Csrftoken');
    if (!token) throw new HttpError(403, "'_xsrf' argument missing from POST");
    const decoded = decodeXsrfToken(token);
    const expected = this.#getRawXsrfToken();
    if (decoded === null || decoded.token.length === 0) {
      throw new HttpError(403, "'_xsrf' argument has invalid format");
    }
    if (!xsrfTokensEqual(decoded.token, expected.token)) {
      throw new HttpError(403, 'XSRF cookie does not match POST argument');
    }
  }

  /** `<input type="hidden" name="_xsrf" value="..."/>` for forms. */
  xsrfFormHtml(): string {
    return `<input type="hidden" name="_xsrf" value="${xhtmlEscape(this.xsrfToken)}"/>`;
  }

  // ---------------------------------------------------------------- user

  /** The authenticated user: `getCurrentUser()` on first read, or what was assigned. */
  get currentUser(): unknown {
    if (this.#currentUser === null) this.#currentUser = { value: this.getCurrentUser() };
    return this.#currentUser.value;
  }

  set currentUser(value: unknown) {
    this.#currentUser = { value };
  }

  /** Override to identify the user (synchronously; assign `currentUser` in an async `prepare` instead). */
  getCurrentUser(): unknown {
    return null;
  }

  /**
   * The login page for `authenticated`: the `loginUrl` setting.
   * @throws VesperError `VESPER_WEB_SETTING_REQUIRED` without it.
   */
  getLoginUrl(): string {
    this.requireSetting('loginUrl', 'authenticated()');
    return this.settings.loginUrl!;
  }

  // ---------------------------------------------------------------- URLs

  /**
   * A versioned URL for a static file (through the `staticHandlerClass`).
   * @throws VesperError `VESPER_WEB_SETTING_REQUIRED` without `staticPath`.
   */
  staticUrl(path: string, includeHost?: boolean, includeVersion = true): string {
    this.requireSetting('staticPath', 'staticUrl()');
    const cls = this.application.staticHandlerClass;
    const base =
      (includeHost ?? this.includeHost) ? `${this.request.protocol}://${this.request.host}` : '';
    return base + cls.makeStaticUrl(this.settings, path, includeVersion);
  }

  /** The path of a named route (see `Application.reverseUrl`). */
  reverseUrl(name: string, ...args: (string | number | Buffer)[]): string {
    return this.application.reverseUrl(name, ...args);
  }

  // ---------------------------------------------------------------- templates

  /** The template directory: the `templatePath` setting. */
  getTemplatePath(): string | undefined {
    return this.settings.templatePath;
  }

  /** Makes the loader for a template directory: the `templateLoader` setting, else a `Loader`. */
  createTemplateLoader(templatePath: string): BaseLoader {
    const s = this.settings;
    if (s.templateLoader !== undefined) return s.templateLoader;
    return new Loader(templatePath, {
      ...(s.autoescape !== undefined ? { autoescape: s.autoescape } : {}),
      ...(s.templateWhitespace !== undefined ? { whitespace: s.templateWhitespace } : {}),
    });
  }

  /**
   * What every template rendered by this handler sees: `handler`, `request`,
   * `currentUser`, `staticUrl`, `xsrfFormHtml`, `reverseUrl`, the escape
   * helpers, the UI methods (bound to this handler) and `_tt_modules`.
   */
  getTemplateNamespace(): Record<string, unknown> {
    const ns: Record<string, unknown> = {
      handler: this,
      request: this.request,
      currentUser: this.currentUser,
      staticUrl: (path: string, includeHost?: boolean) => this.staticUrl(path, includeHost),
      xsrfFormHtml: () => this.xsrfFormHtml(),
      reverseUrl: (name: string, ...args: (string | number | Buffer)[]) =>
        this.reverseUrl(name, ...args),
      xhtmlEscape,
      urlEscape,
      jsonEncode,
      squeeze,
      linkify,
    };
    const methods = this.settings.uiMethods;
    for (const group of methods === undefined ? [] : Array.isArray(methods) ? methods : [methods]) {
      for (const [name, fn] of Object.entries(group)) {
        ns[name] = (...args: unknown[]) => fn(this, ...args);
      }
    }
    const modules: Record<string, (...args: unknown[]) => string> = {};
    for (const [name, cls] of Object.entries(this.#uiModuleClasses())) {
      modules[name] = (...args: unknown[]) => String(this.#uiModule(name, cls).render(...args));
    }
    ns._tt_modules = modules;
    return ns;
  }

  #uiModuleClasses(): Record<string, UIModuleClass> {
    const out: Record<string, UIModuleClass> = {
      linkify: LinkifyModule,
      xsrfFormHtml: XsrfFormHtmlModule,
      Template: TemplateModule,
    };
    const mods = this.settings.uiModules;
    for (const group of mods === undefined ? [] : Array.isArray(mods) ? mods : [mods]) {
      Object.assign(out, group);
    }
    return out;
  }

  #uiModule(name: string, cls: UIModuleClass): UIModule {
    this.#activeModules ??= new Map();
    let m = this.#activeModules.get(name);
    if (m === undefined) {
      m = new cls(this);
      this.#activeModules.set(name, m);
    }
    return m;
  }

  /**
   * Renders a template to a string with the handler's namespace plus `kwargs`.
   * @throws VesperError `VESPER_WEB_SETTING_REQUIRED` with neither
   * `templatePath` nor `templateLoader`; template errors as the loader throws them.
   */
  renderString(templateName: string, kwargs: Record<string, unknown> = {}): string {
    const path = this.getTemplatePath();
    if (path === undefined && this.settings.templateLoader === undefined) {
      throw new VesperError(
        'VESPER_WEB_SETTING_REQUIRED',
        "You must define the 'templatePath' or 'templateLoader' setting to render templates.",
      );
    }
    const loader = this.application.templateLoaderFor(path ?? '', (p) =>
      this.createTemplateLoader(p),
    );
    const template = loader.load(templateName);
    return template.generate({ ...this.getTemplateNamespace(), ...kwargs });
  }

  /**
   * Renders a template, inserts what the UI modules used on the page asked for
   * (scripts before `</body>`, styles before `</head>`) and finishes.
   * @throws VesperError `VESPER_WEB_FINISHED` after `finish()`; as `renderString`.
   */
  render(templateName: string, kwargs: Record<string, unknown> = {}): Promise<void> {
    this.#checkOpen('render()');
    let html = this.renderString(templateName, kwargs);
    const jsEmbed: string[] = [];
    const jsFiles: string[] = [];
    const cssEmbed: string[] = [];
    const cssFiles: string[] = [];
    const heads: string[] = [];
    const bodies: string[] = [];
    const addFiles = (into: string[], part: ResourceFiles): void => {
      if (typeof part === 'string') {
        if (part) into.push(part);
      } else if (part) into.push(...part);
    };
    for (const m of this.#activeModules?.values() ?? []) {
      const js = m.embeddedJavascript();
      if (js) jsEmbed.push(js);
      addFiles(jsFiles, m.javascriptFiles());
      const css = m.embeddedCss();
      if (css) cssEmbed.push(css);
      addFiles(cssFiles, m.cssFiles());
      const head = m.htmlHead();
      if (head) heads.push(head);
      const body = m.htmlBody();
      if (body) bodies.push(body);
    }
    const before = (marker: string, last: boolean, text: string): void => {
      const at = last ? html.lastIndexOf(marker) : html.indexOf(marker);
      if (at >= 0) html = `${html.slice(0, at)}${text}\n${html.slice(at)}`;
    };
    if (jsFiles.length > 0) before('</body>', true, this.renderLinkedJs(jsFiles));
    if (jsEmbed.length > 0) before('</body>', true, this.renderEmbedJs(jsEmbed));
    if (cssFiles.length > 0) before('</head>', false, this.renderLinkedCss(cssFiles));
    if (cssEmbed.length > 0) before('</head>', false, this.renderEmbedCss(cssEmbed));
    if (heads.length > 0) before('</head>', false, heads.join(''));
    if (bodies.length > 0) before('</body>', false, bodies.join(''));
    return this.finish(html);
  }

  #uniquePaths(files: string[]): string[] {
    const seen = new Set<string>();
    const out: string[] = [];
    for (const f of files) {
      const p = isAbsoluteUrl(f) ? f : this.staticUrl(f);
      if (!seen.has(p)) {
        seen.add(p);
        out.push(p);
      }
    }
    return out;
  }

  /** The `<script src>` tags for UI modules' JavaScript files. */
  renderLinkedJs(files: string[]): string {
    return this.#uniquePaths(files)
      .map((p) => `<script src="${xhtmlEscape(p)}" type="text/javascript"></script>`)
      .join('');
  }

  /** The inline `<script>` for UI modules' embedded JavaScript. */
  renderEmbedJs(parts: string[]): string {
    return `<script type="text/javascript">\n//<![CDATA[\n${parts.join('\n')}\n//]]>\n</script>`;
  }

  /** The `<link>` tags for UI modules' CSS files. */
  renderLinkedCss(files: string[]): string {
    return this.#uniquePaths(files)
      .map((p) => `<link href="${xhtmlEscape(p)}" type="text/css" rel="stylesheet"/>`)
      .join('');
  }

  /** The inline `<style>` for UI modules' embedded CSS. */
  renderEmbedCss(parts: string[]): string {
    return `<style type="text/css">\n${parts.join('\n')}\n</style>`;
  }

  // ---------------------------------------------------------------- detach and execution

  /**
   * Hands the connection over (WebSocket after a successful upgrade): the
   * handler counts as finished, its close callback is removed, the request is
   * logged (as 101 when it came through an upgrade), and every HTTP output
   * method afterwards throws `VESPER_WEB_DETACHED`.
   * @throws VesperError `VESPER_WEB_FINISHED` when the response was already finished.
   */
  detach(): HTTPConnection['upgrade'] {
    if (this.#finished) throw outputError('VESPER_WEB_FINISHED', 'Cannot detach() after finish().');
    const connection = this.#connection();
    connection.setCloseCallback(null);
    if (connection.upgrade !== undefined && this.#statusCode === 200) this.setStatus(101);
    this.#detached = true;
    this.#finished = true;
    this.request.markFinished();
    this.application.logRequest(this);
    return connection.upgrade;
  }

  /** True once `detach()` ran. */
  get detached(): boolean {
    return this.#detached;
  }

  /** Turns off the automatic `finish()` after the verb method (long polling). */
  set autoFinish(value: boolean) {
    this.#autoFinish = value;
  }

  get autoFinish(): boolean {
    return this.#autoFinish;
  }

  /** `METHOD URI (remote ip)` for logs. */
  #requestSummary(): string {
    return `${this.request.method} ${redactUri(this.request.uri)} (${this.request.remoteIp})`;
  }

  /** Logs an exception that ended the request: HttpError with its log message and no stack, others with the stack. */
  logException(err: unknown): void {
    if (err instanceof HttpError) {
      if (err.logMessage !== undefined) {
        this.log.warn(`${err.statusCode} ${this.#requestSummary()}: ${err.logMessage}`);
      }
    } else if (isVesperError(err) && err.httpStatus !== undefined && err.httpStatus < 500) {
      this.log.warn(`${err.httpStatus} ${this.#requestSummary()}: ${err.message}`);
    } else {
      this.log.error({ err }, `Uncaught exception while handling ${this.#requestSummary()}.`);
    }
  }

  #handleRequestException(err: unknown): void {
    if (err instanceof Finish) {
      if (!this.#finished) void this.finish(err.chunk);
      return;
    }
    try {
      this.logException(err);
    } catch (logErr) {
      this.log.error({ err: logErr }, 'Error in exception logger.');
    }
    if (this.#finished) return;
    let status = 500;
    if (err instanceof HttpError) status = err.statusCode;
    else if (isVesperError(err) && err.httpStatus !== undefined) status = err.httpStatus;
    this.sendError(status, { error: err });
  }

  /**
   * Runs the life cycle for one request (called by the application).
   * `args`/`kwargs` are the raw path groups.
   */
  async _execute(
    transforms: OutputTransform[],
    args: (Buffer | undefined)[],
    kwargs: Record<string, Buffer | undefined>,
  ): Promise<void> {
    this.#transforms = transforms;
    try {
      this.initialize(this.#kwargs);
      const connection = this.#connection();
      connection.setCloseCallback(() => {
        try {
          this.onConnectionClose();
        } catch (err) {
          this.log.error({ err }, 'onConnectionClose() failed.');
        }
      });
      const method = this.request.method;
      const cls = this.constructor as typeof RequestHandler;
      if (!cls.SUPPORTED_METHODS.includes(method)) throw new HttpError(405);
      if (this.request.body.length > 0) this.request.parseBody();
      const positional: (string | undefined)[] = [];
      for (const a of args) positional.push(a === undefined ? undefined : this.decodeArgument(a));
      this.pathArgs = positional;
      const named: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(kwargs)) {
        named[k] = v === undefined ? undefined : this.decodeArgument(v, k);
      }
      this.pathKwargs = named;
      if (
        method !== 'GET' &&
        method !== 'HEAD' &&
        method !== 'OPTIONS' &&
        this.settings.xsrfCookies === true
      ) {
        this.checkXsrfCookie();
      }
      const prepared = this.prepare();
      if (prepared !== undefined) await prepared;
      if (this.#finished) return;
      const verb = (this as unknown as Record<string, unknown>)[method.toLowerCase()];
      if (typeof verb !== 'function') throw new HttpError(405);
      const callArgs = args.length > 0 ? positional : Object.values(named);
      const result: unknown = (verb as (...a: (string | undefined)[]) => unknown).apply(
        this,
        callArgs,
      );
      if (result instanceof Promise) await result;
      if (this.#autoFinish && !this.#finished) await this.finish();
    } catch (err) {
      try {
        this.#handleRequestException(err);
      } catch (inner) {
        this.log.error({ err: inner }, 'Exception in the exception handler.');
      }
    }
  }
}
