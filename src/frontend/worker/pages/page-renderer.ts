/**
 * @module The worker's own pages (login, session ended, service unavailable, security alert, errors), rendered from templates.
 */
import { STATUS_CODES } from 'node:http';
import { Loader } from '../../../web/index.js';

/** What the login page shows. */
export interface LoginPageOptions {
  /** The user name to pre-fill. */
  readonly username: string;
  /** The masked XSRF token for the form. */
  readonly xsrf: string;
  /** An error to show above the form, or null. */
  readonly error: string | null;
  /** The secure login URL when the page should warn about a plain connection (`tls.encouraged`), or null. */
  readonly tlsUrl: string | null;
}

/**
 * Renders the worker's pages. Templates are compiled once (the loader caches
 * them) and autoescape every value. `templates` overrides the built-in
 * directory (`frontend.templates`); it must provide the same file names.
 */
export class PageRenderer {
  readonly #loader: Loader;

  /** @param dir The template directory. */
  constructor(dir: string) {
    this.#loader = new Loader(dir);
  }

  /**
   * Compiles every template now, so a broken one stops the worker at start.
   * @throws ParseError or VesperError `VESPER_WEB_TEMPLATE_NOT_FOUND`.
   */
  preload(): void {
    for (const name of [
      'login.html',
      'session-ended.html',
      'unavailable.html',
      'security-alert.html',
      'error.html',
    ]) {
      this.#loader.load(name);
    }
  }

  /** The login page. */
  login(options: LoginPageOptions): string {
    return this.#loader.load('login.html').generate({
      username: options.username,
      xsrf: options.xsrf,
      error: options.error,
      tlsWarning: options.tlsUrl !== null,
      tlsUrl: options.tlsUrl ?? '',
    });
  }

  /** "Your session has ended", with the text `fields` of a lost POST echoed back. */
  sessionEnded(loginUrl: string, fields: readonly (readonly [string, string])[]): string {
    return this.#loader.load('session-ended.html').generate({ loginUrl, fields });
  }

  /** "Service unavailable" (the session server cannot be reached). */
  unavailable(loginUrl: string): string {
    return this.#loader.load('unavailable.html').generate({ loginUrl });
  }

  /** "Security alert": a login form posted from another site. */
  securityAlert(): string {
    return this.#loader.load('security-alert.html').generate({});
  }

  /** A plain error page for `status`, with a sentence for the user. */
  error(status: number, message: string): string {
    return this.#loader
      .load('error.html')
      .generate({ status, reason: STATUS_CODES[status] ?? 'Error', message });
  }
}
