import { describe, expect, it } from 'vitest';
import { listenUrls, serviceSpecs, startBanner } from '../../../src/cli/commands/start.js';
import { formatStatus } from '../../../src/cli/commands/status.js';
import { formatAge } from '../../../src/cli/commands/master-support.js';
import type { MasterStatus } from '../../../src/frontend/master/master.js';
import { loadConfigText } from '../../../src/shared/config/index.js';

describe('vesper start output', () => {
  it('names every listener as a URL, IPv6 hosts in brackets', () => {
    const config = loadConfigText(
      'frontend:\n  listen: [{port: 8080}, {port: 8443, tls: true}, {port: 9000, host: "::1"}]\n',
      { cwd: '/srv' },
    );
    expect(listenUrls(config)).toEqual([
      'http://127.0.0.1:8080/',
      'https://127.0.0.1:8443/',
      'http://[::1]:9000/',
    ]);
  });

  it('prints the listeners and, with demo users on, the demo accounts', () => {
    const demo = loadConfigText('accountd: {demo_users: true}\n', { cwd: '/srv' });
    expect(startBanner(demo)).toBe(
      'Vesper listening on http://127.0.0.1:8080/ and https://127.0.0.1:8443/\n' +
        'Demo accounts (accountd.demo_users is on; never in production): alice and bob, password vesper-demo-1\n',
    );
    const plain = loadConfigText('frontend: {listen: [{port: 80}]}\n', { cwd: '/srv' });
    expect(startBanner(plain)).toBe('Vesper listening on http://127.0.0.1:80/\n');
  });

  it('runs accountd and the session server with the same configuration arguments unless external', () => {
    const config = loadConfigText('', { cwd: '/srv' });
    const specs = serviceSpecs(config, ['--config', '/etc/v.yaml'], '/srv', {
      PATH: '/bin',
      NODE_EXTRA_CA_CERTS: '/x',
    });
    expect(specs.map((s) => [s.name, s.args.slice(1), s.readySocket, s.env])).toEqual([
      [
        'accountd',
        ['accountd', '--config', '/etc/v.yaml'],
        '/srv/var/accountd.sock',
        { PATH: '/bin' },
      ],
      [
        'session-server',
        ['session-server', '--config', '/etc/v.yaml'],
        '/srv/var/sockets/init.sock',
        { PATH: '/bin' },
      ],
    ]);
    expect(specs[0]!.args[0]).toMatch(/cli\/main\.js$/);
    const external = loadConfigText(
      "session: {external: true}\naccountd: {server: 'unix:/run/accountd.sock'}\n",
      { cwd: '/srv' },
    );
    expect(serviceSpecs(external, [], '/srv', {})).toEqual([]);
  });
});

describe('vesper status output', () => {
  const master: MasterStatus = {
    ok: true,
    pid: 100,
    startedAt: 0,
    phase: 'running',
    generation: 2,
    foreground: false,
    workers: [
      {
        pid: 101,
        slot: 0,
        generation: 2,
        state: 'listening',
        inflight: 1,
        connections: 3,
        requests: 120,
        servedConnections: 40,
        startedAt: 60_000,
        restarts: 1,
      },
      {
        pid: 102,
        slot: 1,
        generation: 2,
        state: 'starting',
        inflight: null,
        connections: null,
        requests: null,
        servedConnections: null,
        startedAt: 125_000,
        restarts: 0,
      },
    ],
    services: [{ name: 'accountd', pid: 99, state: 'running', restarts: 0, startedAt: 0 }],
  };

  it('lays out the master, workers, services and sessions in columns', () => {
    const text = formatStatus(
      master,
      {
        ok: true,
        spares: 2,
        sessions: [{ user: 'alice', session: 7, pid: 300, state: 'dormant', idleMs: 95_000 }],
      },
      130_000,
    );
    expect(text).toBe(
      [
        'Vesper master 100: running, generation 2, up 2m 10s',
        '',
        'SLOT  PID  GEN  STATE      CONNS  INFLIGHT  REQUESTS  SERVED  RESTARTS  AGE',
        '0     101  2    listening  3      1         120       40      1         1m 10s',
        '1     102  2    starting   -      -         -         -       0         5s',
        '',
        'SERVICE   PID  STATE    RESTARTS  AGE',
        'accountd  99   running  0         2m 10s',
        '',
        'USER   SESSION  PID  STATE    IDLE',
        'alice  7        300  dormant  1m 35s',
        '(2 spare processes)',
        '',
      ].join('\n'),
    );
  });

  it('says why sessions are unknown when the session server does not answer', () => {
    const text = formatStatus(master, { ok: false, error: 'no answer on x: ENOENT' }, 0);
    expect(text.endsWith('\nSessions: unknown (no answer on x: ENOENT)\n')).toBe(true);
  });

  it('writes ages the short way', () => {
    expect([0, 42_000, 303_000, 7_800_000, 273_600_000].map(formatAge)).toEqual([
      '0s',
      '42s',
      '5m 3s',
      '2h 10m',
      '3d 4h',
    ]);
  });
});
