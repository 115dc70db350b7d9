import { describe, expect, it } from 'vitest';
import { load, problemsOf } from './helpers.js';

describe('impossible combinations', () => {
  it('refuses session.idle_time not below session.timeout, at the line written', () => {
    expect(problemsOf('session:\n  idle_time: 4h\n')).toEqual([
      'vesper.yaml:2: session.idle_time: must be shorter than session.timeout (4h), got 4h; use 0 to never go dormant',
    ]);
    expect(problemsOf('session:\n  timeout: 10m\n')).toEqual([
      'vesper.yaml:2: session.idle_time: must be shorter than session.timeout (10m), got 15m; use 0 to never go dormant',
    ]);
  });

  it('accepts idle_time 0 whatever the timeout', () => {
    expect(load('session:\n  idle_time: 0\n  timeout: 1m\n').session.timeout).toBe(60_000);
  });

  it('refuses a session.timeout_compose above 0 and below session.timeout', () => {
    expect(problemsOf('session:\n  timeout_compose: 1h\n')).toEqual([
      'vesper.yaml:2: session.timeout_compose: must be 0 (same as session.timeout) or at least session.timeout (4h), got 1h',
    ]);
    expect(load('session:\n  timeout_compose: 6h\n').session.timeout_compose).toBe(21_600_000);
  });

  it('refuses overlapping session.direct ranges', () => {
    const text =
      'session:\n  direct:\n    plain: { first: 9000, count: 10 }\n    tls: { first: 9009, count: 10 }\n';
    expect(problemsOf(text)).toEqual([
      'vesper.yaml:4: session.direct.tls: ports 9009-9018 overlap session.direct.plain (9000-9009)',
    ]);
    expect(load(text.replace('9009, count', '9010, count')).session.direct).toEqual({
      plain: { first: 9000, count: 10 },
      tls: { first: 9010, count: 10 },
    });
  });

  it('refuses a session.direct range past port 65535', () => {
    expect(problemsOf('session:\n  direct:\n    plain: { first: 65530, count: 10 }\n')).toEqual([
      'vesper.yaml:3: session.direct.plain.count: ports 65530-65539 go past 65535',
    ]);
  });

  it('refuses session.direct with neither range', () => {
    expect(problemsOf('session:\n  direct: {}\n')).toEqual([
      'vesper.yaml:2: session.direct: needs a plain or a tls range (or set session.direct to null)',
    ]);
  });

  it('refuses a session.direct range that includes a frontend listener port', () => {
    expect(problemsOf('session:\n  direct:\n    plain: { first: 8000, count: 100 }\n')).toEqual([
      'vesper.yaml:3: session.direct.plain: ports 8000-8099 include port 8080 of frontend.listen.0',
    ]);
  });

  it('refuses frontend.min_spare or frontend.min_servers above frontend.max_servers', () => {
    expect(problemsOf('frontend:\n  min_spare: 10\n  min_servers: 12\n  max_servers: 8\n')).toEqual(
      [
        'vesper.yaml:2: frontend.min_spare: must not exceed frontend.max_servers (8), got 10',
        'vesper.yaml:3: frontend.min_servers: must not exceed frontend.max_servers (8), got 12',
      ],
    );
  });

  it('refuses two listeners on the same host and port, a wildcard host matching any', () => {
    const text =
      'frontend:\n  listen:\n    - { port: 8080 }\n    - { port: 8080, host: 127.0.0.1, tls: true }\n';
    expect(problemsOf(text)).toEqual([
      'vesper.yaml:4: frontend.listen.1: 127.0.0.1:8080 is already used by frontend.listen.0 (127.0.0.1:8080)',
    ]);
    expect(
      problemsOf(
        'frontend:\n  listen:\n    - { port: 80, host: 10.0.0.1 }\n    - { port: 80, host: 0.0.0.0 }\n',
      ),
    ).toEqual([
      'vesper.yaml:4: frontend.listen.1: 0.0.0.0:80 is already used by frontend.listen.0 (10.0.0.1:80)',
    ]);
    expect(
      load(
        'frontend:\n  listen:\n    - { port: 80, host: 10.0.0.1 }\n    - { port: 80, host: 10.0.0.2 }\n',
      ).frontend.listen,
    ).toHaveLength(2);
  });

  it('refuses an accountd TLS listener on a frontend port', () => {
    expect(problemsOf('accountd:\n  tls: { port: 8443, cert: c.pem, key: k.pem }\n')).toEqual([
      'vesper.yaml:2: accountd.tls: 127.0.0.1:8443 is already used by frontend.listen.1 (127.0.0.1:8443)',
    ]);
  });

  it('refuses session.token_store redis without redis.url', () => {
    expect(problemsOf('session:\n  token_store: redis\n')).toEqual([
      'vesper.yaml:2: session.token_store: is redis, so redis.url must be set',
    ]);
    expect(
      load('session:\n  token_store: redis\nredis:\n  url: redis://127.0.0.1:6379\n').redis.url,
    ).toBe('redis://127.0.0.1:6379');
  });

  it('refuses tls.cert without tls.key and the reverse', () => {
    expect(problemsOf('tls:\n  cert: c.pem\n')).toEqual([
      'vesper.yaml:2: tls.cert: is set but tls.key is not; set both, or neither for a self-signed pair',
    ]);
    expect(problemsOf('tls:\n  key: k.pem\n')).toEqual([
      'vesper.yaml:2: tls.key: is set but tls.cert is not; set both, or neither for a self-signed pair',
    ]);
  });

  it('refuses tls.redirect or tls.required with no TLS listener', () => {
    expect(
      problemsOf(
        'frontend:\n  listen: [{ port: 8080 }]\ntls:\n  redirect: true\n  required: true\n',
      ),
    ).toEqual([
      'vesper.yaml:4: tls.redirect: is true but no listener in frontend.listen has tls: true',
      'vesper.yaml:5: tls.required: is true but no listener in frontend.listen has tls: true',
    ]);
  });

  it('refuses more session spares than sessions', () => {
    expect(problemsOf('session:\n  spares: 10\n  max_sessions: 5\n')).toEqual([
      'vesper.yaml:2: session.spares: must not exceed session.max_sessions (5), got 10',
    ]);
  });

  it('refuses local account server options with an external accountd.server', () => {
    expect(
      problemsOf(
        'accountd:\n  server: "accounts:4443"\n  demo_users: true\n  tls: { port: 4443, cert: c.pem, key: k.pem }\n',
      ),
    ).toEqual([
      'vesper.yaml:3: accountd.demo_users: needs the local account server, but accountd.server says it runs elsewhere',
      'vesper.yaml:4: accountd.tls: configures a local account server, but accountd.server says it runs elsewhere',
    ]);
  });

  it('places a combination problem from an option at the option', () => {
    expect(problemsOf('', ['session.timeout=10m'])).toEqual([
      '--config-option:1: session.idle_time: must be shorter than session.timeout (10m), got 15m; use 0 to never go dormant',
    ]);
  });

  it('skips a combination whose key is already wrong, so no problem is reported twice', () => {
    expect(problemsOf('session:\n  timeout: soon\n  idle_time: 5h\n')).toEqual([
      "vesper.yaml:2: session.timeout: 'soon' is not a duration; write a whole number and one unit: 500ms, 30s, 10m, 4h, 7d, or 0",
    ]);
    expect(problemsOf('frontend:\n  listen: [{ port: 0 }]\ntls:\n  redirect: true\n')).toEqual([
      'vesper.yaml:2: frontend.listen.0.port: must be between 1 and 65535, got 0',
    ]);
  });
});
