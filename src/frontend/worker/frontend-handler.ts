/**
 * @module The worker's routes: login pages, icons and static files, `/_health`, and session URLs (proxied); with one access-log line per request.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { VesperConfig } from '../../shared/config/index.js';
import type { Logger } from '../../shared/log/index.js';
import { redactUri } from '../../web/index.js';
import type {
  ClientConnection,
  ConnectionHandler,
  ConnectionInfo,
  IncomingRequest,
} from './http/client-connection.js';
import type { ProtocolError } from './http/protocol-error.js';
import type { RequestHead } from './http/request-head.js';
import type { ServerReply } from './http/server-reply.js';
import { LoginRoutes } from './login/login-routes.js';
import type { PageRenderer } from './pages/page-renderer.js';
import { HSTS_HEADER } from './pages/security-headers.js';
import { sendPage } from './pages/send-page.js';
import { SessionResolver, sessionUser } from './proxy/session-address.js';
import { SessionProxy, type ProxyOutcomes } from './proxy/session-proxy.js';
import { WebSocketProxy } from './proxy/websocket-proxy.js';
import { GzipPolicy } from './static/gzip-policy.js';
import { StaticFiles } from './static/static-files.js';

/** What the handler is built from. */
export interface FrontendHandlerOptions {
  readonly config: VesperConfig;
  readonly pages: PageRenderer;
  readonly log: Logger;
  /** The cookie-signing secret shared by the workers. */
  readonly secret: Buffer;
  /** The folder `/static/` serves (its `icons/` folder serves `/icons/`). */
  readonly staticDir: string;
  /** The bound port of the first TLS listener, or null (for https links and redirects). */
  readonly tlsPort: () => number | null;
}

/**
 * The path as logged: the session key left out of session URLs
 * (`/session/alice/-/home`) and secret-looking query values redacted.
 */
export function loggedPath(target: {
  segments: readonly string[];
  canonical: string;
  path: string;
}): string {
  if (target.segments[0] === 'session' && (target.segments[2] ?? '') !== '') {
    const parts = target.path.split('/');
    parts[3] = '-';
    return redactUri(parts.join('/') + target.canonical.slice(target.path.length));
  }
  return redactUri(target.canonical);
}

/** Serves the requests of every connection of a worker. */
export class FrontendHandler implements ConnectionHandler, ProxyOutcomes {
  /** Requests being answered now (an open WebSocket counts as one). */
  inflightRequests = 0;
  /** Requests answered since start. */
  requests = 0;
  readonly #config: VesperConfig;
  readonly #pages: PageRenderer;
  readonly #log: Logger;
  readonly #login: LoginRoutes;
  readonly #icons: StaticFiles;
  readonly #static: StaticFiles;
  readonly #proxy: SessionProxy;
  readonly #websockets: WebSocketProxy;
  readonly #sessions: SessionResolver;
  readonly #idPrefix = randomBytes(4).toString('hex');
  readonly #connections = new Set<ClientConnection>();
  #nextId = 0;

  constructor(options: FrontendHandlerOptions) {
    this.#config = options.config;
    this.#pages = options.pages;
    this.#log = options.log;
    this.#login = new LoginRoutes(
      options.config,
      options.pages,
      options.secret,
      options.log,
      options.tlsPort,
    );
    const fe = options.config.frontend;
    const gzip = new GzipPolicy(fe.gzip_allow_nets, fe.gzip_deny_nets);
    this.#icons = new StaticFiles(join(options.staticDir, 'icons'), fe.icon_expire, 'icons', gzip);
    this.#static = new StaticFiles(options.staticDir, fe.static_expire, 'idle', gzip);
    this.#sessions = new SessionResolver(options.config.session.socket_dir);
    this.#proxy = new SessionProxy(this, { answerTimeout: fe.timeout.answer });
    this.#websockets = new WebSocketProxy(this, fe.timeout.header);
  }

  /** Client connections open now. */
  get connections(): ReadonlySet<ClientConnection> {
    return this.#connections;
  }

  /** WebSocket tunnels open now. */
  get websockets(): WebSocketProxy {
    return this.#websockets;
  }

  /** Registers a new connection (for drain and counts). */
  connectionOpened(connection: ClientConnection): void {
    this.#connections.add(connection);
  }

  /** {@inheritDoc ConnectionHandler.connectionClosed} */
  connectionClosed(connection: ClientConnection): void {
    this.#connections.delete(connection);
  }

  #requestId(): string {
    return `${this.#idPrefix}-${(this.#nextId++).toString(36)}`;
  }

  #track(
    reply: ServerReply,
    requestId: string,
    request: IncomingRequest | null,
    info: ConnectionInfo,
    code?: string,
  ): void {
    this.inflightRequests++;
    const started = performance.now();
    reply.onFinish(() => {
      this.inflightRequests--;
      this.requests++;
      if (!this.#config.log.access) return;
      this.#log.info(
        {
          requestId,
          method: request?.head.method,
          path: request === null ? undefined : loggedPath(request.target),
          status: reply.status,
          bytes: reply.bytes,
          ms: Math.round((performance.now() - started) * 10) / 10,
          clientIp: info.clientIp,
          tls: info.tls,
          listener: info.listener,
          code,
        },
        request === null
          ? `refused a malformed request with ${reply.status}`
          : `${request.head.method} ${loggedPath(request.target)} ${reply.status}`,
      );
    });
  }

  /** {@inheritDoc ConnectionHandler.refuse} */
  refuse(
    error: ProtocolError,
    reply: ServerReply,
    info: ConnectionInfo,
    _head: RequestHead | null,
  ): void {
    this.#track(reply, this.#requestId(), null, info, error.code);
    const message =
      error.status === 413
        ? 'The request is too large.'
        : error.status === 414
          ? 'The address is too long.'
          : error.status === 431
            ? 'The request headers are too large.'
            : 'The request could not be understood.';
    sendPage(reply, error.status, this.#pages.error(error.status, message), info.tls);
  }

  /** {@inheritDoc ConnectionHandler.request} */
  request(request: IncomingRequest, reply: ServerReply): void {
    const requestId = this.#requestId();
    this.#track(reply, requestId, request, request);
    try {
      this.#route(request, reply, requestId);
    } catch (err) {
      this.#log.error({ requestId, err }, 'A request failed inside the worker.');
      if (!reply.headSent)
        sendPage(reply, 500, this.#pages.error(500, 'Something went wrong.'), request.tls);
      else reply.abort();
    }
  }

  #route(request: IncomingRequest, reply: ServerReply, requestId: string): void {
    const { segments } = request.target;
    const method = request.head.method;
    const read = method === 'GET' || method === 'HEAD';
    const first = segments[0];
    if (first === 'session' && segments.length >= 2) {
      const address = this.#sessions.resolve(request.target, request.head.get('cookie'));
      reply.kind = 'session';
      if (address.socketPath === null) {
        this.ended(request, reply, []);
      } else if (address.websocket && request.head.upgrade === 'websocket' && method === 'GET') {
        this.#websockets.forward(request, reply, address.socketPath, requestId);
      } else this.#proxy.forward(request, reply, address.socketPath, requestId);
      return;
    }
    if (
      (segments.length === 1 && (first === '' || first === 'login')) ||
      (segments.length === 2 && first === 'login')
    ) {
      if (method === 'POST' && segments.length === 1 && first === 'login') {
        this.#login.post(request, reply, requestId);
      } else if (read) this.#login.page(request, reply, segments[1] ?? '');
      else this.#notAllowed(request, reply, read ? 'GET, HEAD, POST' : 'GET, HEAD, POST');
      return;
    }
    if (segments.length === 1 && first === '_health') {
      if (!read) return this.#notAllowed(request, reply, 'GET, HEAD');
      const fields: [string, string][] = [
        ['Content-Type', 'text/plain; charset=utf-8'],
        ['Cache-Control', 'no-store'],
      ];
      if (request.tls) fields.push([...HSTS_HEADER]);
      reply.send(200, fields, 'ok');
      return;
    }
    if (first === 'icons' || first === 'static') {
      if (!read) return this.#notAllowed(request, reply, 'GET, HEAD');
      const files = first === 'icons' ? this.#icons : this.#static;
      if (files.serve(request, reply, segments.slice(1))) return;
    }
    sendPage(reply, 404, this.#pages.error(404, 'There is no such page.'), request.tls);
  }

  #notAllowed(request: IncomingRequest, reply: ServerReply, allow: string): void {
    sendPage(reply, 405, this.#pages.error(405, 'This method is not allowed here.'), request.tls, [
      ['Allow', allow],
    ]);
  }

  /** {@inheritDoc ProxyOutcomes.ended} */
  ended(
    request: IncomingRequest,
    reply: ServerReply,
    fields: readonly (readonly [string, string])[],
  ): void {
    if (reply.finished) return;
    const user = sessionUser(request.target);
    const html = this.#pages.sessionEnded(user === null ? '/login' : `/login/${user}`, fields);
    reply.closeAfter ||= request.body !== null && !request.body.readableEnded;
    sendPage(reply, 404, html, request.tls);
  }

  /** {@inheritDoc ProxyOutcomes.timedOut} */
  timedOut(request: IncomingRequest, reply: ServerReply): void {
    const seconds = Math.round(this.#config.frontend.timeout.answer / 100) / 10;
    this.#log.warn(
      { user: sessionUser(request.target), path: loggedPath(request.target), seconds },
      `A session did not answer within ${seconds} s (frontend.timeout.answer); the request was given up with a 504 page.`,
    );
    if (reply.finished) return;
    reply.closeAfter ||= request.body !== null && !request.body.readableEnded;
    sendPage(
      reply,
      504,
      this.#pages.error(504, 'Your session did not answer in time. Please try again in a moment.'),
      request.tls,
    );
  }

  /** {@inheritDoc ProxyOutcomes.unavailable} */
  unavailable(request: IncomingRequest, reply: ServerReply): void {
    if (reply.finished) return;
    const user = sessionUser(request.target);
    sendPage(
      reply,
      503,
      this.#pages.unavailable(user === null ? '/login' : `/login/${user}`),
      request.tls,
      [['Retry-After', '5']],
    );
  }

  /** Closes idle pooled upstream connections and ends every tunnel now. */
  destroy(): void {
    this.#proxy.close();
    this.#websockets.destroy();
  }

  /** Closes idle pooled upstream connections. */
  closePool(): void {
    this.#proxy.close();
  }
}
