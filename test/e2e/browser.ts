/**
 * @module A small browser for end-to-end tests: HTTP requests over fresh
 * connections to a loopback port with a path-aware cookie jar, form posts, and
 * helpers to read hidden fields out of pages. Redirects are not followed: tests
 * assert each step.
 */
import { request } from 'node:http';

/** One answer, with the body as text. */
export interface Page {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** `Location`, or '' when there is none. */
  location: string;
  /** Every `Set-Cookie` line. */
  setCookies: string[];
}

interface StoredCookie {
  name: string;
  value: string;
  path: string;
  attributes: string;
}

/** A cookie jar and a request function, like one browser tab. */
export class Browser {
  readonly port: number;
  readonly #jar = new Map<string, StoredCookie>();

  constructor(port: number) {
    this.port = port;
  }

  /** The stored cookie `name` (longest path first when several paths hold it), or undefined. */
  cookie(name: string, forPath = '/'): StoredCookie | undefined {
    return this.#matching(forPath).find((c) => c.name === name);
  }

  /** GET `path`. */
  get(path: string, headers: Record<string, string> = {}): Promise<Page> {
    return this.request('GET', path, null, headers);
  }

  /** POST `fields` as `application/x-www-form-urlencoded` to `path`. */
  post(
    path: string,
    fields: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<Page> {
    return this.request('POST', path, new URLSearchParams(fields).toString(), {
      'content-type': 'application/x-www-form-urlencoded',
      ...headers,
    });
  }

  /** Sends a request with the jar's cookies for `path` and stores the cookies it sets. */
  request(
    method: string,
    path: string,
    body: string | null,
    headers: Record<string, string> = {},
  ): Promise<Page> {
    const cookies = this.cookieHeader(path);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: this.port,
          method,
          path,
          agent: false,
          headers: {
            ...(cookies === '' ? {} : { cookie: cookies }),
            ...(body === null ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
            ...headers,
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (d: string) => (text += d));
          res.on('end', () => {
            const setCookies = res.headers['set-cookie'] ?? [];
            for (const line of setCookies) this.#store(line);
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: text,
              location: res.headers.location ?? '',
              setCookies,
            });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body ?? undefined);
    });
  }

  /** The `Cookie` header a browser would send for `path`: more specific paths first. */
  cookieHeader(path: string): string {
    return this.#matching(path)
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  #matching(path: string): StoredCookie[] {
    return [...this.#jar.values()]
      .filter(
        (c) => path === c.path || path.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`),
      )
      .sort((a, b) => b.path.length - a.path.length);
  }

  #store(line: string): void {
    const [pair = '', ...attrs] = line.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) return;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    let path = '/';
    let expired = false;
    for (const a of attrs) {
      const [k = '', v = ''] = a.split('=').map((s) => s.trim());
      if (k.toLowerCase() === 'path' && v.startsWith('/')) path = v;
      if (k.toLowerCase() === 'max-age' && Number(v) <= 0) expired = true;
      if (k.toLowerCase() === 'expires' && Date.parse(v) < Date.now()) expired = true;
    }
    const id = `${name}\n${path}`;
    if (expired || value === '') this.#jar.delete(id);
    else
      this.#jar.set(id, { name, value, path, attributes: attrs.map((a) => a.trim()).join('; ') });
  }
}

/** The value of the hidden `<input name="…" value="…">` called `name` in `html`, or throws. */
export function hiddenField(html: string, name: string): string {
  const m = new RegExp(`<input[^>]*name="${name}"[^>]*value="([^"]*)"`).exec(html);
  if (m === null) throw new Error(`no input named ${name} in the page:\n${html.slice(0, 2000)}`);
  return m[1]!
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'");
}
