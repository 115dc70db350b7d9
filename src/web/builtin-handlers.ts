/**
 * @module The small handlers Tornado ships for routing tables: `ErrorHandler`
 * (a fixed error status), `RedirectHandler` (a redirect built from the path
 * groups) and `FallbackHandler` (hand the request to a Node listener).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { VesperError } from '../shared/errors/index.js';
import { ServerResponseConnection } from './http-connection.js';
import { urlConcat } from './httputil.js';
import { RequestHandler } from './request-handler.js';
import { HttpError } from './web-errors.js';

/**
 * Answers every request with `statusCode` (kwargs `{statusCode}`); used for
 * requests no rule matches (404). Skips the XSRF check, as Tornado's does.
 */
export class ErrorHandler extends RequestHandler {
  #statusCode = 404;

  override initialize(kwargs: Record<string, unknown>): void {
    const code = kwargs.statusCode;
    if (typeof code !== 'number') {
      throw new VesperError('VESPER_WEB_BAD_ROUTE', 'ErrorHandler needs a numeric statusCode.');
    }
    this.#statusCode = code;
    this.setStatus(code);
  }

  override prepare(): void {
    throw new HttpError(this.#statusCode);
  }

  override checkXsrfCookie(): void {
    // An error page changes nothing, so there is nothing to protect.
  }
}

/**
 * Redirects to `url` (kwargs `{url, permanent = true}`); `{0}`, `{1}`... in
 * the URL are replaced by the path groups (`{name}` by named groups), and the
 * request's query arguments are appended.
 */
export class RedirectHandler extends RequestHandler {
  #url = '';
  #permanent = true;

  override initialize(kwargs: Record<string, unknown>): void {
    if (typeof kwargs.url !== 'string') {
      throw new VesperError('VESPER_WEB_BAD_ROUTE', 'RedirectHandler needs a url.');
    }
    this.#url = kwargs.url;
    this.#permanent = kwargs.permanent !== false;
  }

  override get(...args: (string | undefined)[]): Promise<void> {
    let target = this.#url.replace(/\{(\w+)\}/g, (whole, key: string) => {
      const v = /^\d+$/.test(key) ? args[Number(key)] : this.pathKwargs[key];
      return v ?? whole;
    });
    const query = this.request.queryArguments;
    const pairs: [string, string][] = [];
    for (const [name, values] of Object.entries(query)) {
      for (const v of values) pairs.push([name, v.toString('utf8')]);
    }
    if (pairs.length > 0) target = urlConcat(target, pairs);
    return this.redirect(target, this.#permanent);
  }
}

/** A Node request listener a {@link FallbackHandler} hands requests to. */
export type FallbackListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Hands the request to another Node HTTP listener (kwargs `{fallback}`) that
 * answers it on the original `ServerResponse`. Only for requests that came
 * through `Application.handleRequest` (not upgrades); the body was already read.
 */
export class FallbackHandler extends RequestHandler {
  #fallback: FallbackListener | null = null;

  override initialize(kwargs: Record<string, unknown>): void {
    if (typeof kwargs.fallback !== 'function') {
      throw new VesperError('VESPER_WEB_BAD_ROUTE', 'FallbackHandler needs a fallback listener.');
    }
    this.#fallback = kwargs.fallback as FallbackListener;
  }

  override prepare(): void {
    const connection = this.request.connection;
    if (!(connection instanceof ServerResponseConnection)) {
      throw new HttpError(500, 'FallbackHandler needs a request that came through handleRequest()');
    }
    this.detach();
    this.#fallback!(connection.response.req, connection.response);
  }
}
