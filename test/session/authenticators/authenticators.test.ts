import { afterEach, describe, expect, it } from 'vitest';
import type { AccountdServer } from '../../../src/accountd/server/index.js';
import {
  AccountdAuthenticator,
  IdentityAuthenticator,
} from '../../../src/session/authenticators/index.js';
import type { LoginRequest } from '../../../src/session/init-protocol/index.js';
import { makeStore, startServer, tempDirs } from '../../accountd/helpers.js';

const dirs = tempDirs();
const servers: AccountdServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.destroy();
  dirs.cleanup();
});

const request = (user: string, password: string): LoginRequest => ({
  op: 'login',
  user,
  password,
  clientIp: '192.0.2.7',
  tls: false,
  listener: '127.0.0.1:8080',
});

async function accountd(): Promise<{ auth: AccountdAuthenticator; server: AccountdServer }> {
  const root = dirs.make();
  const store = await makeStore(root);
  await store.create('alice', 'correct horse');
  const { server, path } = await startServer(store, root, {
    lockout: { attempts: 3, windowMs: 60_000, durationMs: 60_000 },
  });
  servers.push(server);
  return { auth: new AccountdAuthenticator({ endpoint: { path }, timeoutMs: 2_000 }), server };
}

describe('AccountdAuthenticator', () => {
  it('accepts the right password and keeps it as the session credential', async () => {
    const { auth } = await accountd();
    expect(await auth.authenticate(request('alice', 'correct horse'))).toEqual({
      ok: true,
      credential: { password: 'correct horse' },
    });
  });

  it('answers a wrong password and an unknown user alike with bad-credentials', async () => {
    const { auth } = await accountd();
    const wrong = await auth.authenticate(request('alice', 'wrong'));
    const unknown = await auth.authenticate(request('nobody', 'wrong'));
    expect(wrong).toEqual({
      ok: false,
      error: 'bad-credentials',
      message: 'Wrong user name or password.',
    });
    expect(unknown).toEqual(wrong);
  });

  it('answers locked-out once accountd locks the user', async () => {
    const { auth } = await accountd();
    for (let i = 0; i < 3; i++) await auth.authenticate(request('alice', 'wrong'));
    expect(await auth.authenticate(request('alice', 'correct horse'))).toMatchObject({
      ok: false,
      error: 'locked-out',
    });
  });

  it('answers unavailable when accountd is not running', async () => {
    const auth = new AccountdAuthenticator({
      endpoint: { path: `${dirs.make()}/missing.sock` },
      timeoutMs: 1_000,
    });
    expect(await auth.authenticate(request('alice', 'correct horse'))).toMatchObject({
      ok: false,
      error: 'unavailable',
    });
  });

  it('refuses a request without a password', async () => {
    const { auth } = await accountd();
    const r = await auth.authenticate({
      ...request('alice', 'x'),
      password: undefined,
      identity: { issuer: 'i', subject: 's' },
    });
    expect(r).toMatchObject({ ok: false, error: 'bad-credentials' });
  });
});

describe('IdentityAuthenticator', () => {
  const id = {
    ...request('alice', 'x'),
    password: undefined,
    identity: { issuer: 'https://id.example', subject: 'a1' },
  };

  it('accepts a pre-authenticated identity without a credential', async () => {
    expect(await new IdentityAuthenticator().authenticate(id)).toEqual({
      ok: true,
      credential: null,
    });
  });

  it('refuses an issuer outside its list, and a request without an identity', async () => {
    const auth = new IdentityAuthenticator({ issuers: ['https://other.example'] });
    expect(await auth.authenticate(id)).toMatchObject({ ok: false, error: 'bad-credentials' });
    expect(await new IdentityAuthenticator().authenticate(request('alice', 'x'))).toMatchObject({
      ok: false,
      error: 'bad-credentials',
    });
  });
});
