import { describe, it, expect, afterEach } from 'vitest';
import { isVesperError } from '../../../src/shared/errors/index.js';
import {
  WebSocketHandler,
  websocketConnect,
  parseSubprotocols,
  HttpError,
} from '../../../src/web/index.js';
import {
  ACCEPT,
  Servers,
  deferred,
  handshake,
  parseResponse,
  rawUpgrade,
} from './ws-test-helpers.js';

const servers = new Servers();
afterEach(() => servers.closeAll());

class Plain extends WebSocketHandler {}

async function refusal(
  extra: Record<string, string | null>,
  method = 'GET',
  handler: typeof WebSocketHandler = Plain,
): Promise<ReturnType<typeof parseResponse>> {
  const server = await servers.start([['/ws', handler]]);
  // rawRequest resolves only when the server closes the socket: every refusal
  // below also proves the refused socket is closed.
  return parseResponse(await server.rawRequest(handshake(server.port, '/ws', extra, method)));
}

describe('WebSocket handshake', () => {
  it('answers a valid handshake with 101 and the RFC 6455 accept key', async () => {
    const server = await servers.start([['/ws', Plain]]);
    const { socket, head } = await rawUpgrade(server.port, handshake(server.port, '/ws'));
    socket.destroy();
    expect(head.statusLine).toBe('HTTP/1.1 101 Switching Protocols');
    expect(head.headers.get('upgrade')).toBe('websocket');
    expect(head.headers.get('connection')).toBe('Upgrade');
    expect(head.headers.get('sec-websocket-accept')).toBe(ACCEPT);
    expect(head.headers.has('sec-websocket-protocol')).toBe(false);
    expect(head.headers.has('sec-websocket-extensions')).toBe(false);
  });

  it('refuses an Upgrade other than websocket with 400 Can "Upgrade" only to "WebSocket".', async () => {
    const res = await refusal({ Upgrade: 'h2c' });
    expect(res.status).toBe(400);
    expect(res.body).toBe('Can "Upgrade" only to "WebSocket".');
  });

  it('refuses a plain GET without Upgrade with the same 400', async () => {
    const server = await servers.start([['/ws', Plain]]);
    const res = await server.fetch('/ws');
    expect(res.status).toBe(400);
    expect(await res.text()).toBe('Can "Upgrade" only to "WebSocket".');
  });

  it('refuses a Connection header without upgrade with 400', async () => {
    // Without `Connection: upgrade` Node treats it as an ordinary request; `close`
    // makes the server end the connection after answering.
    const res = await refusal({ Connection: 'close' });
    expect(res.status).toBe(400);
    expect(res.body).toBe('"Connection" must be "Upgrade".');
  });

  it('accepts upgrade among several Connection tokens, in any case', async () => {
    const server = await servers.start([['/ws', Plain]]);
    const { socket, head } = await rawUpgrade(
      server.port,
      handshake(server.port, '/ws', { Connection: 'keep-alive, UPGRADE', Upgrade: 'WebSocket' }),
    );
    socket.destroy();
    expect(head.status).toBe(101);
  });

  it('refuses a method other than GET with 405', async () => {
    const res = await refusal({}, 'POST');
    expect(res.status).toBe(405);
  });

  it('refuses a cross-origin handshake with 403 Cross origin websockets not allowed', async () => {
    const res = await refusal({ Origin: 'http://evil.example' });
    expect(res.status).toBe(403);
    expect(res.body).toBe('Cross origin websockets not allowed');
  });

  it('checks the origin before the version, as Tornado does', async () => {
    const res = await refusal({ Origin: 'http://evil.example', 'Sec-WebSocket-Version': '99' });
    expect(res.status).toBe(403);
  });

  it('refuses an unsupported version with 426 and the versions it speaks', async () => {
    for (const version of ['12', '14', null]) {
      const res = await refusal({ 'Sec-WebSocket-Version': version });
      expect(res.statusLine).toBe('HTTP/1.1 426 Upgrade Required');
      expect(res.headers.get('sec-websocket-version')).toBe('7, 8, 13');
      expect(res.body).toBe('');
    }
  });

  it('accepts versions 7 and 8 as well as 13', async () => {
    const server = await servers.start([['/ws', Plain]]);
    for (const version of ['7', '8']) {
      const { socket, head } = await rawUpgrade(
        server.port,
        handshake(server.port, '/ws', { 'Sec-WebSocket-Version': version }),
      );
      socket.destroy();
      expect(head.status).toBe(101);
    }
  });

  it('refuses a missing or malformed key with 400 Missing/Invalid WebSocket headers', async () => {
    for (const key of [null, 'short', 'dGhlIHNhbXBsZSBub25jZQ', 'dGhlIHNhbXBsZSBub25jZQ=x']) {
      const res = await refusal({ 'Sec-WebSocket-Key': key });
      expect(res.status).toBe(400);
      expect(res.body).toBe('Missing/Invalid WebSocket headers');
    }
  });

  it('refuses a malformed Sec-WebSocket-Protocol with 400', async () => {
    for (const header of ['a,,b', 'a, a', 'a b', '']) {
      const res = await refusal({ 'Sec-WebSocket-Protocol': header });
      expect(res.status).toBe(400);
      expect(res.body).toBe('Invalid Sec-WebSocket-Protocol header');
    }
  });

  it('refuses a malformed Sec-WebSocket-Extensions offer with 400 when compression is on', async () => {
    class Compressing extends WebSocketHandler {
      override getCompressionOptions() {
        return {};
      }
    }
    const res = await refusal(
      { 'Sec-WebSocket-Extensions': 'permessage-deflate; server_max_window_bits=99' },
      'GET',
      Compressing,
    );
    expect(res.status).toBe(400);
    expect(res.body).toBe('Invalid or unacceptable Sec-WebSocket-Extensions header');
  });

  it('refuses with the status of an HttpError thrown by prepare', async () => {
    class Guarded extends WebSocketHandler {
      override prepare() {
        throw new HttpError(403);
      }
    }
    const res = await refusal({}, 'GET', Guarded);
    expect(res.status).toBe(403);
  });

  it('sends the headers set by setDefaultHeaders and prepare, but no Content-Type', async () => {
    class WithHeaders extends WebSocketHandler {
      override setDefaultHeaders() {
        this.setHeader('X-Default', 'd');
      }
      override prepare() {
        this.setHeader('X-Prepared', 'p');
      }
    }
    const server = await servers.start([['/ws', WithHeaders]]);
    const connection = await websocketConnect(server.url('/ws'));
    expect(connection.headers.get('X-Default')).toBe('d');
    expect(connection.headers.get('X-Prepared')).toBe('p');
    expect(connection.headers.has('Content-Type')).toBe(false);
    await connection.close();
  });

  it('sends the cookies set and cleared in prepare with the 101', async () => {
    class WithCookies extends WebSocketHandler {
      override prepare() {
        this.setCookie('seen', 'yes', { httpOnly: true });
        this.clearCookie('old');
      }
    }
    const server = await servers.start([['/ws', WithCookies]]);
    const connection = await websocketConnect(server.url('/ws'));
    const cookies = connection.headers.getList('Set-Cookie');
    expect(cookies).toHaveLength(2);
    expect(cookies[0]).toMatch(/^seen=yes; .*HttpOnly/);
    expect(cookies[1]).toMatch(/^old=""; expires=/);
    await connection.close();
  });

  it('passes path groups to open', async () => {
    const opened = deferred<(string | undefined)[]>();
    class Room extends WebSocketHandler {
      override open(...args: (string | undefined)[]) {
        opened.resolve(args);
      }
    }
    const server = await servers.start([['/room/([^/]+)/(\\d+)', Room]]);
    const connection = await websocketConnect(server.url('/room/l%C3%BCbeck/42'));
    expect(await opened.promise).toEqual(['lübeck', '42']);
    await connection.close();
  });

  it('makes HTTP output methods throw VESPER_WEB_DETACHED after the upgrade', async () => {
    const codes = deferred<string[]>();
    class Detached extends WebSocketHandler {
      override open() {
        const out: string[] = [];
        const attempts: (() => unknown)[] = [
          () => this.write('x'),
          () => this.finish(),
          () => this.flush(),
          () => this.setHeader('X', 'y'),
          () => this.addHeader('X', 'y'),
          () => this.clearHeader('X'),
          () => this.setStatus(200),
          () => this.setCookie('a', 'b'),
          () => this.redirect('/'),
        ];
        for (const attempt of attempts) {
          try {
            attempt();
            out.push('no error');
          } catch (err) {
            out.push(isVesperError(err) ? err.code : 'other error');
          }
        }
        codes.resolve(out);
      }
    }
    const server = await servers.start([['/ws', Detached]]);
    const connection = await websocketConnect(server.url('/ws'));
    expect(await codes.promise).toEqual(new Array(9).fill('VESPER_WEB_DETACHED'));
    await connection.close();
  });
});

describe('WebSocketHandler.checkOrigin', () => {
  it('accepts a handshake without Origin (a non-browser client)', async () => {
    const server = await servers.start([['/ws', Plain]]);
    const connection = await websocketConnect(server.url('/ws'));
    await connection.close();
  });

  it('accepts an origin whose host:port equals Host, whatever the scheme and path', async () => {
    const server = await servers.start([['/ws', Plain]]);
    for (const origin of [
      `http://127.0.0.1:${server.port}`,
      `https://127.0.0.1:${server.port}/some/page`,
    ]) {
      const connection = await websocketConnect({
        url: server.url('/ws'),
        headers: { Origin: origin },
      });
      await connection.close();
    }
  });

  it('refuses another port, a subdomain, a bare host:port, "null" and a default-port spelling', async () => {
    const server = await servers.start([['/ws', Plain]]);
    for (const [origin, host] of [
      [`http://127.0.0.1:${server.port + 1}`, `127.0.0.1:${server.port}`],
      ['http://sub.example.org', 'example.org'],
      [`127.0.0.1:${server.port}`, `127.0.0.1:${server.port}`],
      ['null', `127.0.0.1:${server.port}`],
      ['http://example.org:80', 'example.org'],
    ] as const) {
      const res = parseResponse(
        await server.rawRequest(handshake(server.port, '/ws', { Origin: origin, Host: host })),
      );
      expect(res.status, origin).toBe(403);
    }
  });

  it('reads Sec-WebSocket-Origin when there is no Origin (version 8 clients)', async () => {
    const res = await refusal({ 'Sec-WebSocket-Origin': 'http://evil.example' });
    expect(res.status).toBe(403);
  });

  it('lets a subclass allow other origins', async () => {
    class Open extends WebSocketHandler {
      override checkOrigin(origin: string) {
        return origin === 'https://app.example';
      }
    }
    const server = await servers.start([['/ws', Open]]);
    const connection = await websocketConnect({
      url: server.url('/ws'),
      headers: { Origin: 'https://app.example' },
    });
    await connection.close();
  });
});

describe('WebSocket subprotocols', () => {
  it('calls selectSubprotocol once with the offered list and answers the choice', async () => {
    const calls: string[][] = [];
    class Picky extends WebSocketHandler {
      override selectSubprotocol(offered: string[]) {
        calls.push(offered);
        return offered.includes('chat.v2') ? 'chat.v2' : null;
      }
      override open() {
        void this.writeMessage(String(this.selectedSubprotocol));
      }
    }
    const server = await servers.start([['/ws', Picky]]);
    const connection = await websocketConnect({
      url: server.url('/ws'),
      subprotocols: ['chat.v1', 'chat.v2'],
    });
    expect(connection.selectedSubprotocol).toBe('chat.v2');
    expect(connection.headers.get('Sec-WebSocket-Protocol')).toBe('chat.v2');
    expect(await connection.readMessage()).toBe('chat.v2');
    expect(calls).toEqual([['chat.v1', 'chat.v2']]);
    await connection.close();
  });

  it('calls selectSubprotocol with [] when none was offered and answers none by default', async () => {
    const calls: string[][] = [];
    class Recording extends WebSocketHandler {
      override selectSubprotocol(offered: string[]) {
        calls.push(offered);
        return null;
      }
    }
    const server = await servers.start([
      ['/ws', Recording],
      ['/plain', Plain],
    ]);
    const a = await websocketConnect(server.url('/ws'));
    expect(calls).toEqual([[]]);
    expect(a.selectedSubprotocol).toBeNull();
    await a.close();
    const b = await websocketConnect({ url: server.url('/plain'), subprotocols: ['x'] }).catch(
      (err: unknown) => err,
    );
    // ws, like browsers, fails a connection that offered subprotocols and got none.
    expect(isVesperError(b, 'VESPER_WEB_WEBSOCKET_CONNECT_FAILED')).toBe(true);
  });

  it('refuses with 500 when selectSubprotocol returns something that was not offered', async () => {
    class Wrong extends WebSocketHandler {
      override selectSubprotocol() {
        return 'never-offered';
      }
    }
    const res = await refusal({ 'Sec-WebSocket-Protocol': 'a' }, 'GET', Wrong);
    expect(res.status).toBe(500);
  });

  it('parses the header into distinct tokens and rejects malformed ones', () => {
    expect(parseSubprotocols(undefined)).toEqual([]);
    expect(parseSubprotocols('a, b ,c')).toEqual(['a', 'b', 'c']);
    expect(parseSubprotocols('a,a')).toBeNull();
    expect(parseSubprotocols('a,')).toBeNull();
    expect(parseSubprotocols('a;b')).toBeNull();
  });
});
