/**
 * The back-end faults of DESIGN.md §6 through the built `vesper start`, with
 * real processes: the session server SIGKILLed while a session is under
 * keep-alive load (no request fails, it is restarted, the session is
 * re-adopted, logins meanwhile get the friendly 503 or succeed), a session
 * process SIGKILLed (the "session ended" page of a wrong key, a POST's text
 * echoed back, its socket removed), and accountd made unavailable with
 * SIGSTOP (logins get 503 within `accountd.timeout`, a running session keeps
 * answering and its account pages say so, everything works again after
 * SIGCONT). Worker faults, SIGTERM and SIGHUP are in gateway-faults.test.ts
 * and gateway-reload.test.ts.
 */
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeepAliveLoad, type LoadOptions } from '../../bench/lib/keep-alive-load.js';
import { pageBody } from '../../bench/lib/page-backend.js';
import { isAlive, VesperGateway } from '../../bench/lib/vesper-gateway.js';
import { sessionSocketPath } from '../../src/session/session-identity.js';
import { Browser, hiddenField, type Page } from './browser.js';
import { ensureGatewayBuilt } from './gateway-build.js';
import { sleep, startGateway, until } from './gateway-fault-helpers.js';
import { processesIn, until as untilValue, vesper } from './master-helpers.js';

const PASSWORD = 'vesper-demo-1';

/** `vesper status --json`, as far as these tests read it. */
interface StatusJson {
  master: {
    services: { name: string; pid: number | null; state: string; restarts: number }[];
  };
  sessions:
    | { ok: true; sessions: { user: string; session: number; pid: number }[]; spares: number }
    | { ok: false; error: string };
}

/** A gateway and every pid seen under it, so that cleanup finds the detached ones too. */
class Tracked {
  readonly pids = new Set<number>();
  /** accountd pids this test stopped with SIGSTOP. */
  readonly stopped = new Set<number>();

  constructor(readonly gateway: VesperGateway) {
    this.remember();
  }

  remember(): void {
    for (const p of this.gateway.processes()) this.pids.add(p);
  }

  /** `vesper status --json` of the gateway (the built CLI); every pid in it is remembered. */
  async status(): Promise<StatusJson> {
    const r = await vesper(
      ['status', '--json', '--config', this.gateway.configFile],
      this.gateway.dir,
    );
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as StatusJson;
    for (const v of s.master.services) if (v.pid !== null) this.pids.add(v.pid);
    if (s.sessions.ok) for (const v of s.sessions.sessions) this.pids.add(v.pid);
    this.remember();
    return s;
  }

  /**
   * SIGCONT to whatever was stopped, then `stop()`, then SIGKILL to every
   * remembered pid and every process still running in the gateway's
   * directory (detached session processes included).
   */
  async cleanup(): Promise<void> {
    for (const p of this.stopped) signal(p, 'SIGCONT');
    this.remember();
    for (const p of processesIn(this.gateway.dir)) this.pids.add(p);
    await this.gateway.stop();
    for (const p of this.pids) if (isAlive(p)) signal(p, 'SIGKILL');
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Gone meanwhile.
  }
}

function service(status: StatusJson, name: string): StatusJson['master']['services'][number] {
  const s = status.master.services.find((v) => v.name === name);
  expect(s, JSON.stringify(status.master.services)).toBeDefined();
  return s!;
}

function sessionsOf(status: StatusJson, user: string): { session: number; pid: number }[] {
  expect(status.sessions.ok, JSON.stringify(status.sessions)).toBe(true);
  return status.sessions.ok ? status.sessions.sessions.filter((s) => s.user === user) : [];
}

/** `GET /login` for the XSRF pair, then `POST /login` as `user` in `browser`. */
async function tryLogin(browser: Browser, user: string): Promise<Page> {
  const form = await browser.get('/login');
  expect(form.status).toBe(200);
  return browser.post('/login', {
    _xsrf: hiddenField(form.body, '_xsrf'),
    username: user,
    password: PASSWORD,
  });
}

/** The key of a successful login's 303, asserting its shape. */
function keyOf(page: Page, user: string): string {
  expect(page.status, page.body).toBe(303);
  const m = new RegExp(`^/session/${user}/([A-Za-z0-9_-]{22,128})/home$`).exec(page.location);
  expect(m, page.location).not.toBeNull();
  return m![1]!;
}

/** The frontend's "service unavailable" page (503) for a login of `user`. */
function expectLoginUnavailable(page: Page, user: string): void {
  expect(page.status, page.body).toBe(503);
  expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(page.body).toContain('<title>Service unavailable - Vesper</title>');
  expect(page.body).toContain('The session service is not available at the moment.');
  expect(page.body).toContain(`<a href="/login/${user}">Back to the login page</a>`);
  expect(page.setCookies.some((c) => c.startsWith('vesper_session='))).toBe(false);
}

/** The frontend's "session ended" page (404) with a link to log `user` in again. */
function expectSessionEnded(page: Page, user: string): void {
  expect(page.status, page.body).toBe(404);
  expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(page.body).toContain('<title>Session ended - Vesper</title>');
  expect(page.body).toContain(`<a href="/login/${user}">Log in again</a>`);
}

/**
 * True when connecting to `socketPath` fails as for a session that is gone
 * (`ENOENT`, `ECONNREFUSED`); false while something still accepts, even a
 * listener of a process whose threads are still being torn down.
 */
function refuses(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) =>
      resolve(err.code === 'ENOENT' || err.code === 'ECONNREFUSED'),
    );
  });
}

/** A session's own `GET /_vesper/status` on its socket (a control request, as the session server sends it). */
function controlStatus(socketPath: string): Promise<{ user: string; pid: number }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath, path: '/_vesper/status', headers: { 'X-Vesper-Control': '1' }, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => resolve(JSON.parse(text) as { user: string; pid: number }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('the session server SIGKILLed, and a session process SIGKILLed (bench application)', () => {
  let t: Tracked | null = null;
  let load: LoadOptions;
  let aliceKey = '';

  beforeAll(async () => {
    ensureGatewayBuilt();
    const started = await startGateway();
    t = new Tracked(started.gateway);
    load = started.load;
    aliceKey = started.key;
  }, 200_000);

  afterAll(async () => {
    await t?.cleanup();
  });

  it('keeps every request of the running session answered while the session server is killed, restarted and re-adopts it; logins meanwhile get 503 or succeed, and succeed after', async () => {
    const gw = t!.gateway;
    const before = await t!.status();
    const oldServer = service(before, 'session-server');
    expect(oldServer).toMatchObject({ state: 'running', restarts: 0 });
    const [alice] = sessionsOf(before, 'alice');
    expect(alice).toBeDefined();
    const page = new Browser(gw.port);
    const cookie = { cookie: `vesper_session=${aliceKey}` };
    const expected = pageBody('alice');

    const running = new KeepAliveLoad(load);
    running.start();
    await sleep(500);
    // A login form fetched before the kill, posted right after it.
    const outage = new Browser(gw.port);
    const form = await outage.get('/login');
    const killedAt = Date.now();
    process.kill(oldServer.pid!, 'SIGKILL');
    const attempts: Page[] = [];
    const pages: Page[] = [];
    let last = await outage.post('/login', {
      _xsrf: hiddenField(form.body, '_xsrf'),
      username: 'alice',
      password: PASSWORD,
    });
    attempts.push(last);
    // Until a login succeeds: every answer is the friendly 503 or the 303, and
    // the running session answers its page in full meanwhile.
    while (last.status !== 303 && Date.now() - killedAt < 20_000) {
      pages.push(await page.get('/session/alice//page', cookie));
      await sleep(50);
      last = await tryLogin(outage, 'alice');
      attempts.push(last);
    }
    const loggedInMs = Date.now() - killedAt;
    t!.remember();
    const after = await untilValue('the restarted session server', 10_000, async () => {
      const s = await t!.status();
      const v = service(s, 'session-server');
      return v.pid !== oldServer.pid && v.state === 'running' && s.sessions.ok ? s : undefined;
    });
    pages.push(await page.get('/session/alice//page', cookie));
    await sleep(300);
    const r = await running.stop();
    const why = `${JSON.stringify(r)}\n${gw.output.slice(-3000)}`;

    // No request to the running session failed, and each was the whole page.
    expect(r.ok, why).toBeGreaterThan(100);
    expect([r.failed, r.badStatus, r.connectErrors], why).toEqual([0, 0, 0]);
    expect(Object.keys(r.statuses), why).toEqual(['200']);
    for (const p of pages) {
      expect(p.status).toBe(200);
      expect(p.body).toBe(expected);
    }
    // Restarted once, at once (first crash), and the old process is gone.
    const newServer = service(after, 'session-server');
    expect(newServer).toMatchObject({ state: 'running', restarts: 1 });
    expect(isAlive(oldServer.pid!)).toBe(false);
    // Re-adopted: the same process serves the same session number.
    expect(sessionsOf(after, 'alice')).toContainEqual(
      expect.objectContaining({ session: alice!.session, pid: alice!.pid }),
    );
    expect(gw.output).toContain(
      `Adopted the running session ${alice!.session} of alice (process ${alice!.pid}).`,
    );
    // Logins during the outage: the friendly 503, never a 502 or a bare error; then 303.
    expect(loggedInMs, why).toBeLessThan(20_000);
    for (const a of attempts.slice(0, -1)) expectLoginUnavailable(a, 'alice');
    keyOf(attempts.at(-1)!, 'alice');
    // A new login after the restart succeeds and its session answers.
    const next = new Browser(gw.port);
    const key = keyOf(await tryLogin(next, 'bob'), 'bob');
    const first = await next.get(`/session/bob/${key}/page`);
    expect(first.status).toBe(200);
    expect(first.body).toBe(pageBody('bob'));
    t!.remember();
    console.log(
      `session server restarted: ${attempts.length - 1} login(s) answered 503, a login succeeded ${loggedInMs} ms after the kill; ${r.ok} requests, none failed`,
    );
  }, 90_000);

  /** Logs `user` in, kills its session process, and checks what the gateway and the session server do. */
  async function killSession(
    user: string,
    key: string,
  ): Promise<{ removedMs: number | null; ended: Page; wrong: Page }> {
    const gw = t!.gateway;
    const browser = new Browser(gw.port);
    const socket = sessionSocketPath(gw.socketDir, user, key);
    const alive = await browser.get(`/session/${user}/${key}/page`);
    expect(alive.status).toBe(200);
    expect(alive.body).toBe(pageBody(user));
    // The process behind this key's socket, as the session server's status shows it.
    const pid = (await controlStatus(socket)).pid;
    expect(sessionsOf(await t!.status(), user).map((s) => s.pid)).toContain(pid);
    expect(existsSync(socket)).toBe(true);

    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    // When the session server removes the socket, watched from the kill on.
    const removal = until(() => !existsSync(socket), 5000).then((gone) =>
      gone ? Date.now() - killedAt : null,
    );
    expect(await until(() => !isAlive(pid), 2000)).toBe(true);
    // The main thread is a zombie before the process's other threads are gone, and
    // its listening socket accepts (then resets) connections for those few ms:
    // a request then gets the 503 page. Once it refuses, the session is gone.
    await untilValue('the socket to refuse connections', 2000, async () =>
      (await refuses(socket)) ? true : undefined,
    );
    const ended = await browser.get(`/session/${user}/${key}/page`);
    const wrongKey = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
    const wrong = await browser.get(`/session/${user}/${wrongKey}/page`);
    // The text fields of a form posted to the dead session come back; secrets do not.
    const draft = 'Dear Bob,\nthe report is attached <b>tomorrow</b> & not today.';
    const posted = await browser.post(`/session/${user}/${key}/compose`, {
      subject: 'Quarterly report',
      body: draft,
      password: 'not-echoed-1',
      _xsrf: 'not-echoed-2',
    });
    expectSessionEnded(posted, user);
    expect(posted.body).toContain('<h2>What you were sending</h2>');
    expect(posted.body).toContain('>Quarterly report</textarea>');
    expect(posted.body).toContain(
      '>Dear Bob,\nthe report is attached &lt;b&gt;tomorrow&lt;/b&gt; &amp; not today.</textarea>',
    );
    expect(posted.body).not.toContain('not-echoed');
    // The session server removes the socket: at once for its own child, within
    // its one-second pid check for an adopted session.
    const removedMs = await removal;
    expect(removedMs, gw.output.slice(-2000)).not.toBeNull();
    const gone = await t!.status();
    expect(sessionsOf(gone, user).map((s) => s.pid)).not.toContain(pid);
    expect(gw.output).toContain(`(process ${pid}) crashed`);
    // With the socket gone the answer is the same again.
    const later = await browser.get(`/session/${user}/${key}/page`);
    expect(later.status).toBe(ended.status);
    expect(later.body).toBe(ended.body);
    return { removedMs, ended, wrong };
  }

  it('gives a killed session (started by this session server) the wrong-key page, echoes a POST, and removes its socket', async () => {
    const gw = t!.gateway;
    const key = keyOf(await tryLogin(new Browser(gw.port), 'bob'), 'bob');
    const { removedMs, ended, wrong } = await killSession('bob', key);
    expectSessionEnded(ended, 'bob');
    expect(ended.body).not.toContain('What you were sending');
    expect(wrong.status).toBe(ended.status);
    expect(wrong.body).toBe(ended.body);
    expect(removedMs).toBeLessThan(1000);
  }, 60_000);

  it('does the same for an adopted session (started by the killed session server)', async () => {
    const { removedMs, ended, wrong } = await killSession('alice', aliceKey);
    expectSessionEnded(ended, 'alice');
    expect(wrong.status).toBe(ended.status);
    expect(wrong.body).toBe(ended.body);
    // One pid check a second; a loaded machine (the whole suite in parallel) took 2.6 s once.
    expect(removedMs).toBeLessThan(4000);
  }, 60_000);
});

/** The account application's words for "accountd cannot be reached" (problem.html). */
const ACCOUNT_UNAVAILABLE =
  'Account services are unavailable at the moment. Your session is still running: try again in a little while.';

/** accountd's timeout in this test (`accountd.timeout`). */
const ACCOUNTD_TIMEOUT_MS = 2000;

describe('accountd stopped with SIGSTOP (account application, accountd.timeout 2s)', () => {
  let t: Tracked | null = null;
  /** alice's browser, logged in before accountd stops. */
  let alice: Browser;
  let key = '';

  beforeAll(async () => {
    ensureGatewayBuilt();
    const gateway = await VesperGateway.start({
      workers: 2,
      logLevel: 'info',
      options: [`accountd.timeout=${ACCOUNTD_TIMEOUT_MS}ms`, 'session.spares=1'],
    });
    t = new Tracked(gateway);
    alice = new Browser(gateway.port);
    key = keyOf(await tryLogin(alice, 'alice'), 'alice');
  }, 200_000);

  afterAll(async () => {
    await t?.cleanup();
  });

  /** GET `path` in `browser` until `done(page)`, at most `ms`; the last page. */
  async function pageUntil(
    browser: Browser,
    path: string,
    done: (page: Page) => boolean,
    ms = 10_000,
  ): Promise<Page> {
    const deadline = Date.now() + ms;
    for (;;) {
      const page = await browser.get(path);
      if (done(page) || Date.now() > deadline) return page;
      await sleep(100);
    }
  }

  it('answers logins with 503 within the timeout, keeps the running session answering with account pages saying so, and recovers after SIGCONT', async () => {
    const gw = t!.gateway;
    const home = `/session/alice/${key}/home`;
    const quota = `/session/alice/${key}/quota`;
    const accountOpen = (p: Page): boolean =>
      p.status === 200 && p.body.includes('<dd id="accountd-state">open</dd>');
    // Before: the home page shows the account (a loaded machine may need a second try).
    const homeBefore = await pageUntil(alice, home, accountOpen);
    expect(homeBefore.status).toBe(200);
    expect(homeBefore.body).toContain('<dd id="accountd-state">open</dd>');
    expect(homeBefore.body).not.toContain(ACCOUNT_UNAVAILABLE);

    const status = await t!.status();
    const service = status.master.services.find((s) => s.name === 'accountd');
    expect(service).toMatchObject({ state: 'running', restarts: 0 });
    const accountd = service!.pid!;
    process.kill(accountd, 'SIGSTOP');
    t!.stopped.add(accountd);

    // A login: the session server's accountd check gives up after accountd.timeout
    // (connecting succeeds: the kernel queues the connection; no reply comes).
    const bob = new Browser(gw.port);
    let at = Date.now();
    const refused = await tryLogin(bob, 'bob');
    const loginMs = Date.now() - at;
    expectLoginUnavailable(refused, 'bob');
    expect(loginMs).toBeGreaterThanOrEqual(ACCOUNTD_TIMEOUT_MS - 50);
    // Well before the frontend's own limit (accountd.timeout + 5 s).
    expect(loginMs).toBeLessThan(ACCOUNTD_TIMEOUT_MS + 4000);

    // The running session still answers: its home page, 200, says account services are unavailable.
    at = Date.now();
    const homeDown = await alice.get(home);
    const homeMs = Date.now() - at;
    expect(homeDown.status, homeDown.body).toBe(200);
    expect(homeDown.body).toContain('<title>Home - alice - Vesper</title>');
    expect(homeDown.body).toContain(ACCOUNT_UNAVAILABLE);
    expect(homeDown.body).toContain('<dt>Full name</dt><dd data-live="fullname">unavailable</dd>');
    expect(homeMs).toBeLessThan(ACCOUNTD_TIMEOUT_MS + 4000);
    // A page that needs accountd: 503 and the application's friendly page, no stack.
    at = Date.now();
    const quotaDown = await alice.get(quota);
    const quotaMs = Date.now() - at;
    expect(quotaDown.status, quotaDown.body).toBe(503);
    expect(quotaDown.headers['content-type']).toBe('text/html; charset=UTF-8');
    expect(quotaDown.body).toContain('<title>Unavailable - alice - Vesper</title>');
    expect(quotaDown.body).toContain(ACCOUNT_UNAVAILABLE);
    // "Try again" stays in the session (the cookie came back, so the URL leaves the key out).
    expect(quotaDown.body).toContain(
      '<p><a href="/session/alice//quota">Try again</a> or go back to <a href="/session/alice//home">',
    );
    expect(quotaDown.body).not.toMatch(/\.js:\d+|Error:/);
    expect(quotaMs).toBeLessThan(ACCOUNTD_TIMEOUT_MS + 4000);
    // Its static files do not need accountd.
    const css = await alice.get(`/session/alice/${key}/static/account.css`);
    expect(css.status).toBe(200);
    expect(css.headers['content-type']).toBe('text/css; charset=UTF-8');
    // accountd is stopped, not dead: the master has nothing to restart.
    const during = await t!.status();
    expect(during.master.services.find((s) => s.name === 'accountd')).toMatchObject({
      pid: accountd,
      state: 'running',
      restarts: 0,
    });

    process.kill(accountd, 'SIGCONT');
    t!.stopped.delete(accountd);
    at = Date.now();
    // After SIGCONT: a login works again. accountd first works through what
    // queued up while it was stopped (each LOGIN a password hash, even for a
    // client that gave up), so on a busy machine an early attempt may still
    // time out: every answer is then the 503 page.
    let again = await tryLogin(bob, 'bob');
    let attempts = 1;
    while (again.status !== 303 && Date.now() - at < 20_000) {
      expectLoginUnavailable(again, 'bob');
      await sleep(1000);
      again = await tryLogin(bob, 'bob');
      attempts += 1;
    }
    const bobKey = keyOf(again, 'bob');
    const bobHome = await bob.get(`/session/bob/${bobKey}/home`);
    expect(bobHome.status).toBe(200);
    expect(bobHome.body).toContain('<dt>User</dt><dd>bob</dd>');
    // The running session's account pages work again, with no new login.
    const homeAfter = await pageUntil(alice, home, accountOpen);
    expect(homeAfter.status).toBe(200);
    expect(homeAfter.body).toContain('<dd id="accountd-state">open</dd>');
    expect(homeAfter.body).not.toContain(ACCOUNT_UNAVAILABLE);
    const quotaAfter = await pageUntil(alice, quota, (p) => p.status === 200);
    expect(quotaAfter.status).toBe(200);
    expect(quotaAfter.body).toContain('<title>Quota - alice - Vesper</title>');
    t!.remember();
    console.log(
      `accountd stopped: login 503 after ${loginMs} ms, home 200 after ${homeMs} ms, quota 503 after ${quotaMs} ms; after SIGCONT a login succeeded at attempt ${attempts}, ${Date.now() - at} ms`,
    );
  }, 90_000);
});
