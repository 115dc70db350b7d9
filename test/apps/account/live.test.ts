import { afterEach, describe, expect, it } from 'vitest';
import {
  WebSocketHandshakeError,
  websocketConnect,
  type WebSocketClientConnection,
} from '../../../src/web/index.js';
import { USER, cleanupAll, setup, type Fixture } from './helpers.js';

const sockets: WebSocketClientConnection[] = [];
afterEach(async () => {
  for (const ws of sockets.splice(0)) await ws.terminate();
  await cleanupAll();
});

async function token(f: Fixture): Promise<{ token: string; url: string }> {
  const page = await f.browser.get('/token');
  expect(page.status).toBe(200);
  expect(page.headers.get('content-type')).toBe('application/json; charset=UTF-8');
  expect(page.headers.get('cache-control')).toBe('no-store');
  return JSON.parse(page.text) as { token: string; url: string };
}

async function open(f: Fixture, url: string): Promise<WebSocketClientConnection> {
  const ws = await websocketConnect({ url: `ws://127.0.0.1:${f.server.port}${url}` });
  sockets.push(ws);
  return ws;
}

async function nextEvent(ws: WebSocketClientConnection): Promise<Record<string, unknown>> {
  const message = await ws.readMessage();
  if (typeof message !== 'string')
    throw new Error(`expected a text message, got ${String(message)}`);
  return JSON.parse(message) as Record<string, unknown>;
}

describe('the live channel', () => {
  it('issues a one-time token as JSON with the URL to open', async () => {
    const f = await setup();
    const { token: t, url } = await token(f);
    expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url).toBe(`/ws?ws_token=${t}`);
  });

  it('answers 503 JSON when the token store cannot issue a token', async () => {
    const f = await setup();
    await f.tokens.close();
    const page = await f.browser.get('/token');
    expect(page.status).toBe(503);
    expect(page.headers.get('content-type')).toBe('application/json; charset=UTF-8');
    expect(JSON.parse(page.text)).toEqual({ error: 'unavailable' });
  });

  it('greets, then pushes a forwarding change made through another page', async () => {
    const f = await setup();
    const ws = await open(f, (await token(f)).url);
    expect(ws.headers.get('X-Frame-Options')).toBe('DENY');
    expect(await nextEvent(ws)).toEqual({ type: 'hello', user: USER, session: 7 });
    const res = await f.browser.submit('/forwarding', {
      addresses: 'bob@example.net',
      keep_copy: '1',
    });
    expect(res.status).toBe(303);
    const event = await nextEvent(ws);
    expect(event).toMatchObject({
      type: 'forwarding',
      forwarding: { addresses: ['bob@example.net'], keepCopy: true },
    });
    expect(typeof event.at).toBe('number');
  });

  it('pushes a quota change seen by the quota page to every open channel', async () => {
    const f = await setup();
    expect((await f.browser.get('/quota')).status).toBe(200);
    const a = await open(f, (await token(f)).url);
    const b = await open(f, (await token(f)).url);
    await nextEvent(a);
    await nextEvent(b);
    await f.store.setQuotaLimits(USER, { bytes: 2_000_000 });
    expect((await f.browser.get('/quota')).text).toContain('1.9 MiB');
    const expected = {
      type: 'quota',
      quota: { bytesUsed: 0, bytesLimit: 2_000_000, messagesUsed: 0, messagesLimit: 100 },
    };
    expect(await nextEvent(a)).toMatchObject(expected);
    expect(await nextEvent(b)).toMatchObject(expected);
    // Asking again with nothing changed sends nothing more.
    await f.browser.get('/quota');
    await f.browser.submit('/fullname', { fullname: 'Alice' });
    expect(await nextEvent(a)).toMatchObject({ type: 'fullname', fullName: 'Alice' });
  });

  it('pushes vacation, vacation log, full name and password events without secrets', async () => {
    const f = await setup();
    const ws = await open(f, (await token(f)).url);
    await nextEvent(ws);
    await f.browser.submit('/vacation', {
      enabled: '1',
      subject: 'Away',
      body: 'Private text',
      days: '3',
    });
    const vacation = await nextEvent(ws);
    expect(JSON.stringify(vacation)).not.toContain('Private text');
    expect(vacation).toMatchObject({
      type: 'vacation',
      enabled: true,
      subject: 'Away',
      days: 3,
    });
    await f.store.appendVacationLog(USER, {
      sender: 'x@example.net',
      at: '2026-12-01T08:30:00.000Z',
    });
    await f.browser.submit('/vacation/log', {});
    expect(await nextEvent(ws)).toMatchObject({ type: 'vacation-log-cleared' });
    await f.browser.submit('/password', {
      current: 'secret-pw-1',
      new: 'new-secret-2',
      confirm: 'new-secret-2',
    });
    const event = await nextEvent(ws);
    expect(Object.keys(event).sort()).toEqual(['at', 'type']);
    expect(event.type).toBe('password-changed');
  });

  it('tells open pages when accountd goes away and comes back', async () => {
    const f = await setup();
    await f.browser.get('/quota');
    const ws = await open(f, (await token(f)).url);
    await nextEvent(ws);
    await f.stopAccountd();
    expect((await f.browser.get('/quota')).status).toBe(503);
    expect(await nextEvent(ws)).toMatchObject({ type: 'accountd', available: false });
    await f.startAccountd();
    expect((await f.browser.get('/quota')).status).toBe(200);
    expect(await nextEvent(ws)).toMatchObject({ type: 'accountd', available: true });
  });

  it('accepts a token only once, and refuses none or an unknown one with 401', async () => {
    const f = await setup();
    const { url } = await token(f);
    await open(f, url);
    for (const bad of [url, '/ws', `/ws?ws_token=${'A'.repeat(43)}`]) {
      const err = await open(f, bad).catch((e: unknown) => e);
      expect(err, bad).toBeInstanceOf(WebSocketHandshakeError);
      expect((err as WebSocketHandshakeError).statusCode).toBe(401);
      expect((err as WebSocketHandshakeError).headers.get('X-Frame-Options')).toBe('DENY');
    }
  });

  it('refuses a token issued to another user', async () => {
    const f = await setup();
    const t = await f.tokens.issue('mallory');
    const err = await open(f, `/ws?ws_token=${t}`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebSocketHandshakeError);
    expect((err as WebSocketHandshakeError).statusCode).toBe(401);
  });

  it('closes open channels with 1001 when the session ends and stops publishing to them', async () => {
    const f = await setup();
    const ws = await open(f, (await token(f)).url);
    await nextEvent(ws);
    expect(f.app.state.channelCount).toBe(1);
    await f.app.close?.();
    expect(await ws.readMessage()).toBeNull();
    expect(ws.closeCode).toBe(1001);
    expect(f.app.state.events.size).toBe(0);
  });
});
