import { describe, it, expect, afterEach } from 'vitest';
import { createLogger } from '../../../src/shared/log/index.js';
import {
  MemoryTokenStore,
  RedisTokenStore,
  RequestHandler,
  WebSocketHandler,
  WebSocketHandshakeError,
  WebSocketTokenAuth,
  websocketConnect,
  type TokenStore,
} from '../../../src/web/index.js';
import { describeWithRedis } from './redis-available.js';
import { Servers, deferred, handshake, parseResponse, sleep } from './ws-test-helpers.js';

const servers = new Servers();
afterEach(() => servers.closeAll());

/** The page side: a logged-in page asks its session for a token. */
class TokenPage extends RequestHandler {
  override async get() {
    const user = this.getCookie('user');
    if (user === undefined) {
      this.setStatus(403);
      return;
    }
    const store = this.settings.websocketTokenStore as TokenStore;
    const ttl = this.kwargs.ttlMs as number | undefined;
    this.write({ token: await store.issue(user, ttl) });
  }
}

/** What the WebSocket handler saw, per connection. */
interface Seen {
  user: unknown;
  uri: string;
  argument: unknown;
  offered: string[];
}

function liveHandler(seen: Seen[]) {
  return class Live extends WebSocketTokenAuth(WebSocketHandler) {
    override selectSubprotocol(offered: string[]) {
      seen.push({
        user: this.currentUser,
        uri: this.request.uri,
        argument: this.getArgument('ws_token', null),
        offered,
      });
      return offered.includes('app.v1') ? 'app.v1' : null;
    }
    override open() {
      void this.writeMessage(`hello ${String(this.currentUser)}`);
    }
  };
}

async function fetchToken(server: { fetch: (p: string, i?: RequestInit) => Promise<Response> }) {
  const res = await server.fetch('/token', { headers: { Cookie: 'user=alice' } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

async function refusedStatus(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof WebSocketHandshakeError) return err.statusCode;
    throw err;
  }
  throw new Error('expected the handshake to be refused');
}

/** The flow, against one store implementation. */
function tokenFlow(
  name: string,
  open: () => Promise<{ store: TokenStore; expire: () => Promise<void>; ttlMs?: number }>,
) {
  describe(`WebSocketTokenAuth with ${name}`, () => {
    let store: TokenStore | undefined;
    afterEach(async () => {
      await store?.close();
      store = undefined;
    });

    async function start(seen: Seen[] = []) {
      const opened = await open();
      store = opened.store;
      const server = await servers.start(
        [
          ['/token', TokenPage, { ttlMs: opened.ttlMs }],
          ['/ws', liveHandler(seen)],
        ],
        { websocketTokenStore: store },
      );
      return { server, expire: opened.expire };
    }

    it('admits a token once, then refuses its reuse and an expired token with 401', async () => {
      const seen: Seen[] = [];
      const { server, expire } = await start(seen);
      const token = await fetchToken(server);
      const connection = await websocketConnect(server.url(`/ws?ws_token=${token}`));
      expect(await connection.readMessage()).toBe('hello alice');
      expect(seen[0]!.user).toBe('alice');
      await connection.close();

      expect(await refusedStatus(websocketConnect(server.url(`/ws?ws_token=${token}`)))).toBe(401);

      const late = await fetchToken(server);
      await expire();
      expect(await refusedStatus(websocketConnect(server.url(`/ws?ws_token=${late}`)))).toBe(401);
    });

    it('refuses a missing, malformed or unknown token with 401 and an ordinary page', async () => {
      const { server } = await start();
      for (const query of ['', '?ws_token=', '?ws_token=abc', `?ws_token=${'A'.repeat(43)}`]) {
        const res = parseResponse(await server.rawRequest(handshake(server.port, `/ws${query}`)));
        expect(res.statusLine, query).toBe('HTTP/1.1 401 Unauthorized');
        expect(res.body).toBe(
          '<html><title>401: Unauthorized</title><body>401: Unauthorized</body></html>',
        );
      }
    });

    it('lets exactly one of many concurrent handshakes with the same token in', async () => {
      const { server } = await start();
      const token = await fetchToken(server);
      const attempts = await Promise.allSettled(
        Array.from({ length: 20 }, () => websocketConnect(server.url(`/ws?ws_token=${token}`))),
      );
      const admitted = attempts.filter((a) => a.status === 'fulfilled');
      expect(admitted).toHaveLength(1);
      for (const a of attempts) {
        if (a.status === 'rejected') {
          expect((a.reason as WebSocketHandshakeError).statusCode).toBe(401);
        }
      }
      await (
        admitted[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof websocketConnect>>>
      ).value.close();
    });

    it('accepts the token as a bearer. subprotocol entry and never offers or echoes it', async () => {
      const seen: Seen[] = [];
      const { server } = await start(seen);
      const token = await fetchToken(server);
      const connection = await websocketConnect({
        url: server.url('/ws'),
        subprotocols: ['app.v1', `bearer.${token}`],
      });
      expect(await connection.readMessage()).toBe('hello alice');
      expect(connection.selectedSubprotocol).toBe('app.v1');
      expect(seen[0]!.offered).toEqual(['app.v1']);
      await connection.close();
    });

    it('refuses two different tokens and consumes neither', async () => {
      const { server } = await start();
      const a = await fetchToken(server);
      const b = await fetchToken(server);
      const status = await refusedStatus(
        websocketConnect({
          url: server.url(`/ws?ws_token=${a}`),
          subprotocols: ['app.v1', `bearer.${b}`],
        }),
      );
      expect(status).toBe(401);
      const connection = await websocketConnect(server.url(`/ws?ws_token=${a}`));
      expect(await connection.readMessage()).toBe('hello alice');
      await connection.close();
    });

    it('does not burn a token on a handshake refused for another reason', async () => {
      const { server } = await start();
      const token = await fetchToken(server);
      const refused = await refusedStatus(
        websocketConnect({
          url: server.url(`/ws?ws_token=${token}`),
          headers: { Origin: 'http://evil.example' },
        }),
      );
      expect(refused).toBe(403);
      const connection = await websocketConnect(server.url(`/ws?ws_token=${token}`));
      expect(await connection.readMessage()).toBe('hello alice');
      await connection.close();
    });
  });
}

tokenFlow('MemoryTokenStore', () => {
  let now = 1_700_000_000_000;
  const store = new MemoryTokenStore({ clock: () => now });
  return Promise.resolve({
    store,
    expire: () => {
      now += 20_000;
      return Promise.resolve();
    },
  });
});

describeWithRedis('WebSocketTokenAuth with a real Redis', (url) => {
  tokenFlow('RedisTokenStore', async () => ({
    store: await RedisTokenStore.connect(url, { keyPrefix: `vesper-test:${process.pid}:auth:` }),
    ttlMs: 300,
    expire: () => sleep(400),
  }));
});

describe('WebSocketTokenAuth hygiene', () => {
  it('keeps the token out of the request, the access log and the error log', async () => {
    const lines: string[] = [];
    const log = createLogger({
      name: 'test',
      level: 'debug',
      stream: { write: (line: string) => void lines.push(line) },
    });
    const store = new MemoryTokenStore();
    const seen: Seen[] = [];
    const server = await servers.start(
      [
        ['/token', TokenPage],
        ['/ws', liveHandler(seen)],
      ],
      { websocketTokenStore: store, log },
    );
    const token = await fetchToken(server);
    const connection = await websocketConnect(server.url(`/ws?room=1&ws_token=${token}`));
    expect(await connection.readMessage()).toBe('hello alice');
    await connection.close();
    expect(seen[0]!.uri).toBe('/ws?room=1&ws_token=[redacted]');
    expect(seen[0]!.argument).toBeNull();
    // Reuse: refused with 401, which is logged.
    await refusedStatus(websocketConnect(server.url(`/ws?ws_token=${token}`)));
    await refusedStatus(
      websocketConnect({ url: server.url('/ws'), subprotocols: ['app.v1', `bearer.${token}`] }),
    );
    await sleep(50);
    const text = lines.join('');
    expect(text).toContain('101 GET /ws?room=1&ws_token=[redacted]');
    expect(text).toContain('401 GET /ws');
    expect(text).not.toContain(token);
    await store.close();
  });

  it('answers 500 when no token store is configured', async () => {
    const server = await servers.start([['/ws', liveHandler([])]]);
    const res = parseResponse(
      await server.rawRequest(handshake(server.port, `/ws?ws_token=${'A'.repeat(43)}`)),
    );
    expect(res.status).toBe(500);
  });

  it('lets a subclass pick its store with getTokenStore', async () => {
    const store = new MemoryTokenStore();
    const token = await store.issue('bob');
    const opened = deferred<unknown>();
    class Custom extends WebSocketTokenAuth(WebSocketHandler) {
      override getTokenStore() {
        return store;
      }
      override open() {
        opened.resolve(this.currentUser);
      }
    }
    const server = await servers.start([['/ws', Custom]]);
    const connection = await websocketConnect(server.url(`/ws?ws_token=${token}`));
    expect(await opened.promise).toBe('bob');
    await connection.close();
    await store.close();
  });
});
