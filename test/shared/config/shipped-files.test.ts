import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/shared/config/index.js';

const root = join(import.meta.dirname, '..', '..', '..');

describe('the shipped configuration files', () => {
  it('config/vesper.yaml validates: loopback 8080 and TLS 8443, demo users on', () => {
    const config = loadConfig({ file: 'config/vesper.yaml', cwd: root });
    expect(config.frontend.listen).toEqual([
      { port: 8080, host: '127.0.0.1', tls: false },
      { port: 8443, host: '127.0.0.1', tls: true },
    ]);
    expect(config.accountd.demo_users).toBe(true);
    expect(config.paths.var).toBe(join(root, 'var'));
    expect(config.tls.cert).toBeNull();
  });

  it('config/production.example.yaml validates: demo users off, real TLS files, redirect on, log file', () => {
    const config = loadConfig({ file: 'config/production.example.yaml', cwd: root });
    expect(config.accountd.demo_users).toBe(false);
    expect(config.tls).toEqual({
      cert: '/etc/vesper/tls/fullchain.pem',
      key: '/etc/vesper/tls/privkey.pem',
      encouraged: false,
      redirect: true,
      required: true,
    });
    expect(config.session.fix_client_ipaddr).toBe(false);
    expect(config.log.file).toBe('/var/log/vesper/vesper.log');
    expect(config.paths.var).toBe('/var/lib/vesper');
  });
});
