import { describe, expect, it } from 'vitest';
import { canonicalTarget } from '../../../src/frontend/worker/http/request-target.js';
import {
  SessionResolver,
  sessionUser,
} from '../../../src/frontend/worker/proxy/session-address.js';
import { sessionSocketPath } from '../../../src/session/session-identity.js';

const DIR = '/var/lib/vesper/sessions';
const KEY = 'AbCdEfGhIjKlMnOpQrStUvWx';
const OTHER = 'ZyXwVuTsRqPoNmLkJiHgFeDc';
const at = (path: string) => canonicalTarget(path);

describe('SessionResolver', () => {
  it('resolves the key in the URL, or from the vesper_session cookie when the URL leaves it out', () => {
    const r = new SessionResolver(DIR);
    expect(r.resolve(at(`/session/alice/${KEY}/home`), undefined)).toEqual({
      user: 'alice',
      socketPath: sessionSocketPath(DIR, 'alice', KEY),
      websocket: false,
    });
    expect(r.resolve(at('/session/alice//ws'), `a=1; vesper_session=${KEY}; b=2`)).toEqual({
      user: 'alice',
      socketPath: sessionSocketPath(DIR, 'alice', KEY),
      websocket: true,
    });
    // The URL's key wins over the cookie's.
    expect(r.resolve(at(`/session/alice/${OTHER}/home`), `vesper_session=${KEY}`).socketPath).toBe(
      sessionSocketPath(DIR, 'alice', OTHER),
    );
  });

  it('resolves a bad user, a malformed key, a missing cookie or command to no socket', () => {
    const r = new SessionResolver(DIR);
    expect(r.resolve(at(`/session/..x/${KEY}/home`), undefined)).toEqual({
      user: null,
      socketPath: null,
      websocket: false,
    });
    expect(r.resolve(at('/session/alice/short/home'), undefined).socketPath).toBeNull();
    expect(r.resolve(at('/session/alice//home'), undefined).socketPath).toBeNull();
    expect(r.resolve(at('/session/alice//home'), 'vesper_session=no good').socketPath).toBeNull();
    expect(r.resolve(at(`/session/alice/${KEY}`), undefined).socketPath).toBeNull();
    expect(sessionUser(at(`/session/alice/${KEY}/home`))).toBe('alice');
    expect(sessionUser(at('/session/a%20b/x/y'))).toBeNull();
  });

  it('answers a remembered resolution the same, tells cookies apart, and forgets the oldest beyond its bound', () => {
    const r = new SessionResolver(DIR, 2);
    const first = r.resolve(at('/session/alice//home'), `vesper_session=${KEY}`);
    const again = r.resolve(at('/session/alice//other'), `vesper_session=${KEY}`);
    expect(again.socketPath).toBe(first.socketPath);
    expect(r.remembered).toBe(1);
    // Another cookie on the same URL is another session.
    expect(r.resolve(at('/session/alice//home'), `vesper_session=${OTHER}`).socketPath).toBe(
      sessionSocketPath(DIR, 'alice', OTHER),
    );
    expect(r.resolve(at(`/session/bob/${KEY}/home`), undefined).socketPath).toBe(
      sessionSocketPath(DIR, 'bob', KEY),
    );
    expect(r.remembered).toBe(2);
    // The first was forgotten and is worked out again, the same.
    expect(r.resolve(at('/session/alice//home'), `vesper_session=${KEY}`)).toEqual(first);
    expect(r.remembered).toBe(2);
  });

  it('does not remember a resolution with a long cookie header', () => {
    const r = new SessionResolver(DIR);
    const cookie = `pad=${'x'.repeat(2000)}; vesper_session=${KEY}`;
    expect(r.resolve(at('/session/alice//home'), cookie).socketPath).toBe(
      sessionSocketPath(DIR, 'alice', KEY),
    );
    expect(r.remembered).toBe(0);
  });
});
