import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Application } from '../../src/web/application.js';
import { RequestHandler } from '../../src/web/request-handler.js';
import { startTestServer, type TestServer } from '../../src/web/testing.js';
import { Finish, HttpError } from '../../src/web/web-errors.js';
import { captureLogger, errorPage } from './web-test-helpers.js';

const events: string[] = [];
let closeSeen: () => void = () => {};
const closed = new Promise<void>((resolve) => {
  closeSeen = resolve;
});

class OrderHandler extends RequestHandler {
  label = 'field-initialiser';

  override initialize(kwargs: Record<string, unknown>): void {
    this.label = String(kwargs.label);
    events.push(`initialize:${this.label}`);
  }

  override prepare(): void {
    events.push('prepare');
  }

  override get(): void {
    events.push('get');
    this.write(this.label);
  }

  override onFinish(): void {
    events.push('onFinish');
  }
}

class AsyncPrepareFinishes extends RequestHandler {
  override async prepare(): Promise<void> {
    await new Promise((r) => setTimeout(r, 5));
    events.push('async-prepare');
    await this.finish('from prepare');
  }

  override get(): void {
    events.push('get-should-not-run');
  }

  override onFinish(): void {
    events.push('async-onFinish');
  }
}

class AsyncGet extends RequestHandler {
  override async get(): Promise<void> {
    await new Promise((r) => setTimeout(r, 5));
    this.write('async done');
  }
}

class GetOnly extends RequestHandler {
  override get(): void {
    this.write('got');
  }
}

class Propfind extends RequestHandler {
  static override SUPPORTED_METHODS = [...RequestHandler.SUPPORTED_METHODS, 'PROPFIND'];

  propfind(): void {
    this.write('propfind ok');
  }
}

class Hangs extends RequestHandler {
  override async get(): Promise<void> {
    await closed;
  }

  override onConnectionClose(): void {
    events.push('connection-closed');
    closeSeen();
  }
}

class Throws extends RequestHandler {
  override get(): void {
    const kind = this.getArgument('kind');
    if (kind === 'plain') throw new Error('kaboom');
    if (kind === 'http') throw new HttpError(403, 'user %s may not', { args: ['bob'] });
    if (kind === 'reason') throw new HttpError(418, undefined, { reason: 'Short And Stout' });
    if (kind === 'finish') {
      this.write('partial ');
      throw new Finish('finished');
    }
    if (kind === 'custom-status') throw new HttpError(599);
  }
}

class PathArgsInPrepare extends RequestHandler {
  static userLookups = 0;

  override getCurrentUser(): unknown {
    PathArgsInPrepare.userLookups++;
    return 'user-from-lookup';
  }

  override prepare(): void {
    const seen = { args: this.pathArgs, kwargs: this.pathKwargs };
    const users = [this.currentUser, this.currentUser];
    this.currentUser = 'assigned';
    void this.finish({ ...seen, users, after: String(this.currentUser) });
  }
}

class FlushThenThrow extends RequestHandler {
  override async get(): Promise<void> {
    this.write('streamed part');
    await this.flush();
    throw new Error('late failure');
  }
}

describe('request handler life cycle', () => {
  let server: TestServer;
  const { log, lines } = captureLogger();

  beforeAll(async () => {
    server = await startTestServer(
      new Application(
        [
          ['/order', OrderHandler, { label: 'from-kwargs' }],
          ['/async-prepare', AsyncPrepareFinishes],
          ['/async-get', AsyncGet],
          ['/get-only', GetOnly],
          ['/propfind', Propfind],
          ['/hangs', Hangs],
          ['/throws', Throws],
          ['/flush-then-throw', FlushThenThrow],
          ['/pathargs/(\\w+)', PathArgsInPrepare],
          ['/pathkwargs/(?<name>\\w+)', PathArgsInPrepare],
        ],
        { log },
      ),
    );
  });

  afterAll(() => server.close());

  it('runs initialize, prepare, the verb and onFinish in order, after field initialisers', async () => {
    events.length = 0;
    const res = await server.fetch('/order');
    expect(await res.text()).toBe('from-kwargs');
    expect(events).toEqual(['initialize:from-kwargs', 'prepare', 'get', 'onFinish']);
  });

  it('stops after an async prepare that finished the request', async () => {
    events.length = 0;
    const res = await server.fetch('/async-prepare');
    expect(await res.text()).toBe('from prepare');
    expect(events).toEqual(['async-prepare', 'async-onFinish']);
  });

  it('has the path arguments already decoded when prepare runs', async () => {
    expect(await (await server.fetch('/pathargs/abc')).json()).toMatchObject({
      args: ['abc'],
      kwargs: {},
    });
    expect(await (await server.fetch('/pathkwargs/xyz')).json()).toMatchObject({
      args: [],
      kwargs: { name: 'xyz' },
    });
  });

  it('looks the current user up once, and lets it be assigned', async () => {
    PathArgsInPrepare.userLookups = 0;
    const body = await (await server.fetch('/pathargs/u')).json();
    expect(body).toMatchObject({
      users: ['user-from-lookup', 'user-from-lookup'],
      after: 'assigned',
    });
    expect(PathArgsInPrepare.userLookups).toBe(1);
  });

  it('finishes automatically after an async verb method', async () => {
    expect(await (await server.fetch('/async-get')).text()).toBe('async done');
  });

  it('answers 405 for a method the handler does not implement', async () => {
    const res = await server.fetch('/get-only', { method: 'POST' });
    expect(res.status).toBe(405);
    expect(await res.text()).toBe(errorPage(405, 'Method Not Allowed'));
  });

  it('does not map HEAD to GET', async () => {
    const res = await server.fetch('/get-only', { method: 'HEAD' });
    expect(res.status).toBe(405);
  });

  it('answers 405 for a method outside SUPPORTED_METHODS', async () => {
    const raw = await server.rawRequest(
      'PROPFIND /get-only HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(raw.toString('latin1')).toMatch(/^HTTP\/1\.1 405 Method Not Allowed\r\n/);
  });

  it('accepts a method added to SUPPORTED_METHODS', async () => {
    const raw = await server.rawRequest(
      'PROPFIND /propfind HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(raw.toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\npropfind ok$/);
  });

  it('calls onConnectionClose when the client goes away before the response', async () => {
    const { connect } = await import('node:net');
    const socket = connect(server.port, '127.0.0.1');
    socket.write('GET /hangs HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => setTimeout(r, 50));
    socket.destroy();
    await closed;
    expect(events).toContain('connection-closed');
  });

  it('turns an exception into a 500 page and logs it with its stack', async () => {
    lines.length = 0;
    const res = await server.fetch('/throws?kind=plain');
    expect(res.status).toBe(500);
    expect(await res.text()).toBe(errorPage(500, 'Internal Server Error'));
    const entry = lines.find((l) => String(l.msg).startsWith('Uncaught exception'));
    expect(entry?.level).toBe(50);
    expect(String((entry?.err as { stack?: string }).stack)).toContain('kaboom');
  });

  it('turns an HttpError into its status page and logs its message without a stack', async () => {
    lines.length = 0;
    const res = await server.fetch('/throws?kind=http');
    expect(res.status).toBe(403);
    expect(await res.text()).toBe(errorPage(403, 'Forbidden'));
    const entry = lines.find((l) => String(l.msg).includes('user bob may not'));
    expect(entry).toMatchObject({
      level: 40,
      msg: '403 GET /throws?kind=http (127.0.0.1): user bob may not',
    });
    expect(entry?.err).toBeUndefined();
  });

  it("uses an HttpError's reason in the status line and the page", async () => {
    const raw = (
      await server.rawRequest(
        'GET /throws?kind=reason HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      )
    ).toString('latin1');
    expect(raw).toMatch(/^HTTP\/1\.1 418 Short And Stout\r\n/);
    expect(raw.endsWith(errorPage(418, 'Short And Stout'))).toBe(true);
  });

  it('calls a status without a standard phrase Unknown', async () => {
    const raw = (
      await server.rawRequest(
        'GET /throws?kind=custom-status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      )
    ).toString('latin1');
    expect(raw).toMatch(/^HTTP\/1\.1 599 Unknown\r\n/);
    expect(raw.endsWith(errorPage(599, 'Unknown'))).toBe(true);
  });

  it('ends the request normally on Finish, with what was written', async () => {
    const res = await server.fetch('/throws?kind=finish');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('partial finished');
  });

  it('can only end the response when an error happens after headers were sent', async () => {
    lines.length = 0;
    const res = await server.fetch('/flush-then-throw');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('streamed part');
    expect(lines.some((l) => String(l.msg).includes('headers were already written'))).toBe(true);
  });

  it('writes one access log line per request, at a level by status', async () => {
    lines.length = 0;
    await (await server.fetch('/get-only?token=secret&x=1')).text();
    await (await server.fetch('/nowhere')).text();
    const access = lines.filter((l) => typeof l.status === 'number');
    expect(access).toHaveLength(2);
    expect(access[0]).toMatchObject({
      level: 30,
      status: 200,
      method: 'GET',
      uri: '/get-only?token=[redacted]&x=1',
      remoteIp: '127.0.0.1',
    });
    expect(String(access[0]!.msg)).toMatch(
      /^200 GET \/get-only\?token=\[redacted\]&x=1 \(127\.0\.0\.1\) \d+\.\d\dms$/,
    );
    expect(access[1]).toMatchObject({ level: 40, status: 404 });
  });
});

describe('serveTraceback', () => {
  it('shows the stack as text/plain only when the setting is on', async () => {
    const on = await startTestServer(new Application([['/t', Throws]], { serveTraceback: true }));
    const off = await startTestServer(new Application([['/t', Throws]], { debug: false }));
    try {
      const res = await on.fetch('/t?kind=plain');
      expect(res.status).toBe(500);
      expect(res.headers.get('content-type')).toBe('text/plain');
      const text = await res.text();
      expect(text).toMatch(/^Error: kaboom\n\s+at /);
      const hidden = await off.fetch('/t?kind=plain');
      expect(await hidden.text()).toBe(errorPage(500, 'Internal Server Error'));
    } finally {
      await on.close();
      await off.close();
    }
  });

  it('is on by default in debug mode', () => {
    expect(new Application([], { debug: true }).settings.serveTraceback).toBe(true);
  });
});

describe('logFunction', () => {
  it('replaces the access log', async () => {
    const seen: string[] = [];
    const server = await startTestServer(
      new Application([['/g', GetOnly]], {
        logFunction: (h) => seen.push(`${h.getStatus()} ${h.request.path}`),
      }),
    );
    try {
      await (await server.fetch('/g')).text();
      expect(seen).toEqual(['200 /g']);
    } finally {
      await server.close();
    }
  });
});
