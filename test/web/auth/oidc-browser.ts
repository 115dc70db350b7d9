/**
 * @module A test browser: real HTTP requests with Node's `http`, a cookie jar
 * that honours Path, Max-Age and Expires, and form submission for the
 * provider's login and consent pages. Used by the OAuth2/OIDC end-to-end tests.
 */
import { request as httpRequest } from 'node:http';

/** One response as the browser saw it. */
export interface BrowserResponse {
  readonly url: string;
  readonly status: number;
  readonly statusText: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly setCookies: string[];
  readonly body: string;
  /** The absolute `Location`, when there is one. */
  readonly location: string | undefined;
}

interface StoredCookie {
  name: string;
  value: string;
  host: string;
  path: string;
  expiresAt: number;
}

/** A cookie jar and an HTTP client, like a browser without scripts. */
export class TestBrowser {
  readonly #cookies: StoredCookie[] = [];

  /** The cookies that would be sent to `url`, as `name=value` pairs. */
  cookiesFor(url: string): StoredCookie[] {
    const u = new URL(url);
    const now = Date.now();
    return this.#cookies.filter(
      (c) =>
        c.host === u.host &&
        c.expiresAt > now &&
        (u.pathname === c.path ||
          u.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)),
    );
  }

  /** The value of the cookie `name` for `url`. */
  cookie(url: string, name: string): string | undefined {
    return this.cookiesFor(url).find((c) => c.name === name)?.value;
  }

  /** Stores or replaces a cookie, as a Set-Cookie from `url` would. */
  setCookie(url: string, name: string, value: string, path = '/'): void {
    this.#store(new URL(url), `${name}=${value}; Path=${path}`);
  }

  #store(url: URL, header: string): void {
    const [pair = '', ...attrs] = header.split(';').map((p) => p.trim());
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    let path = url.pathname.replace(/\/[^/]*$/, '') || '/';
    let expiresAt = Infinity;
    for (const attr of attrs) {
      const [k = '', v = ''] = attr.split('=');
      const key = k.toLowerCase();
      if (key === 'path') path = v;
      else if (key === 'max-age') expiresAt = Date.now() + Number(v) * 1000;
      else if (key === 'expires' && expiresAt === Infinity) expiresAt = Date.parse(attr.slice(8));
    }
    const i = this.#cookies.findIndex(
      (c) => c.name === name && c.host === url.host && c.path === path,
    );
    if (i !== -1) this.#cookies.splice(i, 1);
    if (expiresAt > Date.now())
      this.#cookies.push({ name, value, host: url.host, path, expiresAt });
  }

  /** One request; cookies are sent and stored, redirects are not followed. */
  request(
    url: string,
    options: {
      method?: string;
      form?: Record<string, string>;
      headers?: Record<string, string>;
    } = {},
  ): Promise<BrowserResponse> {
    const u = new URL(url);
    const body =
      options.form === undefined ? undefined : new URLSearchParams(options.form).toString();
    const headers: Record<string, string> = { ...options.headers };
    const cookies = this.cookiesFor(url);
    if (cookies.length > 0) headers.Cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    if (body !== undefined) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        u,
        { method: options.method ?? (body === undefined ? 'GET' : 'POST'), headers, agent: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const setCookies = res.headers['set-cookie'] ?? [];
            for (const sc of setCookies) this.#store(u, sc);
            const loc = res.headers.location;
            resolve({
              url,
              status: res.statusCode ?? 0,
              statusText: res.statusMessage ?? '',
              headers: res.headers,
              setCookies,
              body: Buffer.concat(chunks).toString('utf8'),
              location: loc === undefined ? undefined : new URL(loc, url).toString(),
            });
          });
        },
      );
      req.setTimeout(5000, () => req.destroy(new Error(`timeout fetching ${url}`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  /**
   * Follows redirects from `url` and completes the provider's login and
   * consent forms (as `login`), until a redirect leads to `stopAt` (the app's
   * callback). Returns that callback URL without requesting it.
   */
  async loginAtProvider(url: string, stopAt: string, login: string): Promise<string> {
    let next: string = url;
    for (let step = 0; step < 20; step += 1) {
      if (next.startsWith(stopAt)) return next;
      const res = await this.request(next);
      if (res.location !== undefined) {
        next = res.location;
        continue;
      }
      if (res.status !== 200)
        throw new Error(`${res.status} at ${next}: ${res.body.slice(0, 300)}`);
      const form =
        /<form[^>]*action="([^"]+)"[^>]*method="post"[\s\S]*?name="prompt" value="(\w+)"/.exec(
          res.body,
        );
      if (form === null) throw new Error(`no form at ${next}`);
      const action = new URL(form[1]!.replace(/&amp;/g, '&'), next).toString();
      const fields: Record<string, string> =
        form[2] === 'login'
          ? { prompt: 'login', login, password: 'any password' }
          : { prompt: form[2]! };
      const posted = await this.request(action, { form: fields });
      if (posted.location === undefined)
        throw new Error(`${posted.status} after posting ${form[2]}`);
      next = posted.location;
    }
    throw new Error('too many steps at the provider');
  }
}
