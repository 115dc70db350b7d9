/**
 * @module Test helpers for the account application: a real accountd server on
 * a temporary socket, the application on a test server with a session
 * context whose URLs are rooted at `/`, and a browser-like client that keeps
 * the XSRF cookie and reads the form token from pages.
 */
import type { AccountdServer } from '../../../src/accountd/server/accountd-server.js';
import type { AccountStore } from '../../../src/accountd/store/account-store.js';
import { createAccountApp, type AccountApp } from '../../../src/apps/account/index.js';
import type { SessionAppContext, SessionUrls } from '../../../src/session/app.js';
import { loadConfigText } from '../../../src/shared/config/index.js';
import { silentLogger, type Logger } from '../../../src/shared/log/index.js';
import { MemoryTokenStore, startTestServer, type TestServer } from '../../../src/web/index.js';
import { makeStore, startServer, tempDirs } from '../../accountd/helpers.js';

/** The demo user of these tests and her password. */
export const USER = 'alice';
export const PASSWORD = 'secret-pw-1';

/**
 * Session URLs rooted at `base` (default `/`, as the application sees its own
 * paths; a session prefix such as `/session/alice/KEY/` as the browser sees them).
 */
export function rootUrls(tokens: MemoryTokenStore, base = '/'): SessionUrls {
  const url = (cmd: string, ...args: string[]): string =>
    `${base}${[cmd, ...args].map((s) => encodeURIComponent(s)).join('/')}`;
  return {
    base: () => base,
    url,
    logout: () => '/logout',
    login: () => `/login/${USER}`,
    websocket: async (...path) => `${url('ws', ...path)}?ws_token=${await tokens.issue(USER)}`,
  };
}

/** Everything one test uses; `cleanup` closes it all. */
export interface Fixture {
  root: string;
  socketPath: string;
  store: AccountStore;
  accountd: AccountdServer;
  app: AccountApp;
  server: TestServer;
  tokens: MemoryTokenStore;
  browser: Browser;
  /** Stops accountd (every connection dropped, socket gone). */
  stopAccountd(): Promise<void>;
  /** Starts accountd again on the same socket and store. */
  startAccountd(): Promise<void>;
}

const dirs = tempDirs();
const cleanups: (() => Promise<void> | void)[] = [];

/** Runs every registered cleanup, newest first, and removes the temporary directories. */
export async function cleanupAll(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c();
  dirs.cleanup();
}

/** Options of {@link setup}. */
export interface SetupOptions {
  /** The session's credential; default `{password: PASSWORD}`. */
  credential?: { password: string } | null;
  log?: Logger;
  /** Extra YAML for the configuration. */
  yaml?: string;
  /** The prefix of the session's URLs (`ctx.urls.base()`); default `/`. */
  base?: string;
}

/** Starts accountd with user alice, and the account application on a test server. */
export async function setup(options: SetupOptions = {}): Promise<Fixture> {
  const root = dirs.make();
  const store = await makeStore(root);
  await store.create(USER, PASSWORD);
  const started = await startServer(store, root);
  const socketPath = started.path;
  let accountd = started.server;
  const config = loadConfigText(
    [
      `paths: { var: ${JSON.stringify(root)} }`,
      `accountd: { listen: ${JSON.stringify(socketPath)}, timeout: 2s, quota_cache: 10s }`,
      options.yaml ?? '',
    ].join('\n'),
    { cwd: root },
  );
  const tokens = new MemoryTokenStore();
  const ctx: SessionAppContext = {
    user: USER,
    session: 7,
    config,
    log: options.log ?? silentLogger,
    tokens,
    credential: options.credential === undefined ? { password: PASSWORD } : options.credential,
    loginAt: Date.UTC(2026, 11, 2, 21, 40),
    clientTls: false,
    urls: rootUrls(tokens, options.base),
    releaseQueue: () => undefined,
  };
  const app = createAccountApp(ctx);
  const server = await startTestServer(app.application);
  const fixture: Fixture = {
    root,
    socketPath,
    store,
    get accountd() {
      return accountd;
    },
    app,
    server,
    tokens,
    browser: new Browser(server),
    stopAccountd: () => accountd.destroy(),
    startAccountd: async () => {
      accountd = (await startServer(store, root)).server;
    },
  };
  cleanups.push(() => accountd.destroy());
  cleanups.push(() => tokens.close());
  cleanups.push(() => server.close());
  cleanups.push(() => app.close?.());
  return fixture;
}

/** A page as fetched: status, headers and text. */
export interface Page {
  status: number;
  headers: Headers;
  text: string;
}

/** A client that keeps cookies (by name, ignoring paths) and posts forms with the page's XSRF token. */
export class Browser {
  readonly #server: TestServer;
  readonly cookies = new Map<string, string>();

  constructor(server: TestServer) {
    this.#server = server;
  }

  #remember(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
  }

  #cookieHeader(): Record<string, string> {
    if (this.cookies.size === 0) return {};
    return { Cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
  }

  /** GET `path` with the cookies. */
  async get(path: string): Promise<Page> {
    const res = await this.#server.fetch(path, { headers: this.#cookieHeader() });
    this.#remember(res);
    return { status: res.status, headers: res.headers, text: await res.text() };
  }

  /** POST `fields` (form-encoded) to `path` with the cookies, as they are. */
  async post(path: string, fields: Record<string, string>): Promise<Page> {
    const res = await this.#server.fetch(path, {
      method: 'POST',
      headers: { ...this.#cookieHeader(), 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
    this.#remember(res);
    return { status: res.status, headers: res.headers, text: await res.text() };
  }

  /** GETs `page`, takes its form's XSRF token, and POSTs `fields` with it to `page`. */
  async submit(page: string, fields: Record<string, string>): Promise<Page> {
    const form = await this.get(page);
    return this.post(page, { _xsrf: xsrfOf(form.text), ...fields });
  }
}

/** The XSRF token in a page's form. Throws when there is none. */
export function xsrfOf(html: string): string {
  const m = /<input type="hidden" name="_xsrf" value="([^"]+)"\/>/.exec(html);
  if (m === null) throw new Error('the page has no XSRF field');
  return m[1]!;
}

/** Polls `check` every 10 ms until it is true, up to `timeoutMs`. */
export async function eventually(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('the condition did not become true in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
