/**
 * @module The TLS settings of the worker's listeners (the pair is configured, or made by `vesper start`: see frontend/master/self-signed.ts).
 */
import { readFileSync } from 'node:fs';
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

/**
 * The options of every TLS listener: TLS 1.2 at least, strong ciphers, the
 * server's cipher order, HTTP/1.1 by ALPN.
 * @throws VesperError `VESPER_FRONTEND_TLS` when the certificate or key cannot be read.
 */
export function tlsOptions(config: VesperConfig): TlsOptions {
  if (config.tls.cert === null || config.tls.key === null) {
    // `vesper start` makes the self-signed pair and names it before any worker starts.
    throw new VesperError(
      'VESPER_FRONTEND_TLS',
      'A TLS listener needs tls.cert and tls.key (vesper start makes a self-signed pair when they are not set).',
    );
  }
  const { cert, key } = config.tls;
  try {
    return {
      cert: readFileSync(cert),
      key: readFileSync(key),
      minVersion: 'TLSv1.2',
      ciphers: TLS12_CIPHERS,
      honorCipherOrder: true,
      ALPNProtocols: ['http/1.1'],
      handshakeTimeout: config.frontend.timeout.header,
    };
  } catch (err) {
    throw new VesperError(
      'VESPER_FRONTEND_TLS',
      `Cannot read the TLS certificate ${cert} or key ${key}.`,
      { cause: err },
    );
  }
}
