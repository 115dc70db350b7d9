/**
 * @module The TLS settings of the worker's listeners: the configured pair, or a self-signed development pair made once under `<var>/tls/`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { TlsOptions } from 'node:tls';
import type { VesperConfig } from '../../shared/config/index.js';
import { VesperError } from '../../shared/errors/index.js';

/**
 * TLS 1.2 ciphers with forward secrecy and AEAD only (TLS 1.3 suites are all
 * strong and keep OpenSSL's defaults).
 */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

const LOCK_STALE_MS = 30_000;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Makes `<var>/tls/cert.pem` and `key.pem` (self-signed for localhost, EC
 * P-256, one year) unless they exist. Workers starting together take turns
 * through a lock directory; the key is written before the certificate, so a
 * present certificate means a complete pair.
 * @throws VesperError `VESPER_FRONTEND_TLS` when openssl fails or another worker never finishes.
 */
export function ensureDevCertificate(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  if (existsSync(cert) && existsSync(key)) return { cert, key };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const lock = join(dir, '.generating');
  const until = Date.now() + LOCK_STALE_MS;
  for (;;) {
    try {
      mkdirSync(lock, { mode: 0o700 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (existsSync(cert) && existsSync(key)) return { cert, key };
      try {
        if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS)
          rmSync(lock, { recursive: true, force: true });
      } catch {
        // The lock went away meanwhile.
      }
      if (Date.now() > until)
        throw new VesperError('VESPER_FRONTEND_TLS', `Timed out waiting for ${cert}.`);
      sleepSync(50);
    }
  }
  try {
    if (existsSync(cert) && existsSync(key)) return { cert, key };
    const tmpKey = join(lock, 'key.pem');
    const tmpCert = join(lock, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '365',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
        '-keyout',
        tmpKey,
        '-out',
        tmpCert,
      ],
      { stdio: 'ignore', timeout: 20_000 },
    );
    renameSync(tmpKey, key);
    renameSync(tmpCert, cert);
    return { cert, key };
  } catch (err) {
    throw new VesperError(
      'VESPER_FRONTEND_TLS',
      `Could not make a development certificate in ${dir}.`,
      { cause: err },
    );
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * The options of every TLS listener: TLS 1.2 at least, strong ciphers, the
 * server's cipher order, HTTP/1.1 by ALPN.
 * @throws VesperError `VESPER_FRONTEND_TLS` when the certificate or key cannot be read.
 */
export function tlsOptions(config: VesperConfig): TlsOptions {
  const pair =
    config.tls.cert !== null && config.tls.key !== null
      ? { cert: config.tls.cert, key: config.tls.key }
      : ensureDevCertificate(join(config.paths.var, 'tls'));
  try {
    return {
      cert: readFileSync(pair.cert),
      key: readFileSync(pair.key),
      minVersion: 'TLSv1.2',
      ciphers: TLS12_CIPHERS,
      honorCipherOrder: true,
      ALPNProtocols: ['http/1.1'],
      handshakeTimeout: config.frontend.timeout.header,
    };
  } catch (err) {
    throw new VesperError(
      'VESPER_FRONTEND_TLS',
      `Cannot read the TLS certificate ${pair.cert} or key ${pair.key}.`,
      { cause: err },
    );
  }
}
