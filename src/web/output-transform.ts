/**
 * @module Output transforms applied to a response as it is flushed, and the one
 * Vesper ships: gzip content encoding for the `compressResponse` setting
 * (Tornado's `GZipContentEncoding`).
 */
import { constants as zc, createGzip, gzipSync, type Gzip } from 'node:zlib';
import type { HTTPHeaders } from './httputil.js';
import type { HTTPServerRequest } from './http-server-request.js';

/**
 * Rewrites a response on its way out. `transformFirstChunk` sees the headers
 * before they are sent (and may change them); `finishing` is true when the
 * chunk is the last one. Either may return a promise.
 */
export interface OutputTransform {
  transformFirstChunk(
    statusCode: number,
    headers: HTTPHeaders,
    chunk: Buffer,
    finishing: boolean,
  ): Buffer | Promise<Buffer>;
  transformChunk(chunk: Buffer, finishing: boolean): Buffer | Promise<Buffer>;
}

/** A class that makes one {@link OutputTransform} per request. */
export type OutputTransformClass = new (request: HTTPServerRequest) => OutputTransform;

const COMPRESSIBLE = new Set([
  'application/javascript',
  'application/x-javascript',
  'application/xml',
  'application/atom+xml',
  'application/json',
  'application/xhtml+xml',
  'image/svg+xml',
]);

/**
 * Gzips compressible responses (`text/*`, JSON, JavaScript, XML, SVG) when the
 * client sends `Accept-Encoding: gzip`, at level 6; a response finished in one
 * piece is compressed only from {@link GZipContentEncoding.MIN_LENGTH} bytes.
 * `Vary: Accept-Encoding` is added to every response while it is enabled.
 * Streamed responses are compressed chunk by chunk with a sync flush, so each
 * `flush()` reaches the client.
 */
export class GZipContentEncoding implements OutputTransform {
  /** Tornado's threshold: smaller single-chunk bodies are sent as they are. */
  static readonly MIN_LENGTH = 1024;
  /** The zlib level. */
  static readonly GZIP_LEVEL = 6;

  #gzipping: boolean;
  #stream: Gzip | null = null;

  constructor(request: HTTPServerRequest) {
    this.#gzipping = (request.headers.get('Accept-Encoding') ?? '').includes('gzip');
  }

  static #compressibleType(ctype: string): boolean {
    return ctype.startsWith('text/') || COMPRESSIBLE.has(ctype);
  }

  transformFirstChunk(
    _statusCode: number,
    headers: HTTPHeaders,
    chunk: Buffer,
    finishing: boolean,
  ): Buffer | Promise<Buffer> {
    const vary = headers.get('Vary');
    headers.set('Vary', vary !== undefined ? `${vary}, Accept-Encoding` : 'Accept-Encoding');
    if (this.#gzipping) {
      const ctype = (headers.get('Content-Type') ?? '').split(';')[0]!.trim();
      this.#gzipping =
        GZipContentEncoding.#compressibleType(ctype) &&
        (!finishing || chunk.length >= GZipContentEncoding.MIN_LENGTH) &&
        !headers.has('Content-Encoding');
    }
    if (!this.#gzipping) return chunk;
    headers.set('Content-Encoding', 'gzip');
    if (finishing) {
      const out = gzipSync(chunk, { level: GZipContentEncoding.GZIP_LEVEL });
      if (headers.has('Content-Length')) headers.set('Content-Length', String(out.length));
      return out;
    }
    headers.delete('Content-Length');
    this.#stream = createGzip({ level: GZipContentEncoding.GZIP_LEVEL });
    return this.transformChunk(chunk, false);
  }

  transformChunk(chunk: Buffer, finishing: boolean): Buffer | Promise<Buffer> {
    const gz = this.#stream;
    if (!this.#gzipping || gz === null) return chunk;
    return new Promise<Buffer>((resolve, reject) => {
      const collect = (): void => {
        const parts: Buffer[] = [];
        let b: unknown;
        while ((b = gz.read()) !== null) parts.push(b as Buffer);
        resolve(Buffer.concat(parts));
      };
      gz.once('error', reject);
      if (finishing) {
        // The end callback can run before the trailer is pushed: read until 'end'.
        const parts: Buffer[] = [];
        gz.on('data', (c: Buffer) => parts.push(c));
        gz.once('end', () => {
          gz.off('error', reject);
          resolve(Buffer.concat(parts));
        });
        gz.end(chunk);
      } else {
        if (chunk.length > 0) gz.write(chunk);
        gz.flush(zc.Z_SYNC_FLUSH, () => {
          gz.off('error', reject);
          collect();
        });
      }
    });
  }
}
