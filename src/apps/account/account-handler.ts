/**
 * @module The base of every account page handler: the shared session state,
 * the security headers, the template namespace (user, session URLs, the
 * navigation) and the friendly error pages, including the 503 page shown
 * while account services are unavailable.
 */
import type { AccountdClient } from '../../accountd/client/index.js';
import { VesperError } from '../../shared/errors/index.js';
import { RequestHandler, type ErrorInfo } from '../../web/request-handler.js';
import { HttpError } from '../../web/web-errors.js';
import { AccountServiceError } from './account-errors.js';
import type { AccountState } from './account-state.js';
import type { RunOptions } from './accountd-link.js';
import { applySecurityHeaders } from './security-headers.js';

/** One entry of the navigation in `base.html`. */
export interface NavItem {
  /** The page's command (`quota`), also what `page` names to mark it current. */
  key: string;
  label: string;
  href: string;
}

const NAV: readonly (readonly [key: string, label: string, ...path: string[]])[] = [
  ['home', 'Home', 'home'],
  ['quota', 'Quota', 'quota'],
  ['forwarding', 'Forwarding', 'forwarding'],
  ['vacation', 'Vacation message', 'vacation'],
  ['password', 'Password', 'password'],
  ['fullname', 'Full name', 'fullname'],
];

/** Takes the {@link AccountState} from a rule's kwargs. Throws when it is missing. */
export function stateFrom(kwargs: Record<string, unknown>): AccountState {
  const state = kwargs.state as AccountState | undefined;
  if (state === undefined) {
    throw new VesperError(
      'VESPER_APP_ACCOUNT_NO_STATE',
      'an account handler needs its state kwarg',
    );
  }
  return state;
}

/** The base of the account pages. */
export class AccountHandler extends RequestHandler {
  #state: AccountState | undefined;

  override initialize(kwargs: Record<string, unknown>): void {
    this.#state = stateFrom(kwargs);
  }

  /** The session's shared state. */
  get state(): AccountState {
    if (this.#state === undefined) {
      throw new VesperError('VESPER_APP_ACCOUNT_NO_STATE', 'the handler was not initialised');
    }
    return this.#state;
  }

  /** Security headers and no caching of private pages. */
  override setDefaultHeaders(): void {
    applySecurityHeaders((name, value) => this.setHeader(name, value));
    this.setHeader('Cache-Control', 'no-store');
  }

  /** The session URL of `cmd` (and `args`), as the browser must see it. */
  pageUrl(cmd: string, ...args: string[]): string {
    return this.state.ctx.urls.url(cmd, ...args);
  }

  /**
   * This request's URL as the browser sees it: `request.uri` is relative to
   * the session prefix (`/quota`), which the browser would resolve against
   * the site's root, outside the session.
   */
  requestUrl(): string {
    return this.state.ctx.urls.base() + this.request.uri.replace(/^\/+/, '');
  }

  /** A static file of the application under the session's prefix, versioned. */
  appStaticUrl(path: string): string {
    // staticUrl() is relative to the application's root ('/static/x?v=..'); the
    // browser sees the application under the session prefix.
    return this.state.ctx.urls.base() + this.staticUrl(path).replace(/^\//, '');
  }

  override getTemplateNamespace(): Record<string, unknown> {
    const ns = super.getTemplateNamespace();
    const urls = this.state.ctx.urls;
    const nav: NavItem[] = NAV.map(([key, label, ...path]) => ({
      key,
      label,
      href: urls.url(...(path as [string, ...string[]])),
    }));
    return {
      ...ns,
      user: this.state.ctx.user,
      urls,
      nav,
      appStatic: (path: string) => this.appStaticUrl(path),
      title: 'Account',
      page: '',
      notice: null,
    };
  }

  /** Renders `template` with `kwargs` and the given status. */
  async renderPage(template: string, kwargs: Record<string, unknown>, status = 200): Promise<void> {
    this.setStatus(status);
    await this.render(template, kwargs);
  }

  /** Runs `fn` with the session's logged-in accountd client (see `AccountdLink.run`). */
  accountd<T>(fn: (client: AccountdClient) => Promise<T>, options?: RunOptions): Promise<T> {
    return this.state.accountd.run(fn, options);
  }

  /** The notice for a page reached by the redirect after a successful POST. */
  savedNotice(text: string): string | null {
    return this.getQueryArgument('saved', null) === null ? null : text;
  }

  /** Answers a successful POST: `303 See Other` to `cmd`'s page, marked saved. */
  redirectSaved(cmd: string, ...args: string[]): Promise<void> {
    return this.redirect(`${this.pageUrl(cmd, ...args)}?saved=1`, false, 303);
  }

  /** A form field as text: `''` when missing; stripped unless `strip` is false. */
  field(name: string, strip = true): string {
    return String(this.getBodyArgument(name, '', strip));
  }

  /** Account services being unavailable is expected: a warning without a stack. */
  override logException(err: unknown): void {
    if (err instanceof AccountServiceError) {
      const line = `503 ${this.request.method} ${this.request.path}: ${err.message}`;
      // A session without a password is a normal state, not something to warn about.
      if (err.problem === 'no-credential') this.log.debug(line);
      else this.log.warn(line);
      return;
    }
    super.logException(err);
  }

  /** Friendly error pages in the application's layout; never a stack outside debug mode. */
  override writeError(statusCode: number, info: ErrorInfo = {}): void {
    const error = info.error;
    if (this.settings.serveTraceback === true && error !== undefined) {
      super.writeError(statusCode, info);
      return;
    }
    const page =
      error instanceof AccountServiceError
        ? this.renderString('unavailable.html', {
            problem: error.problem,
            title: 'Unavailable',
            retryUrl: this.requestUrl(),
          })
        : this.renderString('error.html', {
            status: statusCode,
            reason: this.reason,
            message: errorText(statusCode, error),
            title: `${statusCode} ${this.reason}`,
          });
    void this.finish(page);
  }
}

function errorText(status: number, error: unknown): string {
  if (status === 403 && error instanceof HttpError && /xsrf/i.test(error.logMessage ?? '')) {
    return 'This form has expired or did not come from this session. Go back, reload the page and try again.';
  }
  if (status === 404) return 'There is no such page in this session.';
  if (status === 405) return 'That page cannot be used this way.';
  if (status >= 400 && status < 500) return 'The request could not be understood.';
  return 'Something went wrong on our side. Your session is still running; try again.';
}
