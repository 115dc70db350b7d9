import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ensureSelfSigned,
  needsSelfSigned,
  withCertificate,
} from '../../../src/frontend/master/self-signed.js';
import { defaultConfig } from '../../../src/shared/config/index.js';

describe('ensureSelfSigned', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vesper-self-signed-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('makes a localhost certificate and a 0600 key in a 0700 directory on first start', async () => {
    const pair = await ensureSelfSigned(dir);
    expect(pair).toEqual({
      cert: join(dir, 'tls', 'cert.pem'),
      key: join(dir, 'tls', 'key.pem'),
      created: true,
    });
    expect(statSync(join(dir, 'tls')).mode & 0o777).toBe(0o700);
    expect(statSync(pair.key).mode & 0o777).toBe(0o600);
    const x509 = new X509Certificate(readFileSync(pair.cert));
    expect(x509.subject).toBe('CN=localhost');
    expect(x509.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(x509.checkPrivateKey(createPrivateKey(readFileSync(pair.key)))).toBe(true);
    expect(readdirSync(join(dir, 'tls')).sort()).toEqual(['cert.pem', 'key.pem']);
  });

  it('keeps an existing pair as it is', async () => {
    await ensureSelfSigned(dir);
    writeFileSync(join(dir, 'tls', 'cert.pem'), 'mine');
    const again = await ensureSelfSigned(dir);
    expect(again.created).toBe(false);
    expect(readFileSync(again.cert, 'utf8')).toBe('mine');
  });

  it('says how to fix it when openssl is missing, and leaves no files behind', async () => {
    await expect(ensureSelfSigned(dir, join(dir, 'no-openssl'))).rejects.toMatchObject({
      code: 'VESPER_TLS_SELF_SIGNED',
      message: expect.stringContaining('install openssl or set tls.cert and tls.key'),
    });
    expect(readdirSync(join(dir, 'tls'))).toEqual([]);
  });
});

describe('needsSelfSigned and withCertificate', () => {
  it('asks for a pair only with a TLS listener and no tls.cert', () => {
    const config = defaultConfig('/srv');
    expect(needsSelfSigned(config)).toBe(true);
    expect(
      needsSelfSigned({
        ...config,
        frontend: { ...config.frontend, listen: [{ port: 8080, host: '127.0.0.1', tls: false }] },
      }),
    ).toBe(false);
    expect(needsSelfSigned({ ...config, tls: { ...config.tls, cert: '/c', key: '/k' } })).toBe(
      false,
    );
  });

  it('points tls.cert and tls.key at the pair, leaving the rest alone', () => {
    const config = defaultConfig('/srv');
    const out = withCertificate(config, { cert: '/v/c.pem', key: '/v/k.pem', created: false });
    expect(out.tls).toEqual({ ...config.tls, cert: '/v/c.pem', key: '/v/k.pem' });
    expect(out.frontend).toBe(config.frontend);
    expect(withCertificate(config, null)).toBe(config);
  });
});
