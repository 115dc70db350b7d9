import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../src/shared/config/index.js';
import { load, problemsOf } from './helpers.js';

describe('path resolution', () => {
  it('resolves the default paths under var/ in the working directory', () => {
    const config = defaultConfig('/srv/vesper');
    expect(config.paths.var).toBe('/srv/vesper/var');
    expect(config.session.socket_dir).toBe('/srv/vesper/var/sockets');
    expect(config.accountd.listen).toBe('/srv/vesper/var/accountd.sock');
    expect(config.tls.cert).toBeNull();
    expect(config.tls.key).toBeNull();
    expect(config.log.file).toBeNull();
    expect(config.frontend.templates).toBeNull();
  });

  it('resolves a relative paths.var against the working directory', () => {
    expect(load('paths:\n  var: ../run\n').paths.var).toBe('/srv/run');
  });

  it('resolves every other relative path against paths.var', () => {
    const config = load(
      [
        'paths: { var: /var/lib/vesper }',
        'log: { file: log/vesper.log }',
        'tls: { cert: tls/c.pem, key: /etc/k.pem }',
        'session: { socket_dir: s }',
        'frontend: { templates: ../templates }',
        'accountd:',
        '  listen: a.sock',
        '  tls: { port: 4443, cert: ac.pem, key: ak.pem, ca: ca.pem }',
        '',
      ].join('\n'),
    );
    expect(config.log.file).toBe('/var/lib/vesper/log/vesper.log');
    expect(config.tls.cert).toBe('/var/lib/vesper/tls/c.pem');
    expect(config.tls.key).toBe('/etc/k.pem');
    expect(config.session.socket_dir).toBe('/var/lib/vesper/s');
    expect(config.frontend.templates).toBe('/var/lib/templates');
    expect(config.accountd.listen).toBe('/var/lib/vesper/a.sock');
    expect(config.accountd.tls).toEqual({
      port: 4443,
      host: '127.0.0.1',
      cert: '/var/lib/vesper/ac.pem',
      key: '/var/lib/vesper/ak.pem',
      ca: '/var/lib/vesper/ca.pem',
    });
  });

  it('reads null for socket_dir and accountd.listen as their place under paths.var', () => {
    const config = load(
      'paths: { var: /v }\nsession: { socket_dir: null }\naccountd: { listen: null }\n',
    );
    expect(config.session.socket_dir).toBe('/v/sockets');
    expect(config.accountd.listen).toBe('/v/accountd.sock');
  });

  it('resolves a relative unix: accountd.server under paths.var and keeps host:port as written', () => {
    expect(
      load('paths: { var: /v }\naccountd: { server: "unix:a/accountd.sock" }\n').accountd.server,
    ).toBe('unix:/v/a/accountd.sock');
    expect(load('accountd: { server: "accounts.example.org:4443" }\n').accountd.server).toBe(
      'accounts.example.org:4443',
    );
    expect(load('accountd: { server: "[::1]:4443" }\n').accountd.server).toBe('[::1]:4443');
  });

  it('uses paths.var given as an option', () => {
    expect(load('', ['paths.var=/opt/v']).session.socket_dir).toBe('/opt/v/sockets');
  });

  it('refuses a path with a NUL character', () => {
    expect(problemsOf('log:\n  file: "a\\0b"\n')).toEqual([
      'vesper.yaml:2: log.file: a path may not contain a NUL character',
    ]);
  });
});
