import { createServer, type Server, type Socket } from 'node:net';
import { describe, it, expect, afterEach } from 'vitest';
import { isVesperError } from '../../../src/shared/errors/index.js';
import {
  RequestHandler,
  WebSocketHandler,
  WebSocketHandshakeError,
  WebSocketClosedError,
  websocketConnect,
} from '../../../src/web/index.js';
import { Servers } from './ws-test-helpers.js';

const servers = new Servers();
const rawServers: Server[] = [];
afterEach(async () => {
  await servers.closeAll();
  await Promise.all(rawServers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

class Greeter extends WebSocketHandler {
  override async open() {
    await this.writeMessage('one');
    await this.writeMessage('two');
    await this.writeMessage(Buffer.from('three'));
    this.close(1001, 'going away');
  }
}

class Page extends RequestHandler {
  override get() {
    this.write('just a page');
  }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('websocketConnect', () => {
  it('queues messages until read, then reads null once closed, and keeps reading null', async () => {
    const server = await servers.start([['/ws', Greeter]]);
    const connection = await websocketConnect(server.url('/ws'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(connection.closed).toBe(true);
    expect(await connection.readMessage()).toBe('one');
    expect(await connection.readMessage()).toBe('two');
    expect(await connection.readMessage()).toEqual(Buffer.from('three'));
    expect(await connection.readMessage()).toBeNull();
    expect(await connection.readMessage()).toBeNull();
    expect([connection.closeCode, connection.closeReason]).toEqual([1001, 'going away']);
  });

  it('accepts ws://, http:// URLs and URL objects', async () => {
    const server = await servers.start([['/ws', Greeter]]);
    for (const url of [
      `ws://127.0.0.1:${server.port}/ws`,
      server.url('/ws'),
      new URL(`ws://127.0.0.1:${server.port}/ws`),
    ]) {
      const connection = await websocketConnect(url);
      expect(await connection.readMessage()).toBe('one');
      await connection.close();
    }
  });

  it('rejects a 404 with a WebSocketHandshakeError carrying the status', async () => {
    const server = await servers.start([['/ws', Greeter]]);
    const err = await rejection(websocketConnect(server.url('/nowhere')));
    expect(err).toBeInstanceOf(WebSocketHandshakeError);
    expect((err as WebSocketHandshakeError).statusCode).toBe(404);
    expect((err as WebSocketHandshakeError).httpStatus).toBe(404);
    expect(isVesperError(err, 'VESPER_WEB_WEBSOCKET_HANDSHAKE_REFUSED')).toBe(true);
  });

  it('rejects a 403 with the body the server sent', async () => {
    const server = await servers.start([['/ws', Greeter]]);
    const err = (await rejection(
      websocketConnect({ url: server.url('/ws'), headers: { Origin: 'http://evil.example' } }),
    )) as WebSocketHandshakeError;
    expect(err.statusCode).toBe(403);
    expect(err.body.toString()).toBe('Cross origin websockets not allowed');
    expect(err.headers.get('Content-Length')).toBe('35');
  });

  it('rejects a 200 answer from an ordinary page', async () => {
    const server = await servers.start([['/page', Page]]);
    const err = await rejection(websocketConnect(server.url('/page')));
    expect((err as WebSocketHandshakeError).statusCode).toBe(200);
  });

  it('rejects a refused connection with VESPER_WEB_WEBSOCKET_CONNECT_FAILED', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });
    const err = await rejection(websocketConnect(`ws://127.0.0.1:${port}/`));
    expect(isVesperError(err, 'VESPER_WEB_WEBSOCKET_CONNECT_FAILED')).toBe(true);
  });

  it('gives up after connectTimeout when the server never answers', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    rawServers.push(silent);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const started = Date.now();
    const err = await rejection(
      websocketConnect({ url: `ws://127.0.0.1:${port}/`, connectTimeout: 200 }),
    );
    expect(isVesperError(err, 'VESPER_WEB_WEBSOCKET_CONNECT_FAILED')).toBe(true);
    expect(Date.now() - started).toBeLessThan(2_000);
    for (const s of sockets) s.destroy();
  });

  it('refuses bad options before connecting', async () => {
    for (const options of [
      { maxMessageSize: 0 },
      { pingInterval: -1 },
      { pingTimeout: 0, pingInterval: 10 },
    ]) {
      const err = await rejection(websocketConnect('ws://127.0.0.1:1/', options));
      expect(isVesperError(err, 'VESPER_WEB_WEBSOCKET_BAD_OPTION')).toBe(true);
    }
  });

  it('rejects writeMessage and ping once closed, and close is idempotent', async () => {
    const server = await servers.start([['/ws', WebSocketHandler]]);
    const connection = await websocketConnect(server.url('/ws'));
    const first = connection.close(4000, 'bye');
    const second = connection.close();
    await Promise.all([first, second]);
    expect(await rejection(connection.writeMessage('late'))).toBeInstanceOf(WebSocketClosedError);
    expect(() => connection.ping()).toThrow(WebSocketClosedError);
  });

  it('pings the server and closes with "ping timed out" when no pong comes', async () => {
    const server = await servers.start([['/ws', WebSocketHandler]]);
    const alive = await websocketConnect(server.url('/ws'), { pingInterval: 30 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(alive.closed).toBe(false);
    await alive.close();

    // A server that completes the handshake, never answers a ping, and hands
    // over the first close frame it gets (then drops the connection).
    const { createHash } = await import('node:crypto');
    let closeFrame = Buffer.alloc(0);
    const mute = createServer((socket) => {
      let upgraded = false;
      let frames = Buffer.alloc(0);
      socket.on('data', (data: Buffer) => {
        if (!upgraded) {
          upgraded = true;
          const key = /sec-websocket-key: (\S+)/i.exec(data.toString())![1]!;
          const accept = createHash('sha1')
            .update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
            .digest('base64');
          socket.write(
            `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
          );
          return;
        }
        frames = Buffer.concat([frames, data]);
        // Client frames here are short: [opcode][0x80|len][mask x4][payload].
        while (frames.length >= 2 && frames.length >= 6 + (frames[1]! & 0x7f)) {
          const length = frames[1]! & 0x7f;
          const mask = frames.subarray(2, 6);
          const payload = Buffer.from(frames.subarray(6, 6 + length));
          for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i % 4]!;
          if ((frames[0]! & 0x0f) === 0x8) {
            closeFrame = payload;
            socket.destroy();
            return;
          }
          frames = frames.subarray(6 + length);
        }
      });
      socket.on('error', () => undefined);
    });
    rawServers.push(mute);
    await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve));
    const { port } = mute.address() as { port: number };
    const started = Date.now();
    const connection = await websocketConnect(`ws://127.0.0.1:${port}/`, {
      pingInterval: 50,
      pingTimeout: 30,
    });
    expect(await connection.readMessage()).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(70);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(closeFrame.readUInt16BE(0)).toBe(1000);
    expect(closeFrame.subarray(2).toString()).toBe('ping timed out');
  });
});
