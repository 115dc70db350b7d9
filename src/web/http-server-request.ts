/**
 * @module HTTPServerRequest: one HTTP request as a handler sees it (Tornado's
 * `httputil.HTTPServerRequest`).
 */
import type { HTTPConnection } from './http-connection.js';
import { HTTPHeaders } from './http-headers.js';
import { parseBodyArguments, type BodyLimits } from './httputil.js';
import type { FilesDict } from './multipart.js';
import { parseCookie } from './parse-cookie.js';
import { parseQsBytes, type ArgumentsDict } from './query-string.js';

/** What {@link HTTPServerRequest} is built from. */
export interface HTTPServerRequestInit {
  /** The request method, e.g. `GET`. */
  method: string;
  /** The request target as received, e.g. `/a/b?c=d` (still percent-encoded). */
  uri: string;
  /** The protocol version, e.g. `HTTP/1.1`; default `HTTP/1.0` as Tornado. */
  version?: string;
  /** The request headers. */
  headers?: HTTPHeaders;
  /** The whole request body; default empty. */
  body?: Buffer;
  /** The client's address. */
  remoteIp: string;
  /** The scheme the client used. */
  protocol: 'http' | 'https';
  /** The host the request is for; default the `Host` header, else `127.0.0.1`. */
  host?: string;
  /** The connection the response goes to. */
  connection?: HTTPConnection;
}

/**
 * Python's `http.cookies` rejects these names (they are cookie attributes) and
 * any name outside its legal character set; Tornado drops such cookies from
 * `request.cookies` rather than failing the request.
 */
const RESERVED_COOKIE_NAMES = new Set([
  'expires',
  'path',
  'comment',
  'domain',
  'max-age',
  'secure',
  'httponly',
  'version',
  'samesite',
]);
const LEGAL_COOKIE_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~:]+$/;

function cloneArgs(args: ArgumentsDict): ArgumentsDict {
  const out = Object.create(null) as ArgumentsDict;
  for (const key of Object.keys(args)) out[key] = args[key]!.slice();
  return out;
}

/**
 * Splits the host name from a `Host` value and lower-cases it, as Tornado's
 * `split_host_and_port`: `Example.COM:8080` gives `example.com`, `[::1]:8080`
 * gives `[::1]` (an IPv6 literal keeps its brackets).
 */
export function hostNameOf(host: string): string {
  const lower = host.toLowerCase();
  if (lower.startsWith('[')) {
    const close = lower.indexOf(']');
    if (close !== -1) return lower.slice(0, close + 1);
  }
  const m = /^(.+):(\d+)$/s.exec(lower);
  return m === null ? lower : m[1]!;
}

/**
 * A single HTTP request. The body, when there is one, has been read in full;
 * `parseBody()` turns a form body into `bodyArguments` and `files`.
 *
 * `arguments`, `queryArguments` and `bodyArguments` map names to lists of byte
 * values (blank values kept); `arguments` holds the query values first, then
 * the body's. `cookies` is parsed on first use.
 */
export class HTTPServerRequest {
  /** The request method, e.g. `GET`. */
  readonly method: string;
  /** The request target as received. */
  readonly uri: string;
  /** The path part of `uri`, still percent-encoded. */
  readonly path: string;
  /** The query part of `uri`, without the `?`. */
  readonly query: string;
  /** The protocol version, e.g. `HTTP/1.1`. */
  readonly version: string;
  /** The request headers. */
  readonly headers: HTTPHeaders;
  /** The request body (empty when there was none). */
  readonly body: Buffer;
  /** The client's address. */
  readonly remoteIp: string;
  /** The scheme the client used. */
  readonly protocol: 'http' | 'https';
  /** The requested host, usually from the `Host` header. */
  readonly host: string;
  /** `host` lower-cased without its port. */
  readonly hostName: string;
  /** Query and body arguments together, query values first. */
  readonly arguments: ArgumentsDict;
  /** The arguments from the query string. */
  readonly queryArguments: ArgumentsDict;
  /** The arguments from the body (filled by {@link HTTPServerRequest.parseBody}). */
  readonly bodyArguments: ArgumentsDict = Object.create(null) as ArgumentsDict;
  /** Uploaded files by field name (filled by {@link HTTPServerRequest.parseBody}). */
  readonly files: FilesDict = Object.create(null) as FilesDict;
  /** The connection the response goes to. */
  readonly connection: HTTPConnection | undefined;

  #cookies: Record<string, string> | undefined;
  readonly #startTime = performance.now();
  #finishTime: number | undefined;

  constructor(init: HTTPServerRequestInit) {
    this.method = init.method;
    this.uri = init.uri;
    this.version = init.version ?? 'HTTP/1.0';
    this.headers = init.headers ?? new HTTPHeaders();
    this.body = init.body ?? Buffer.alloc(0);
    this.remoteIp = init.remoteIp;
    this.protocol = init.protocol;
    this.host = init.host || this.headers.get('Host') || '127.0.0.1';
    this.hostName = hostNameOf(this.host);
    this.connection = init.connection;
    const q = this.uri.indexOf('?');
    this.path = q === -1 ? this.uri : this.uri.slice(0, q);
    this.query = q === -1 ? '' : this.uri.slice(q + 1);
    this.arguments = parseQsBytes(this.query);
    this.queryArguments = cloneArgs(this.arguments);
  }

  /**
   * The request's cookies, `{name: value}` (null prototype), parsed from the
   * `Cookie` header on first use. Names that cannot be cookie names (attribute
   * names such as `Path`, or characters outside the token set) are left out, as
   * Tornado does; a header that cannot be parsed gives `{}`. Never throws.
   */
  get cookies(): Record<string, string> {
    if (this.#cookies === undefined) {
      const cookies = Object.create(null) as Record<string, string>;
      const header = this.headers.get('Cookie');
      if (header !== undefined) {
        try {
          const parsed = parseCookie(header);
          for (const name of Object.keys(parsed)) {
            if (LEGAL_COOKIE_NAME.test(name) && !RESERVED_COOKIE_NAMES.has(name.toLowerCase())) {
              cookies[name] = parsed[name]!;
            }
          }
        } catch {
          // A header parseCookie cannot read means no cookies, not a failed request.
        }
      }
      this.#cookies = cookies;
    }
    return this.#cookies;
  }

  /** The full URL of the request: `protocol://host/uri`. */
  fullUrl(): string {
    return `${this.protocol}://${this.host}${this.uri}`;
  }

  /**
   * Seconds the request has taken so far, or took in all once
   * {@link HTTPServerRequest.markFinished} was called.
   */
  requestTime(): number {
    return ((this.#finishTime ?? performance.now()) - this.#startTime) / 1000;
  }

  /** Records that the response has been finished; `requestTime()` stops there. */
  markFinished(): void {
    this.#finishTime ??= performance.now();
  }

  /**
   * Parses the body as a form (urlencoded or multipart, by `Content-Type`) into
   * `bodyArguments` and `files`, and appends the body arguments to `arguments`.
   * @throws {VesperError} `VESPER_WEB_BAD_BODY` (httpStatus 400) for a malformed
   * or over-limit body; nothing is changed then.
   */
  parseBody(limits?: BodyLimits): void {
    parseBodyArguments(
      this.headers.get('Content-Type') ?? '',
      this.body,
      this.bodyArguments,
      this.files,
      this.headers,
      limits,
    );
    for (const key of Object.keys(this.bodyArguments)) {
      const values = this.bodyArguments[key]!;
      const existing = this.arguments[key];
      if (existing === undefined) this.arguments[key] = values.slice();
      else existing.push(...values);
    }
  }
}
