import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isVesperError } from '../../src/shared/errors/index.js';
import { Application } from '../../src/web/application.js';
import { FallbackHandler } from '../../src/web/builtin-handlers.js';
import { RequestHandler } from '../../src/web/request-handler.js';
import { startTestServer, type TestServer } from '../../src/web/testing.js';
import { captureLogger } from './web-test-helpers.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return isVesperError(err) ? err.code : 'other';
  }
  return 'no error';
}

class Detaching extends RequestHandler {
  override get(): void {
    const upgrade = this.detach();
    const codes = [
      codeOf(() => this.write('x')),
      codeOf(() => this.setHeader('A', 'b')),
      codeOf(() => this.setStatus(200)),
      codeOf(() => void this.finish()),
      codeOf(() => void this.flush()),
      codeOf(() => this.setCookie('a', 'b')),
    ];
    upgrade!.socket.end(`HTTP/1.1 101 Switching Protocols\r\n\r\n${codes.join(',')}`);
  }
}

const MIB = 1024 * 1024;

class BigStream extends RequestHandler {
  override async get(): Promise<void> {
    const chunk = Buffer.alloc(64 * 1024, 'v');
    for (let sent = 0; sent < 8 * MIB; sent += chunk.length) {
      this.write(chunk);
      await this.flush();
    }
  }
}

describe('HTTP connections', () => {
  let server: TestServer;
  const { log, lines } = captureLogger();
  const staticDir = mkdtempSync(join(tmpdir(), 'vesper-static-'));

  beforeAll(async () => {
    writeFileSync(join(staticDir, 'robots.txt'), 'User-agent: *\n');
    writeFileSync(join(staticDir, 'site.css'), 'body{}');
    server = await startTestServer(
      new Application(
        [
          ['/detach', Detaching],
          ['/big', BigStream],
          [
            '/node/.*',
            FallbackHandler,
            {
              fallback: (_req: unknown, res: ServerResponse) => {
                res.setHeader('X-From', 'node');
                res.end('plain node answer');
              },
            },
          ],
        ],
        { log, staticPath: staticDir },
      ),
    );
  });

  afterAll(async () => {
    await server.close();
    rmSync(staticDir, { recursive: true, force: true });
  });

  it('hands the raw socket over on detach() and refuses HTTP output afterwards', async () => {
    lines.length = 0;
    const raw = (
      await server.rawRequest(
        'GET /detach HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
      )
    ).toString('latin1');
    expect(raw).toBe(
      'HTTP/1.1 101 Switching Protocols\r\n\r\n' + Array(6).fill('VESPER_WEB_DETACHED').join(','),
    );
    expect(lines.find((l) => l.uri === '/detach')).toMatchObject({ status: 101 });
  });

  it('streams a large body with backpressure and delivers every byte', async () => {
    const received = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: server.port, path: '/big' }, (res) => {
        let n = 0;
        res.pause();
        // A slow reader: one buffered chunk per millisecond, so the server must
        // wait for drain rather than buffer the whole body.
        const timer = setInterval(() => {
          const c = res.read() as Buffer | null;
          if (c !== null) n += c.length;
        }, 1);
        res.on('end', () => {
          clearInterval(timer);
          resolve(n);
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
    expect(received).toBe(8 * MIB);
  });

  it('hands a request to a Node listener through FallbackHandler', async () => {
    const res = await server.fetch('/node/anything');
    expect(res.headers.get('x-from')).toBe('node');
    expect(await res.text()).toBe('plain node answer');
  });

  it('adds the static routes in front of the rules when staticPath is set', async () => {
    const css = await server.fetch('/static/site.css');
    expect(css.status).toBe(200);
    expect(await css.text()).toBe('body{}');
    const robots = await server.fetch('/robots.txt');
    expect(await robots.text()).toBe('User-agent: *\n');
  });
});
