/**
 * @module `Application`: the routing table and settings of a web application,
 * the entry point Node's HTTP server calls for every request (and upgrade), and
 * the access log.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { VesperError } from '../shared/errors/index.js';
import { silentLogger, type Logger } from '../shared/log/index.js';
import { ErrorHandler } from './builtin-handlers.js';
import {
  RawSocketConnection,
  ServerResponseConnection,
  type HTTPConnection,
} from './http-connection.js';
import { HTTPServerRequest } from './http-server-request.js';
import { HTTPHeaders } from './httputil.js';
import { GZipContentEncoding, type OutputTransformClass } from './output-transform.js';
import type { RequestHandler, RequestHandlerClass } from './request-handler.js';
import { redactUri } from './redact-uri.js';
import { HostMatcher, URLSpec, type PathMatch } from './routing.js';
import type { CookieOptions } from './set-cookie.js';
import { StaticFileHandler } from './static-file-handler.js';
import type { BaseLoader } from './template/index.js';
import type { UIModuleClass } from './ui-module.js';
import { reasonPhrase } from './web-errors.js';
import { WebServer, type ListenTarget } from './web-server.js';

/** A routing rule: a `URLSpec` or `[pattern, handlerClass, kwargs?, name?]`. */
export type Rule =
  | URLSpec<RequestHandlerClass>
  | readonly [
      pattern: string | RegExp,
      handlerClass: RequestHandlerClass,
      kwargs?: Record<string, unknown>,
      name?: string,
    ];

/** UI methods: functions called from templates as `name(...args)`, receiving the handler first. */
export type UIMethods = Record<string, (handler: RequestHandler, ...args: unknown[]) => unknown>;

/** What the application needs of its static file handler class. */
export type StaticHandlerClass = RequestHandlerClass & {
  makeStaticUrl(settings: ApplicationSettings, path: string, includeVersion?: boolean): string;
  resetCache?(): void;
};

/** The settings of an application (Tornado's, in camelCase, plus a few of ours). */
export interface ApplicationSettings {
  /** Signs cookies: one secret, or `{keyVersion: secret}` with `keyVersion` naming the signing one. */
  cookieSecret?: string | Record<number, string>;
  /** The key version that signs when `cookieSecret` is a map. */
  keyVersion?: number;
  /** Check an XSRF token on every POST/PUT/PATCH/DELETE... request. */
  xsrfCookies?: boolean;
  /** The XSRF cookie's name (default `_xsrf`; the form field stays `_xsrf`). */
  xsrfCookieName?: string;
  /** XSRF token format: 2 (masked, the default) or 1. */
  xsrfCookieVersion?: 1 | 2;
  /** Extra `setCookie` options for the XSRF cookie. */
  xsrfCookieKwargs?: CookieOptions;
  /** Where `authenticated` sends users who are not logged in. */
  loginUrl?: string;
  /** The template directory. */
  templatePath?: string;
  /** A loader to use instead of one made from `templatePath` (overrides autoescape/whitespace). */
  templateLoader?: BaseLoader;
  /** The autoescape function name of templates (default `xhtmlEscape`; null = off). */
  autoescape?: string | null;
  /** Template whitespace mode. */
  templateWhitespace?: 'all' | 'single' | 'oneline';
  /** Keep compiled templates between requests (default true; false with `debug`). */
  compiledTemplateCache?: boolean;
  /** Serve static files from this directory (adds the static routes). */
  staticPath?: string;
  /** URL prefix of static files (default `/static/`). */
  staticUrlPrefix?: string;
  /** The static file handler class (default `StaticFileHandler`). */
  staticHandlerClass?: StaticHandlerClass;
  /** Extra kwargs for the static handler. */
  staticHandlerArgs?: Record<string, unknown>;
  /** Keep static file version hashes between requests (default true; false with `debug`). */
  staticHashCache?: boolean;
  /** Gzip compressible responses for clients that accept it. */
  compressResponse?: boolean;
  /** Development mode: no template or hash caches, tracebacks on error pages. */
  debug?: boolean;
  /** Error pages show the exception's stack as text/plain (never in production). */
  serveTraceback?: boolean;
  /** UI methods (an object or a list of objects). */
  uiMethods?: UIMethods | UIMethods[];
  /** UI modules by name (an object or a list of objects). */
  uiModules?: Record<string, UIModuleClass> | Record<string, UIModuleClass>[];
  /** Replaces the access log line. */
  logFunction?: (handler: RequestHandler) => void;
  /** Handles requests no rule matches (default: a 404 `ErrorHandler`). */
  defaultHandlerClass?: RequestHandlerClass;
  /** Kwargs of `defaultHandlerClass`. */
  defaultHandlerArgs?: Record<string, unknown>;
  /** The largest request body, in bytes (default 10 MiB); larger ones get 413. */
  maxBodySize?: number;
  /** Milliseconds allowed to receive a request body (default none); then 408 and close. */
  bodyTimeout?: number;
  /** The logger for the access log and errors (default silent). */
  log?: Logger;
  /** Other settings, read by handlers and mixins. */
  [key: string]: unknown;
}

interface HostRules {
  matcher: HostMatcher | null;
  specs: URLSpec<RequestHandlerClass>[];
}

/** Where a request was routed. */
export interface HandlerMatch {
  spec: URLSpec<RequestHandlerClass>;
  match: PathMatch;
}

const DEFAULT_MAX_BODY = 10 * 1024 * 1024;
const EMPTY = Buffer.alloc(0);
function remoteIpOf(socket: { remoteAddress?: string | undefined }): string {
  const ip = socket.remoteAddress ?? '';
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

function toSpec(rule: Rule): URLSpec<RequestHandlerClass> {
  if (rule instanceof URLSpec) return rule;
  const [pattern, handlerClass, kwargs, name] = rule;
  return new URLSpec(pattern, handlerClass, kwargs ?? {}, name);
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/**
 * A web application: rules matched in order (first match wins; host-specific
 * rules added with `addHandlers` come before the wildcard ones), settings,
 * and the request entry points for Node's HTTP server.
 *
 * The body of a request is read completely (up to `maxBodySize`, else 413)
 * before the handler runs, as Tornado does without `stream_request_body`.
 */
export class Application {
  /** The settings, with `debug`'s defaults applied. */
  readonly settings: ApplicationSettings;
  /** The logger for the access log and errors. */
  readonly log: Logger;
  readonly #hosts: HostRules[];
  readonly #named = new Map<string, URLSpec<RequestHandlerClass>>();
  readonly #transforms: OutputTransformClass[] = [];
  readonly #templateLoaders = new Map<string, BaseLoader>();
  readonly #maxBodySize: number;

  /**
   * @throws VesperError `VESPER_WEB_BAD_ROUTE` for an invalid rule pattern,
   * `VESPER_WEB_BAD_SETTING` for an invalid setting.
   */
  constructor(rules: Rule[] = [], settings: ApplicationSettings = {}) {
    const s: ApplicationSettings = { ...settings };
    if (s.debug === true) {
      s.compiledTemplateCache ??= false;
      s.staticHashCache ??= false;
      s.serveTraceback ??= true;
    }
    if (s.maxBodySize !== undefined && !(Number.isInteger(s.maxBodySize) && s.maxBodySize >= 0)) {
      throw new VesperError('VESPER_WEB_BAD_SETTING', 'invalid maxBodySize');
    }
    if (s.bodyTimeout !== undefined && !(typeof s.bodyTimeout === 'number' && s.bodyTimeout > 0)) {
      throw new VesperError('VESPER_WEB_BAD_SETTING', 'invalid bodyTimeout');
    }
    if (typeof s.cookieSecret === 'object' && s.keyVersion === undefined) {
      throw new VesperError(
        'VESPER_WEB_BAD_SETTING',
        'keyVersion must be set when cookieSecret is a map of versions',
      );
    }
    this.settings = s;
    this.log = s.log ?? silentLogger;
    this.#maxBodySize = s.maxBodySize ?? DEFAULT_MAX_BODY;
    if (s.compressResponse === true) this.#transforms.push(GZipContentEncoding);
    const all = [...rules];
    if (s.staticPath !== undefined) {
      const cls = this.staticHandlerClass;
      const args = { ...(s.staticHandlerArgs ?? {}), path: s.staticPath };
      const prefix = s.staticUrlPrefix ?? '/static/';
      for (const pattern of [`${escapeRegex(prefix)}(.*)`, '/(favicon\\.ico)', '/(robots\\.txt)']) {
        all.unshift([pattern, cls, args]);
      }
    }
    this.#hosts = [{ matcher: null, specs: [] }];
    this.#addRules(this.#hosts[0]!, all);
  }

  #addRules(host: HostRules, rules: Rule[]): void {
    for (const rule of rules) {
      const spec = toSpec(rule);
      host.specs.push(spec);
      if (spec.name !== undefined) this.#named.set(spec.name, spec);
    }
  }

  /** The static file handler class in use. */
  get staticHandlerClass(): StaticHandlerClass {
    return this.settings.staticHandlerClass ?? StaticFileHandler;
  }

  /**
   * Adds rules for hosts matching `hostPattern` (anchored; matched against the
   * lowercased host name). They are tried before the wildcard rules, in the
   * order added; if none of a matching host's rules match, routing falls
   * through to the next matching host and then to the wildcard rules.
   */
  addHandlers(hostPattern: string | RegExp, rules: Rule[]): void {
    const host: HostRules = { matcher: new HostMatcher(hostPattern), specs: [] };
    this.#hosts.splice(this.#hosts.length - 1, 0, host);
    this.#addRules(host, rules);
  }

  /** Adds an output transform class (gzip is added by `compressResponse`). */
  addTransform(cls: OutputTransformClass): void {
    this.#transforms.push(cls);
  }

  /** The rule and groups matching a request, or null. */
  findHandler(request: HTTPServerRequest): HandlerMatch | null {
    for (const host of this.#hosts) {
      if (host.matcher !== null && !host.matcher.matches(request.hostName)) continue;
      for (const spec of host.specs) {
        const match = spec.match(request.path);
        if (match !== null) return { spec, match };
      }
    }
    return null;
  }

  /**
   * The path of the rule named `name` with `args` substituted into its groups.
   * @throws VesperError `VESPER_WEB_NO_SUCH_ROUTE` when no rule has that name,
   * `VESPER_WEB_CANNOT_REVERSE` as `URLSpec.reverse`.
   */
  reverseUrl(name: string, ...args: (string | number | Buffer)[]): string {
    const spec = this.#named.get(name);
    if (spec === undefined) {
      throw new VesperError('VESPER_WEB_NO_SUCH_ROUTE', `${name} not found in named urls.`);
    }
    return spec.reverse(...args);
  }

  /** The template loader for `path`, made with `create` on first use and then cached. */
  templateLoaderFor(path: string, create: (path: string) => BaseLoader): BaseLoader {
    let loader = this.#templateLoaders.get(path);
    if (loader === undefined) {
      loader = create(path);
      this.#templateLoaders.set(path, loader);
    }
    return loader;
  }

  /**
   * Writes the access log line of a finished request: `200 GET /path?q (1.2.3.4)
   * 1.23ms` at info below 400, warn below 500, error otherwise; the
   * `logFunction` setting replaces it. Values of query parameters whose names
   * look secret (token, key, password...) are redacted; cookies never appear.
   */
  logRequest(handler: RequestHandler): void {
    const fn = this.settings.logFunction;
    if (fn !== undefined) {
      fn(handler);
      return;
    }
    const status = handler.getStatus();
    const level = status < 400 ? 'info' : status < 500 ? 'warn' : 'error';
    if (!this.log.isLevelEnabled(level)) return;
    const r = handler.request;
    const ms = r.requestTime() * 1000;
    const uri = redactUri(r.uri);
    this.log[level](
      { status, method: r.method, uri, remoteIp: r.remoteIp, ms: Math.round(ms * 100) / 100 },
      `${status} ${r.method} ${uri} (${r.remoteIp}) ${ms.toFixed(2)}ms`,
    );
  }

  /** Answers without a handler (413, 408, 400 before routing), closing the connection. */
  #answerBare(connection: HTTPConnection, code: number, why: string, uri: string): void {
    const reason = reasonPhrase(code);
    const body = Buffer.from(
      `<html><title>${code}: ${reason}</title><body>${code}: ${reason}</body></html>`,
    );
    const headers = new HTTPHeaders();
    headers.set('Content-Type', 'text/html; charset=UTF-8');
    headers.set('Content-Length', String(body.length));
    headers.set('Connection', 'close');
    this.log.warn(`${code} ${redactUri(uri)}: ${why}`);
    connection.writeHeaders({ code, reason }, headers, body).then(
      () => connection.finish(),
      () => connection.finish(),
    );
  }

  /**
   * Serves one request from Node's HTTP server: reads the body (bounded by
   * `maxBodySize` and `bodyTimeout`), routes, and runs the handler.
   */
  handleRequest(req: IncomingMessage, res: ServerResponse): void {
    const connection = new ServerResponseConnection(res);
    const cl = req.headers['content-length'];
    if (cl === undefined && req.headers['transfer-encoding'] === undefined) {
      this.#dispatch(req, connection, EMPTY);
      return;
    }
    const uri = req.url ?? '/';
    if (cl !== undefined && Number(cl) > this.#maxBodySize) {
      res.shouldKeepAlive = false;
      this.#answerBare(connection, 413, `body of ${cl} bytes exceeds maxBodySize`, uri);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const timeout = this.settings.bodyTimeout;
    const timer =
      timeout === undefined
        ? undefined
        : setTimeout(() => {
            if (done) return;
            done = true;
            res.shouldKeepAlive = false;
            req.pause();
            this.#answerBare(connection, 408, 'Timeout reading body', uri);
          }, timeout);
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > this.#maxBodySize) {
        done = true;
        clearTimeout(timer);
        res.shouldKeepAlive = false;
        req.pause();
        this.#answerBare(connection, 413, 'body exceeds maxBodySize', uri);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.#dispatch(req, connection, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
    req.on('error', () => {
      done = true;
      clearTimeout(timer);
    });
  }

  /**
   * Serves a request that came through the server's `'upgrade'` event: a
   * WebSocket handler takes the socket over through `request.connection.upgrade`
   * and `detach()`; any other handler answers plain HTTP on the raw socket,
   * which is then closed.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#dispatch(req, new RawSocketConnection(req, socket, head), EMPTY);
  }

  #dispatch(req: IncomingMessage, connection: HTTPConnection, body: Buffer): void {
    let request: HTTPServerRequest;
    try {
      request = new HTTPServerRequest({
        method: req.method ?? 'GET',
        uri: req.url ?? '/',
        version: `HTTP/${req.httpVersion}`,
        headers: HTTPHeaders.fromNode(req.rawHeaders),
        body,
        remoteIp: remoteIpOf(req.socket),
        protocol: (req.socket as Partial<TLSSocket>).encrypted === true ? 'https' : 'http',
        connection,
      });
    } catch (err) {
      this.log.warn({ err }, 'Refused a malformed request.');
      this.#answerBare(connection, 400, 'malformed request', req.url ?? '/');
      return;
    }
    this.execute(request);
  }

  /** Routes a request and runs its handler (the request carries its connection). */
  execute(request: HTTPServerRequest): void {
    const s = this.settings;
    if (s.compiledTemplateCache === false) {
      for (const loader of this.#templateLoaders.values()) loader.reset();
    }
    if (s.staticHashCache === false) this.staticHandlerClass.resetCache?.();
    const found = this.findHandler(request);
    let handler: RequestHandler;
    let args: (Buffer | undefined)[] = [];
    let kwargs: Record<string, Buffer | undefined> = {};
    if (found !== null) {
      handler = new found.spec.handlerClass(this, request, found.spec.kwargs);
      args = found.match.args;
      kwargs = found.match.kwargs;
    } else if (s.defaultHandlerClass !== undefined) {
      handler = new s.defaultHandlerClass(this, request, s.defaultHandlerArgs ?? {});
    } else {
      handler = new ErrorHandler(this, request, { statusCode: 404 });
    }
    const transforms = this.#transforms.map((T) => new T(request));
    handler._execute(transforms, args, kwargs).catch((err: unknown) => {
      this.log.error({ err }, 'Unexpected failure while running a handler.');
    });
  }

  /**
   * Listens on a TCP port (`0` picks one), `{port, host}`, or a Unix socket
   * `{path, mode}` (a stale socket file is removed first, the socket is chmod-ed
   * to `mode`). Upgrade requests go to `handleUpgrade`; malformed requests get
   * `400 Bad Request` and the connection is closed.
   * @throws VesperError `VESPER_WEB_LISTEN_FAILED`, `VESPER_WEB_ADDRESS_IN_USE`,
   * `VESPER_WEB_NOT_A_SOCKET`.
   */
  async listen(target: ListenTarget): Promise<WebServer> {
    const server = createServer((req, res) => this.handleRequest(req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.handleUpgrade(req, socket, head),
    );
    // Answer `Expect: 100-continue` with 413 straight away when the declared body
    // is too large, instead of inviting the client to send it.
    server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      const cl = Number(req.headers['content-length'] ?? 0);
      if (!(cl > this.#maxBodySize)) res.writeContinue();
      this.handleRequest(req, res);
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      if (!socket.writable) {
        socket.destroy();
        return;
      }
      const response =
        err.code === 'HPE_HEADER_OVERFLOW'
          ? 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n'
          : 'HTTP/1.1 400 Bad Request\r\n\r\n';
      socket.end(response);
    });
    return new WebServer(server).listen(target);
  }
}
