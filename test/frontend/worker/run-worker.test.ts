import { afterAll, describe, expect, it } from 'vitest';
import { runWorker, startWorker } from '../../../src/frontend/worker/index.js';
import type { MasterMessage, WorkerChannel, WorkerMessage } from '../../../src/frontend/ipc.js';
import { silentLogger } from '../../../src/shared/log/index.js';
import { captureLogger } from '../../web/web-test-helpers.js';
import {
  KEY,
  httpExchange,
  rawExchange,
  removeDir,
  sessionSocket,
  startBackend,
  tempDir,
  testConfig,
} from './helpers.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) removeDir(d);
});

function channel(): {
  channel: WorkerChannel;
  sent: WorkerMessage[];
  deliver: (m: MasterMessage) => void;
} {
  const sent: WorkerMessage[] = [];
  let listener: ((m: MasterMessage) => void) | null = null;
  return {
    sent,
    channel: { send: (m) => sent.push(m), onMessage: (l) => void (listener = l) },
    deliver: (m) => listener?.(m),
  };
}

describe('runWorker', () => {
  it('says it is listening, reports load every second, and resolves after a drain', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const c = channel();
    const config = testConfig(dir, (cfg) => void (cfg.log.level = 'silent'));
    const started = await startWorker(config, {
      generation: 3,
      foreground: false,
      channel: c.channel,
      log: silentLogger,
    });
    expect(c.sent[0]).toEqual({ type: 'listening' });
    const port = started.worker.addresses()[0]!.port;
    expect((await httpExchange(port, 'GET', '/_health')).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const load = c.sent.find((m) => m.type === 'load');
    expect(load).toEqual({
      type: 'load',
      inflight: 0,
      connections: 0,
      requests: 1,
      servedConnections: 1,
    });
    // A keep-alive client that is idle when the drain comes is closed after a short grace.
    const idle = rawExchange(port, 'GET /_health HTTP/1.1\r\nHost: a\r\n\r\n', 5000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    c.deliver({ type: 'drain', deadlineMs: 2000 });
    const r = await idle;
    expect(r.closed).toBe(true);
    expect(r.ms).toBeLessThan(1000);
    await started.done;
    await expect(
      rawExchange(port, 'GET /_health HTTP/1.1\r\nHost: a\r\n\r\n', 500),
    ).resolves.toMatchObject({ text: '' });
  });

  it('resolves (for the bootstrap to exit 0) once the master asks it to drain', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const c = channel();
    const config = testConfig(dir, (cfg) => void (cfg.log.level = 'silent'));
    const done = runWorker(config, { generation: 1, foreground: false, channel: c.channel });
    while (!c.sent.some((m) => m.type === 'listening')) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    c.deliver({ type: 'drain', deadlineMs: 100 });
    await expect(done).resolves.toBeUndefined();
  });

  it('sends retiring once at the connection cap and keeps serving until the master drains it', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const c = channel();
    const config = testConfig(dir, (cfg) => void (cfg.frontend.max_connections_per_child = 3));
    const started = await startWorker(config, {
      generation: 1,
      foreground: false,
      channel: c.channel,
      log: silentLogger,
    });
    const port = started.worker.addresses()[0]!.port;
    for (let i = 0; i < 5; i++)
      expect((await httpExchange(port, 'GET', '/_health')).status).toBe(200);
    expect(c.sent.filter((m) => m.type === 'retiring')).toEqual([{ type: 'retiring' }]);
    c.deliver({ type: 'drain', deadlineMs: 500 });
    await started.done;
  });

  it('writes one access-log line per request with a request id, and never the session key or a cookie', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const { log, lines } = captureLogger();
    const config = testConfig(dir, (cfg) => void (cfg.log.access = true));
    const started = await startWorker(config, {
      generation: 1,
      foreground: false,
      log,
      channel: channel().channel,
    });
    const backend = await startBackend(sessionSocket(config, 'alice', KEY));
    try {
      const port = started.worker.addresses()[0]!.port;
      await httpExchange(port, 'GET', `/session/alice/${KEY}/home?token=abc&x=1`, {
        Cookie: `vesper_session=${KEY}`,
      });
      await httpExchange(port, 'GET', '/login');
      await rawExchange(port, 'GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n');
    } finally {
      await backend.close();
      await started.close(200);
    }
    const access = lines.filter((l) => 'status' in l);
    expect(access.map((l) => [l['method'], l['path'], l['status']])).toEqual([
      ['GET', '/session/alice/-/home?token=[redacted]&x=1', 200],
      ['GET', '/login', 200],
      [undefined, undefined, 400],
    ]);
    expect(access[2]!['code']).toBe('VESPER_FRONTEND_DUPLICATE_HOST');
    for (const l of access) expect(l['requestId']).toMatch(/^[0-9a-f]{8}-[0-9a-z]+$/);
    expect(new Set(access.map((l) => l['requestId'])).size).toBe(3);
    expect(JSON.stringify(lines)).not.toContain(KEY);
    expect(JSON.stringify(lines)).not.toContain('vesper_session');
  });
});
