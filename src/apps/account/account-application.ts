/**
 * @module The account application's routes and settings: paths relative to
 * the session prefix (`/home` is `/session/<user>/<key>/home`), XSRF-checked
 * forms, templates and static files next to this file.
 */
import { fileURLToPath } from 'node:url';
import { Application, type ApplicationSettings, type Rule } from '../../web/application.js';
import type { AccountState } from './account-state.js';
import { FullNameHandler } from './fullname-handler.js';
import { ForwardingHandler } from './forwarding-handler.js';
import { HomeHandler, NotFoundHandler, RootHandler } from './home-handler.js';
import { LiveHandler } from './live-handler.js';
import { PasswordHandler } from './password-handler.js';
import { QuotaHandler } from './quota-handler.js';
import { AccountStaticHandler } from './static-handler.js';
import { TokenHandler } from './token-handler.js';
import { VacationHandler, VacationLogHandler } from './vacation-handler.js';

/** The directory of the application's templates (copied next to the build output by `npm run build`). */
export const TEMPLATE_DIR = fileURLToPath(new URL('./templates/', import.meta.url));
/** The directory of the application's static files. */
export const STATIC_DIR = fileURLToPath(new URL('./static/', import.meta.url));

/** How often the live channel pings the browser, ms, so a dead connection is noticed. */
export const LIVE_PING_INTERVAL_MS = 30_000;

/** Builds the `Application` of one session's account pages. */
export function buildAccountApplication(state: AccountState): Application {
  const { ctx } = state;
  const kwargs = { state };
  const rules: Rule[] = [
    ['/', RootHandler, kwargs, 'root'],
    ['/home', HomeHandler, kwargs, 'home'],
    ['/quota', QuotaHandler, kwargs, 'quota'],
    ['/forwarding', ForwardingHandler, kwargs, 'forwarding'],
    ['/vacation', VacationHandler, kwargs, 'vacation'],
    ['/vacation/log', VacationLogHandler, kwargs, 'vacation-log'],
    ['/password', PasswordHandler, kwargs, 'password'],
    ['/fullname', FullNameHandler, kwargs, 'fullname'],
    ['/token', TokenHandler, kwargs, 'token'],
    ['/ws', LiveHandler, kwargs, 'ws'],
  ];
  const settings: ApplicationSettings = {
    log: ctx.log,
    templatePath: TEMPLATE_DIR,
    staticPath: STATIC_DIR,
    staticUrlPrefix: '/static/',
    staticHandlerClass: AccountStaticHandler,
    xsrfCookies: true,
    // The browser sees the session under /session/<user>/; the cookie stays
    // there and is hidden from scripts. Lax like the session cookie: with
    // Strict, following a link from another site would arrive without it and
    // the page would set a new token, failing the forms open in other tabs.
    xsrfCookieKwargs: {
      path: `/session/${ctx.user}/`,
      httpOnly: true,
      sameSite: 'Lax',
      secure: ctx.clientTls,
    },
    defaultHandlerClass: NotFoundHandler,
    defaultHandlerArgs: kwargs,
    websocketTokenStore: ctx.tokens,
    websocketPingInterval: LIVE_PING_INTERVAL_MS,
    // Pages carry secrets (XSRF tokens); compressing them invites BREACH.
    compressResponse: false,
  };
  return new Application(rules, settings);
}
