import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Application } from '../../src/web/application.js';
import { RequestHandler, type ErrorInfo } from '../../src/web/request-handler.js';
import { startTestServer, type TestServer } from '../../src/web/testing.js';
import { Finish, HttpError } from '../../src/web/web-errors.js';
import { captureLogger, errorPage } from './web-test-helpers.js';

const finished: string[] = [];

class CustomErrorPage extends RequestHandler {
  override get(): void {
    throw new HttpError(409, 'conflict in %s', { args: ['thing'] });
  }

  override writeError(statusCode: number, info: ErrorInfo): void {
    this.setHeader('Content-Type', 'text/plain');
    const err = info.error;
    void this.finish(
      `custom ${statusCode} ${this.reason} ${err instanceof HttpError ? String(err.logMessage) : ''}`,
    );
  }

  override onFinish(): void {
    finished.push('custom');
  }
}

class BrokenErrorPage extends RequestHandler {
  override get(): void {
    throw new Error('first failure');
  }

  override writeError(): void {
    throw new Error('second failure');
  }
}

class FailsInPrepare extends RequestHandler {
  override prepare(): void {
    const kind = this.getArgument('kind');
    if (kind === 'http') throw new HttpError(401);
    if (kind === 'finish') throw new Finish({ stoppedIn: 'prepare' });
  }

  override get(): void {
    this.write('not reached');
  }
}

class Defaults extends RequestHandler {
  override setDefaultHeaders(): void {
    this.setHeader('X-Frame-Options', 'DENY');
    this.clearHeader('Server');
  }

  override get(): void {
    if (this.getArgument('fail', null) !== null) throw new HttpError(400);
    this.write('discarded');
    this.clear();
    this.write('kept');
  }
}

class NoEtag extends RequestHandler {
  override computeEtag(): string | null {
    return null;
  }

  override get(): void {
    this.write('no etag here');
  }
}

class ExplicitSendError extends RequestHandler {
  override get(): void {
    this.setHeader('X-Dropped', 'yes');
    this.write('dropped body');
    this.sendError(503, { reason: 'Back Soon' });
  }
}

describe('error pages', () => {
  let server: TestServer;
  const { log, lines } = captureLogger();

  beforeAll(async () => {
    server = await startTestServer(
      new Application(
        [
          ['/custom', CustomErrorPage],
          ['/broken', BrokenErrorPage],
          ['/prepare', FailsInPrepare],
          ['/defaults', Defaults],
          ['/noetag', NoEtag],
          ['/send-error', ExplicitSendError],
        ],
        { log },
      ),
    );
  });

  afterAll(() => server.close());

  it('uses an overridden writeError and still runs onFinish', async () => {
    finished.length = 0;
    const res = await server.fetch('/custom');
    expect(res.status).toBe(409);
    expect(await res.text()).toBe('custom 409 Conflict conflict in thing');
    expect(finished).toEqual(['custom']);
  });

  it('answers with an empty body when writeError itself fails, and logs both', async () => {
    lines.length = 0;
    const res = await server.fetch('/broken');
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('');
    expect(lines.some((l) => String(l.msg).startsWith('Uncaught exception while handling'))).toBe(
      true,
    );
    expect(lines.some((l) => l.msg === 'Uncaught exception in writeError().')).toBe(true);
  });

  it('turns an HttpError from prepare into its page and a Finish into a normal answer', async () => {
    const res = await server.fetch('/prepare?kind=http');
    expect(res.status).toBe(401);
    expect(await res.text()).toBe(errorPage(401, 'Unauthorized'));
    const fin = await server.fetch('/prepare?kind=finish');
    expect(fin.status).toBe(200);
    expect(await fin.json()).toEqual({ stoppedIn: 'prepare' });
  });

  it('applies setDefaultHeaders to every answer, error pages included, and clear() empties the buffer', async () => {
    const ok = await server.fetch('/defaults');
    expect(await ok.text()).toBe('kept');
    expect(ok.headers.get('x-frame-options')).toBe('DENY');
    expect(ok.headers.get('server')).toBeNull();
    const err = await server.fetch('/defaults?fail=1');
    expect(err.status).toBe(400);
    expect(err.headers.get('x-frame-options')).toBe('DENY');
  });

  it('sends no Etag when computeEtag returns null', async () => {
    const res = await server.fetch('/noetag', { headers: { 'If-None-Match': '*' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBeNull();
  });

  it('clears earlier output and headers on sendError and uses the given reason', async () => {
    const raw = (
      await server.rawRequest('GET /send-error HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    ).toString('latin1');
    expect(raw).toMatch(/^HTTP\/1\.1 503 Back Soon\r\n/);
    expect(raw).not.toContain('X-Dropped');
    expect(raw.endsWith(errorPage(503, 'Back Soon'))).toBe(true);
  });
});
