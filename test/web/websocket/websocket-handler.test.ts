import { describe, it, expect, afterEach } from 'vitest';
import { WebSocket } from 'ws';
import { isVesperError } from '../../../src/shared/errors/index.js';
import {
  WebSocketHandler,
  WebSocketClosedError,
  websocketConnect,
  type ReceivedMessage,
} from '../../../src/web/index.js';
import { Servers, deferred, handshake, rawUpgrade, sleep, until } from './ws-test-helpers.js';

const servers = new Servers();
afterEach(() => servers.closeAll());

class Echo extends WebSocketHandler {
  override onMessage(message: ReceivedMessage) {
    return this.writeMessage(message);
  }
}

/** A handler whose hooks report to a shared event list. */
function recorder() {
  const events: string[] = [];
  const closed = deferred<{ code: number | null; reason: string | null }>();
  class Recorder extends WebSocketHandler {
    override onMessage(message: ReceivedMessage): void | Promise<void> {
      events.push(`message:${String(message)}`);
    }
    override onClose() {
      events.push('close');
      closed.resolve({ code: this.closeCode, reason: this.closeReason });
    }
  }
  return { events, closed: closed.promise, Recorder };
}

describe('WebSocketHandler messages', () => {
  it('delivers no message before an async open completes', async () => {
    const events: string[] = [];
    class SlowOpen extends WebSocketHandler {
      override async open() {
        events.push('open:start');
        await sleep(100);
        events.push('open:end');
      }
      override onMessage(message: ReceivedMessage) {
        events.push(`message:${String(message)}`);
      }
    }
    const server = await servers.start([['/ws', SlowOpen]]);
    const connection = await websocketConnect(server.url('/ws'));
    await Promise.all(['1', '2', '3'].map((m) => connection.writeMessage(m)));
    await until(() => events.length === 5);
    expect(events).toEqual(['open:start', 'open:end', 'message:1', 'message:2', 'message:3']);
    await connection.close();
  });

  it('delivers the next message only after an async onMessage completed, in order', async () => {
    let running = 0;
    let maxRunning = 0;
    const seen: string[] = [];
    class Serial extends WebSocketHandler {
      override async onMessage(message: ReceivedMessage) {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await sleep(Number(message) % 3);
        seen.push(String(message));
        running--;
      }
    }
    const server = await servers.start([['/ws', Serial]]);
    const connection = await websocketConnect(server.url('/ws'));
    const sent = Array.from({ length: 60 }, (_, i) => String(i));
    await Promise.all(sent.map((m) => connection.writeMessage(m)));
    await until(() => seen.length === sent.length);
    expect(seen).toEqual(sent);
    expect(maxRunning).toBe(1);
    await connection.close();
  });

  it('sends strings as text, bytes as binary and objects as JSON text', async () => {
    class Writer extends WebSocketHandler {
      override async open() {
        await this.writeMessage('héllo');
        await this.writeMessage(Buffer.from([0, 255, 1]));
        await this.writeMessage({ a: 1, html: '</script>' });
        await this.writeMessage('as bytes', { binary: true });
      }
    }
    const server = await servers.start([['/ws', Writer]]);
    const connection = await websocketConnect(server.url('/ws'));
    expect(await connection.readMessage()).toBe('héllo');
    expect(await connection.readMessage()).toEqual(Buffer.from([0, 255, 1]));
    expect(await connection.readMessage()).toBe('{"a":1,"html":"<\\/script>"}');
    expect(await connection.readMessage()).toEqual(Buffer.from('as bytes'));
    await connection.close();
  });

  it('hands text frames to onMessage as strings and binary frames as Buffers', async () => {
    const server = await servers.start([['/ws', Echo]]);
    const connection = await websocketConnect(server.url('/ws'));
    await connection.writeMessage('text');
    await connection.writeMessage(Buffer.from('bytes'));
    expect(await connection.readMessage()).toBe('text');
    expect(await connection.readMessage()).toEqual(Buffer.from('bytes'));
    await connection.close();
  });

  it('aborts the connection and calls onClose once when open throws', async () => {
    const { events, closed, Recorder } = recorder();
    class Failing extends Recorder {
      override open(): void {
        throw new Error('open failed');
      }
    }
    const server = await servers.start([['/ws', Failing]]);
    const connection = await websocketConnect(server.url('/ws'));
    await connection.writeMessage('ignored');
    expect(await connection.readMessage()).toBeNull();
    expect(connection.closeCode).toBeNull();
    expect(await closed).toEqual({ code: null, reason: null });
    await sleep(20);
    expect(events).toEqual(['close']);
  });

  it('aborts the connection and delivers nothing more when onMessage throws', async () => {
    const { events, closed, Recorder } = recorder();
    class Failing extends Recorder {
      override onMessage(message: ReceivedMessage): void {
        void super.onMessage(message);
        throw new Error('boom');
      }
    }
    const server = await servers.start([['/ws', Failing]]);
    const connection = await websocketConnect(server.url('/ws'));
    await connection.writeMessage('1');
    await connection.writeMessage('2').catch(() => undefined);
    await closed;
    expect(events).toEqual(['message:1', 'close']);
  });
});

describe('WebSocketHandler closing', () => {
  it('closes with a code and reason the client sees, and onClose runs once', async () => {
    const { events, closed, Recorder } = recorder();
    class Closer extends Recorder {
      override open() {
        this.close(4001, 'go away');
      }
    }
    const server = await servers.start([['/ws', Closer]]);
    const connection = await websocketConnect(server.url('/ws'));
    expect(await connection.readMessage()).toBeNull();
    expect(connection.closeCode).toBe(4001);
    expect(connection.closeReason).toBe('go away');
    expect((await closed).code).toBe(4001);
    await sleep(20);
    expect(events).toEqual(['close']);
  });

  it('sends 1000 for a reason without a code', async () => {
    class Closer extends WebSocketHandler {
      override open() {
        this.close(undefined, 'done');
      }
    }
    const server = await servers.start([['/ws', Closer]]);
    const connection = await websocketConnect(server.url('/ws'));
    expect(await connection.readMessage()).toBeNull();
    expect([connection.closeCode, connection.closeReason]).toEqual([1000, 'done']);
  });

  it("sets closeCode and closeReason from the client's close frame", async () => {
    const { events, closed, Recorder } = recorder();
    const server = await servers.start([['/ws', Recorder]]);
    const connection = await websocketConnect(server.url('/ws'));
    await connection.close(4002, 'client bye');
    expect(await closed).toEqual({ code: 4002, reason: 'client bye' });
    expect(connection.closeCode).toBe(4002);
    expect(events).toEqual(['close']);
  });

  it('reports null when the client closes without a code or drops the connection', async () => {
    const first = recorder();
    const second = recorder();
    const server = await servers.start([
      ['/a', first.Recorder],
      ['/b', second.Recorder],
    ]);
    const a = await websocketConnect(server.url('/a'));
    await a.close();
    expect(await first.closed).toEqual({ code: null, reason: null });
    const b = await websocketConnect(server.url('/b'));
    await b.terminate();
    expect(await second.closed).toEqual({ code: null, reason: null });
    await sleep(20);
    expect(second.events).toEqual(['close']);
  });

  it('delivers messages sent before the close frame, then onClose', async () => {
    const { events, closed, Recorder } = recorder();
    class Slow extends Recorder {
      override onMessage(message: ReceivedMessage): Promise<void> {
        return sleep(30).then(() => super.onMessage(message));
      }
    }
    const server = await servers.start([['/ws', Slow]]);
    const connection = await websocketConnect(server.url('/ws'));
    void connection.writeMessage('a');
    void connection.writeMessage('b');
    await connection.close(1000);
    await closed;
    expect(events).toEqual(['message:a', 'message:b', 'close']);
  });

  it('rejects writeMessage with WebSocketClosedError once closing or closed', async () => {
    const results = deferred<unknown[]>();
    class Writer extends WebSocketHandler {
      override async open() {
        const out: unknown[] = [];
        this.close(1000);
        out.push(await this.writeMessage('late').catch((err: unknown) => err));
        results.resolve(out);
      }
      override onClose() {
        // Also after the connection is closed.
        void this.writeMessage('later').catch((err: unknown) => results.resolve([err]));
      }
    }
    const server = await servers.start([['/ws', Writer]]);
    const connection = await websocketConnect(server.url('/ws'));
    const [err] = await results.promise;
    expect(err).toBeInstanceOf(WebSocketClosedError);
    expect(isVesperError(err, 'VESPER_WEB_WEBSOCKET_CLOSED')).toBe(true);
    await connection.readMessage();
  });

  it('rejects writeMessage before the upgrade', async () => {
    const result = deferred<unknown>();
    class Early extends WebSocketHandler {
      override prepare() {
        this.writeMessage('too early').catch((err: unknown) => result.resolve(err));
      }
    }
    const server = await servers.start([['/ws', Early]]);
    const connection = await websocketConnect(server.url('/ws'));
    expect(await result.promise).toBeInstanceOf(WebSocketClosedError);
    await connection.close();
  });

  it('refuses close codes and reasons that may not be sent', async () => {
    const codes = deferred<string[]>();
    class Bad extends WebSocketHandler {
      override open() {
        const out: string[] = [];
        for (const [code, reason] of [
          [1005, undefined],
          [1006, undefined],
          [999, undefined],
          [5000, undefined],
          [1000, 'x'.repeat(124)],
        ] as const) {
          try {
            this.close(code, reason);
            out.push('accepted');
          } catch (err) {
            out.push(isVesperError(err) ? err.code : 'other');
          }
        }
        codes.resolve(out);
        this.close(1000, 'x'.repeat(123));
      }
    }
    const server = await servers.start([['/ws', Bad]]);
    const connection = await websocketConnect(server.url('/ws'));
    expect(await codes.promise).toEqual(new Array(5).fill('VESPER_WEB_WEBSOCKET_BAD_CLOSE'));
    expect(await connection.readMessage()).toBeNull();
    expect(connection.closeReason).toBe('x'.repeat(123));
  });

  it('drops a peer that does not answer the close frame after websocketCloseTimeout', async () => {
    const { closed, Recorder } = recorder();
    let closedAt = 0;
    class Closer extends Recorder {
      override open() {
        setTimeout(() => {
          closedAt = Date.now();
          this.close(1000);
        }, 10);
      }
    }
    const server = await servers.start([['/ws', Closer]], { websocketCloseTimeout: 300 });
    // A raw socket that completes the handshake and then ignores every frame.
    const { socket, head } = await rawUpgrade(server.port, handshake(server.port, '/ws'));
    expect(head.status).toBe(101);
    const ended = new Promise((resolve) => socket.once('close', resolve));
    socket.resume();
    await closed;
    const waited = Date.now() - closedAt;
    expect(waited).toBeGreaterThanOrEqual(250);
    expect(waited).toBeLessThan(2_000);
    await ended;
  });
});

describe('WebSocketHandler pings', () => {
  it('reports pings and pongs to onPing and onPong', async () => {
    const pings = deferred<string>();
    const pongs = deferred<string>();
    class Pinger extends WebSocketHandler {
      override open() {
        this.ping('from server');
      }
      override onPing(data: Buffer) {
        pings.resolve(data.toString());
      }
      override onPong(data: Buffer) {
        pongs.resolve(data.toString());
      }
    }
    const server = await servers.start([['/ws', Pinger]]);
    const connection = await websocketConnect(server.url('/ws'));
    connection.ping('from client');
    expect(await pings.promise).toBe('from client');
    expect(await pongs.promise).toBe('from server');
    expect(() => connection.ping('x'.repeat(126))).toThrow(
      expect.objectContaining({ code: 'VESPER_WEB_WEBSOCKET_BAD_PING' }),
    );
    await connection.close();
  });

  it('closes with 1000 "ping timed out" when the client stops answering pings', async () => {
    const { closed, Recorder } = recorder();
    const server = await servers.start([['/ws', Recorder]], {
      websocketPingInterval: 100,
      websocketPingTimeout: 50,
    });
    const client = new WebSocket(server.url('/ws').replace('http', 'ws'), { autoPong: false });
    const clientClosed = new Promise<[number, string]>((resolve) =>
      client.once('close', (code, reason) => resolve([code, reason.toString()])),
    );
    const started = Date.now();
    expect(await clientClosed).toEqual([1000, 'ping timed out']);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect((await closed).code).toBe(1000);
  });

  it('caps the ping timeout at the interval', async () => {
    const server = await servers.start([['/ws', WebSocketHandler]], {
      websocketPingInterval: 100,
      websocketPingTimeout: 60_000,
    });
    const client = new WebSocket(server.url('/ws').replace('http', 'ws'), { autoPong: false });
    const started = Date.now();
    const code = await new Promise<number>((resolve) => client.once('close', resolve));
    expect(code).toBe(1000);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('keeps a connection whose client answers pings', async () => {
    const server = await servers.start([['/ws', Echo]], {
      websocketPingInterval: 50,
      websocketPingTimeout: 40,
    });
    const connection = await websocketConnect(server.url('/ws'));
    await sleep(400);
    await connection.writeMessage('still here');
    expect(await connection.readMessage()).toBe('still here');
    await connection.close();
  });
});

describe('WebSocketHandler message size and compression', () => {
  class Compressing extends Echo {
    override getCompressionOptions() {
      return {};
    }
  }

  it('accepts a message of exactly websocketMaxMessageSize and closes with 1009 above it', async () => {
    const server = await servers.start([['/ws', Echo]], { websocketMaxMessageSize: 1024 });
    const connection = await websocketConnect(server.url('/ws'));
    await connection.writeMessage(Buffer.alloc(1024, 1));
    expect(await connection.readMessage()).toEqual(Buffer.alloc(1024, 1));
    await connection.writeMessage(Buffer.alloc(1025, 1));
    expect(await connection.readMessage()).toBeNull();
    expect(connection.closeCode).toBe(1009);
  });

  it('defaults websocketMaxMessageSize to 10 MiB', async () => {
    const server = await servers.start([['/ws', Echo]]);
    const connection = await websocketConnect(server.url('/ws'), { maxMessageSize: 11 << 20 });
    await connection.writeMessage(Buffer.alloc(10 << 20));
    expect(((await connection.readMessage()) as Buffer).length).toBe(10 << 20);
    await connection.writeMessage(Buffer.alloc((10 << 20) + 1));
    expect(await connection.readMessage()).toBeNull();
    expect(connection.closeCode).toBe(1009);
  });

  it('closes with 1009 when a small compressed message inflates beyond the limit', async () => {
    const server = await servers.start([['/ws', Compressing]], {
      websocketMaxMessageSize: 64 * 1024,
    });
    const connection = await websocketConnect({ url: server.url('/ws'), compression: {} });
    expect(connection.headers.get('Sec-WebSocket-Extensions')).toContain('permessage-deflate');
    // 1 MiB of zeros deflates to about a kilobyte on the wire.
    await connection.writeMessage(Buffer.alloc(1 << 20));
    expect(await connection.readMessage()).toBeNull();
    expect(connection.closeCode).toBe(1009);
  });

  it('negotiates permessage-deflate only when both sides want it', async () => {
    const server = await servers.start([
      ['/on', Compressing],
      ['/off', Echo],
    ]);
    const cases = [
      ['/on', {}, true],
      ['/on', null, false],
      ['/off', {}, false],
      ['/off', null, false],
    ] as const;
    for (const [path, compression, expected] of cases) {
      const connection = await websocketConnect({ url: server.url(path), compression });
      const extensions = connection.headers.get('Sec-WebSocket-Extensions') ?? '';
      expect(
        extensions.includes('permessage-deflate'),
        `${path} ${JSON.stringify(compression)}`,
      ).toBe(expected);
      const big = 'compressible '.repeat(1000);
      await connection.writeMessage(big);
      expect(await connection.readMessage()).toBe(big);
      await connection.close();
    }
  });
});
