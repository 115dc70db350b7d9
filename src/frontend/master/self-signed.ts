/**
 * @module The self-signed development certificate made on first start when TLS is configured without one.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { VesperConfig } from '../../shared/config/index.js';
import { VesperError } from '../../shared/errors/index.js';
import { ensurePrivateDir } from '../../shared/fs/private-dir.js';

/** Where the pair lives and whether it was made just now. */
export interface SelfSignedPair {
  readonly cert: string;
  readonly key: string;
  readonly created: boolean;
}

/** True when `config` has a TLS listener but no `tls.cert`/`tls.key`. */
export function needsSelfSigned(config: VesperConfig): boolean {
  return config.frontend.listen.some((l) => l.tls) && config.tls.cert === null;
}

/**
 * Makes sure `<var>/tls/cert.pem` and `<var>/tls/key.pem` exist: a pair
 * already there is used as it is; otherwise one is made with the `openssl`
 * program (an ECDSA P-256 key, valid 825 days, for `localhost`, `127.0.0.1`
 * and `::1`), written under temporary names and renamed into place, the key
 * mode 0600 in a 0700 directory. Throws a `VesperError`
 * (`VESPER_TLS_SELF_SIGNED`) when `openssl` is missing or fails.
 */
export async function ensureSelfSigned(
  varDir: string,
  openssl = 'openssl',
): Promise<SelfSignedPair> {
  const dir = join(varDir, 'tls');
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  if (existsSync(cert) && existsSync(key)) return { cert, key, created: false };
  ensurePrivateDir(dir);
  const tmpCert = join(dir, `.cert.pem.${process.pid}.tmp`);
  const tmpKey = join(dir, `.key.pem.${process.pid}.tmp`);
  const args = [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '825',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
    '-keyout',
    tmpKey,
    '-out',
    tmpCert,
  ];
  try {
    await new Promise<void>((resolve, reject) => {
      execFile(
        openssl,
        args,
        { timeout: 30_000, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' } },
        (err, _stdout, stderr) => {
          if (err === null) resolve();
          else reject(new Error(String(stderr).trim() || err.message, { cause: err }));
        },
      );
    });
    await chmod(tmpKey, 0o600);
    await chmod(tmpCert, 0o644);
    await rename(tmpKey, key);
    await rename(tmpCert, cert);
  } catch (err) {
    await rm(tmpKey, { force: true });
    await rm(tmpCert, { force: true });
    const cause = (err as Error).cause as NodeJS.ErrnoException | undefined;
    const missing = cause?.code === 'ENOENT';
    throw new VesperError(
      'VESPER_TLS_SELF_SIGNED',
      missing
        ? `a TLS listener is configured without tls.cert and tls.key, and the openssl program ` +
            `needed to make a self-signed pair is not installed: install openssl or set tls.cert and tls.key`
        : `could not make a self-signed certificate with openssl: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return { cert, key, created: true };
}

/**
 * `config` with `tls.cert` and `tls.key` pointing at `pair`, for the
 * workers; the same object when TLS needs no self-signed pair.
 */
export function withCertificate(config: VesperConfig, pair: SelfSignedPair | null): VesperConfig {
  if (pair === null) return config;
  return { ...config, tls: { ...config.tls, cert: pair.cert, key: pair.key } };
}
