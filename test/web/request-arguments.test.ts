import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Application } from '../../src/web/application.js';
import { RequestHandler } from '../../src/web/request-handler.js';
import { startTestServer, type TestServer } from '../../src/web/testing.js';
import { captureLogger, errorPage } from './web-test-helpers.js';

class ArgumentsHandler extends RequestHandler {
  override get(): void {
    this.write(this.#report());
  }

  override post(): void {
    this.write(this.#report());
  }

  #report(): Record<string, unknown> {
    return {
      foo: this.getArgument('foo', null),
      foos: this.getArguments('foo'),
      query: this.getQueryArgument('foo', null),
      queries: this.getQueryArguments('foo'),
      body: this.getBodyArgument('foo', null),
      bodies: this.getBodyArguments('foo'),
      raw: this.getArgument('foo', null, false),
      missing: this.getArgument('missing', 'dflt'),
    };
  }
}

class RequiredHandler extends RequestHandler {
  override get(): void {
    this.write(this.getArgument('needed'));
  }
}

describe('request arguments', () => {
  let server: TestServer;
  const { log, lines } = captureLogger();

  beforeAll(async () => {
    server = await startTestServer(
      new Application(
        [
          ['/args', ArgumentsHandler],
          ['/required', RequiredHandler],
        ],
        { log },
      ),
    );
  });

  afterAll(() => server.close());

  it('returns the last query value for the singular getter and all values for the plural one', async () => {
    const res = await server.fetch('/args?foo=1&foo=2');
    expect(await res.json()).toEqual({
      foo: '2',
      foos: ['1', '2'],
      query: '2',
      queries: ['1', '2'],
      body: null,
      bodies: [],
      raw: '2',
      missing: 'dflt',
    });
  });

  it('lets a body value win for the singular getter and lists query values first', async () => {
    const res = await server.fetch('/args?foo=q', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'foo=b1&foo=b2',
    });
    expect(await res.json()).toEqual({
      foo: 'b2',
      foos: ['q', 'b1', 'b2'],
      query: 'q',
      queries: ['q'],
      body: 'b2',
      bodies: ['b1', 'b2'],
      raw: 'b2',
      missing: 'dflt',
    });
  });

  it('strips values unless told not to and turns control characters into spaces', async () => {
    const res = await server.fetch('/args?foo=%20a%01b%20');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.foo).toBe('a b');
    expect(body.raw).toBe(' a b ');
  });

  it('keeps blank values', async () => {
    const body = (await (await server.fetch('/args?foo=')).json()) as Record<string, unknown>;
    expect(body.foos).toEqual(['']);
  });

  it("answers a missing required argument with 400 and Tornado's page, logging the name", async () => {
    const res = await server.fetch('/required');
    expect(res.status).toBe(400);
    expect(await res.text()).toBe(errorPage(400, 'Bad Request'));
    expect(lines.some((l) => String(l.msg).endsWith(': Missing argument needed'))).toBe(true);
  });

  it('returns a required argument that is present', async () => {
    expect(await (await server.fetch('/required?needed=yes')).text()).toBe('yes');
  });

  it('answers 400 for an argument that is not valid UTF-8', async () => {
    const res = await server.fetch('/args?foo=%FF');
    expect(res.status).toBe(400);
    expect(await res.text()).toBe(errorPage(400, 'Bad Request'));
  });

  it('answers 400 for a malformed multipart body', async () => {
    const res = await server.fetch('/args', {
      method: 'POST',
      headers: { 'Content-Type': 'multipart/form-data; boundary=xyz' },
      body: 'this is not multipart',
    });
    expect(res.status).toBe(400);
  });
});
