/**
 * @module `authenticated`: the guard that requires a logged-in user before a
 * handler method runs (Tornado's `@authenticated`).
 */
import { urlEscape } from './escape.js';
import type { RequestHandler } from './request-handler.js';
import { HttpError } from './web-errors.js';

type HandlerMethod<T extends RequestHandler, A extends unknown[], R> = (this: T, ...args: A) => R;

function guard<T extends RequestHandler, A extends unknown[], R>(
  method: HandlerMethod<T, A, R>,
): HandlerMethod<T, A, R> {
  return function (this: T, ...args: A): R {
    if (!this.currentUser) {
      const verb = this.request.method;
      if (verb === 'GET' || verb === 'HEAD') {
        let url = this.getLoginUrl();
        if (!url.includes('?')) {
          const absolute = /^[A-Za-z][A-Za-z0-9+.-]*:/.test(url);
          const next = absolute ? this.request.fullUrl() : this.request.uri;
          url += `?next=${urlEscape(next)}`;
        }
        // redirect() finishes the request; its promise never rejects.
        void this.redirect(url);
        return undefined as R;
      }
      throw new HttpError(403);
    }
    return method.apply(this, args);
  };
}

/**
 * Wraps a handler method so that it runs only when `currentUser` is truthy.
 * Otherwise GET and HEAD are redirected to the `loginUrl` setting with
 * `?next=<request uri>` (the full URL when `loginUrl` is absolute; nothing is
 * added when `loginUrl` already has a query), and other methods get 403.
 *
 * Use it as a wrapper, `override get = authenticated(async function (this: H) {...})`,
 * or as a standard method decorator, `@authenticated override get() {...}`.
 * @throws HttpError 403 (from the wrapped method) for an unsafe method without a user;
 * VesperError `VESPER_WEB_SETTING_REQUIRED` without `loginUrl`.
 */
export function authenticated<T extends RequestHandler, A extends unknown[], R>(
  method: HandlerMethod<T, A, R>,
  _context?: ClassMethodDecoratorContext<T, HandlerMethod<T, A, R>>,
): HandlerMethod<T, A, R> {
  return guard(method);
}
