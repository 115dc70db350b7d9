/**
 * @module The login pages: `GET /`, `/login`, `/login/<user>` and `POST /login` (XSRF, referer check, TLS policy, rate limits, init socket, 303 to the session).
 */
import { join } from 'node:path';
import type { VesperConfig } from '../../../shared/config/index.js';
import type { Logger } from '../../../shared/log/index.js';
import { formatSetCookie, parseBodyArguments, type ArgumentsDict } from '../../../web/index.js';
import type { IncomingRequest } from '../http/client-connection.js';
import type { ServerReply } from '../http/server-reply.js';
import type { PageRenderer } from '../pages/page-renderer.js';
import { sendPage } from '../pages/send-page.js';
import { readBody } from '../proxy/posted-fields.js';
import { isValidUser } from '../../../session/session-identity.js';
import { initLogin, type InitLoginReply } from './init-client.js';
import { LoginRateLimiter } from './login-rate-limiter.js';
import { refererIsValid } from './referer-check.js';
import { XSRF_COOKIE, XsrfGuard } from './xsrf-guard.js';

/** Largest login form body; a bigger one is answered 413. */
export const LOGIN_BODY_LIMIT = 16 * 1024;

/** The messages of the login page, by outcome. */
const MESSAGES = {
  badCredentials: 'The username or password is not correct.',
  lockedOut: 'This account is locked for a while after too many failed logins. Try again later.',
  tooMany:
    'There are too many sessions open at the moment. Log out of another session or try again later.',
  rate: 'Too many failed logins from here or for this user. Wait a minute and try again.',
  xsrf: 'This login form has expired. Please log in again.',
  tlsRequired: 'Logging in is only allowed over a secure (https) connection.',
  badForm: 'The login form was not filled in correctly.',
} as const;

/** Serves the login pages of one worker. */
export class LoginRoutes {
  readonly #config: VesperConfig;
  readonly #pages: PageRenderer;
  readonly #log: Logger;
  readonly #xsrf: XsrfGuard;
  readonly #limiter: LoginRateLimiter;
  readonly #tlsPort: () => number | null;

  /** `tlsPort` tells the port of the first TLS listener (bound ports are known only after listening). */
  constructor(
    config: VesperConfig,
    pages: PageRenderer,
    secret: Buffer,
    log: Logger,
    tlsPort: () => number | null,
  ) {
    this.#config = config;
    this.#pages = pages;
    this.#log = log;
    this.#xsrf = new XsrfGuard(secret);
    this.#limiter = new LoginRateLimiter(config.frontend.login_rate);
    this.#tlsPort = tlsPort;
  }

  /** The https URL of the same page on the first TLS listener, or null when there is none. */
  #secureUrl(request: IncomingRequest): string | null {
    const tlsPort = this.#tlsPort();
    if (tlsPort === null || request.head.host === null) return null;
    const hostname = request.head.host.replace(/:[0-9]*$/, '');
    const port = tlsPort === 443 ? '' : `:${tlsPort}`;
    return `https://${hostname}${port}${request.target.path === '/' ? '/login' : request.target.path}`;
  }

  /** `GET /`, `/login`, `/login/<user>`: the login page, or a redirect to https under `tls.redirect`. */
  page(request: IncomingRequest, reply: ServerReply, user: string): void {
    if (!request.tls && this.#config.tls.redirect) {
      const url = this.#secureUrl(request);
      if (url !== null) {
        sendPage(
          reply,
          302,
          this.#pages.error(302, 'This page has moved to a secure connection.'),
          false,
          [['Location', url]],
        );
        return;
      }
    }
    this.#render(request, reply, 200, isValidUser(user) ? user : '', null);
  }

  #render(
    request: IncomingRequest,
    reply: ServerReply,
    status: number,
    username: string,
    error: string | null,
  ): void {
    const xsrf = this.#xsrf.issue(request.head.get('cookie'));
    // Path=/login: the form posts there, and a session application's own `_xsrf`
    // cookie (under /session/<user>/) must not meet this one, which a
    // last-wins cookie parser would read instead.
    const extra: [string, string][] = [];
    if (xsrf.cookie !== null) {
      extra.push([
        'Set-Cookie',
        formatSetCookie(XSRF_COOKIE, xsrf.cookie, {
          path: '/login',
          httpOnly: true,
          sameSite: 'Lax',
          secure: request.tls,
        }),
      ]);
    }
    const tlsUrl = !request.tls && this.#config.tls.encouraged ? this.#secureUrl(request) : null;
    const html = this.#pages.login({ username, xsrf: xsrf.formToken, error, tlsUrl });
    sendPage(reply, status, html, request.tls, extra);
  }

  /** `POST /login`. */
  post(request: IncomingRequest, reply: ServerReply, requestId: string): void {
    const body = request.body;
    if (body === null) {
      this.#render(request, reply, 400, '', MESSAGES.badForm);
      return;
    }
    if ((request.head.contentLength ?? 0) > LOGIN_BODY_LIMIT) {
      sendPage(reply, 413, this.#pages.error(413, 'The login form is too large.'), request.tls);
      return;
    }
    void readBody(body, LOGIN_BODY_LIMIT).then(
      (bytes) => this.#submit(request, reply, requestId, bytes),
      () => reply.abort(),
    );
  }

  async #submit(
    request: IncomingRequest,
    reply: ServerReply,
    requestId: string,
    bytes: Buffer | null,
  ): Promise<void> {
    if (reply.finished) return;
    if (bytes === null) {
      sendPage(reply, 413, this.#pages.error(413, 'The login form is too large.'), request.tls);
      return;
    }
    const args: ArgumentsDict = {};
    try {
      parseBodyArguments((request.head.get('content-type') ?? '').toLowerCase(), bytes, args, {});
    } catch {
      // An unreadable form is treated as an empty one below.
    }
    const field = (name: string): string | undefined => args[name]?.[0]?.toString('utf8');
    const username = (field('username') ?? '').trim();
    const password = field('password') ?? '';
    const shownUser = isValidUser(username) ? username : '';
    const valid = refererIsValid(
      request.head.get('origin'),
      request.head.get('referer'),
      request.head.host,
      request.tls,
    );
    if (!valid) {
      if (this.#config.frontend.referer_log_invalid) {
        this.#log.warn(
          { requestId, clientIp: request.clientIp },
          'A login form was posted from another site (invalid Referer or Origin).',
        );
      }
      if (this.#config.frontend.referer_block_invalid) {
        sendPage(reply, 403, this.#pages.securityAlert(), request.tls);
        return;
      }
    }
    if (!request.tls && this.#config.tls.required) {
      this.#render(request, reply, 403, shownUser, MESSAGES.tlsRequired);
      return;
    }
    if (!this.#xsrf.check(request.head.get('cookie'), field('_xsrf'))) {
      this.#render(request, reply, 403, shownUser, MESSAGES.xsrf);
      return;
    }
    if (!this.#limiter.allowed(request.clientIp, username)) {
      this.#log.warn(
        { requestId, clientIp: request.clientIp },
        'A login was refused by the failed-login rate limit.',
      );
      this.#render(request, reply, 429, shownUser, MESSAGES.rate);
      return;
    }
    if (!isValidUser(username) || password === '') {
      this.#limiter.failed(request.clientIp, username);
      this.#render(request, reply, 401, shownUser, MESSAGES.badCredentials);
      return;
    }
    let answer: InitLoginReply;
    try {
      answer = await initLogin(
        join(this.#config.session.socket_dir, 'init.sock'),
        {
          op: 'login',
          user: username,
          password,
          clientIp: request.clientIp,
          tls: request.tls,
          listener: request.listener,
        },
        this.#config.accountd.timeout + 5000,
      );
    } catch (err) {
      this.#log.warn(
        {
          requestId,
          err: { code: (err as { code?: string }).code, message: (err as Error).message },
        },
        'A login failed: the session server is unavailable.',
      );
      if (!reply.finished)
        sendPage(reply, 503, this.#pages.unavailable(`/login/${shownUser}`), request.tls);
      return;
    }
    if (reply.finished) return;
    if (answer.ok) {
      this.#limiter.succeeded(username);
      const extra: [string, string][] = [['Location', answer.url]];
      if (answer.cookie !== null) {
        const c = answer.cookie;
        extra.push([
          'Set-Cookie',
          formatSetCookie(c.name, c.value, {
            path: c.path,
            httpOnly: true,
            sameSite: c.sameSite,
            secure: c.secure || request.tls,
          }),
        ]);
      }
      sendPage(reply, 303, this.#pages.error(303, 'You are logged in.'), request.tls, extra);
      return;
    }
    switch (answer.error) {
      case 'bad-credentials':
      case 'bad-request':
        this.#limiter.failed(request.clientIp, username);
        this.#render(request, reply, 401, shownUser, MESSAGES.badCredentials);
        return;
      case 'locked-out':
        this.#render(request, reply, 401, shownUser, MESSAGES.lockedOut);
        return;
      case 'too-many-sessions':
        this.#render(request, reply, 503, shownUser, MESSAGES.tooMany);
        return;
      default:
        sendPage(reply, 503, this.#pages.unavailable(`/login/${shownUser}`), request.tls);
    }
  }
}
