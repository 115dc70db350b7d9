/**
 * @module `/icons/` and `/static/`: small files from one directory, cached in memory with a strong ETag, 304s, long expiry and gzip for text.
 */
import { createHash } from 'node:crypto';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import { guessMimeType } from '../../../web/index.js';
import type { IncomingRequest } from '../http/client-connection.js';
import type { KeepAliveKind, ServerReply } from '../http/server-reply.js';
import { HSTS_HEADER } from '../pages/security-headers.js';
import { acceptsGzip, type GzipPolicy } from './gzip-policy.js';

/** Files larger than this are not served (the static folder holds icons and stylesheets). */
export const MAX_STATIC_FILE = 4 * 1024 * 1024;

/** A file segment: no hidden files, no separators, nothing to decode. */
const SEGMENT_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

interface CachedFile {
  readonly mtimeMs: number;
  readonly size: number;
  readonly body: Buffer;
  readonly gzipped: Buffer | null;
  readonly etag: string;
  readonly type: string;
  readonly lastModified: string;
}

function compressible(type: string): boolean {
  return type.startsWith('text/') || /(?:javascript|json|xml|svg)/.test(type);
}

/** True when `If-None-Match` names `etag` (weak comparison, RFC 9110 §13.1.2) or is `*`. */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const bare = etag.replace(/^W\//, '');
  return ifNoneMatch.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag.replace(/^W\//, '') === bare;
  });
}

/** Serves the files under one directory. */
export class StaticFiles {
  readonly #root: string;
  readonly #expireMs: number;
  readonly #kind: KeepAliveKind;
  readonly #gzip: GzipPolicy;
  readonly #cache = new Map<string, CachedFile>();

  /**
   * @param root The directory (resolved through symlinks once).
   * @param expireMs `Expires`/`Cache-Control` lifetime.
   * @param kind The keep-alive wait after a request for these files.
   */
  constructor(root: string, expireMs: number, kind: KeepAliveKind, gzip: GzipPolicy) {
    let real = root;
    try {
      real = realpathSync(root);
    } catch {
      // A missing folder serves nothing (404s).
    }
    this.#root = real;
    this.#expireMs = expireMs;
    this.#kind = kind;
    this.#gzip = gzip;
  }

  #load(segments: readonly string[]): CachedFile | null {
    if (segments.length === 0 || !segments.every((s) => SEGMENT_RE.test(s))) return null;
    let path: string;
    try {
      path = realpathSync(join(this.#root, ...segments));
    } catch {
      return null;
    }
    // A symlink out of the folder is traversal too.
    if (!path.startsWith(this.#root + sep)) return null;
    let stat;
    try {
      stat = statSync(path);
    } catch {
      return null;
    }
    if (!stat.isFile() || stat.size > MAX_STATIC_FILE) return null;
    const cached = this.#cache.get(path);
    if (cached !== undefined && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size)
      return cached;
    let body: Buffer;
    try {
      body = readFileSync(path);
    } catch {
      return null;
    }
    const type = guessMimeType(path)[0] ?? 'application/octet-stream';
    const fullType =
      type.startsWith('text/') || type.includes('javascript') ? `${type}; charset=utf-8` : type;
    const gz = compressible(type) && body.length > 256 ? gzipSync(body) : null;
    const file: CachedFile = {
      mtimeMs: stat.mtimeMs,
      size: stat.size,
      body,
      gzipped: gz !== null && gz.length < body.length ? gz : null,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      type: fullType,
      lastModified: new Date(Math.floor(stat.mtimeMs / 1000) * 1000).toUTCString(),
    };
    this.#cache.set(path, file);
    return file;
  }

  /**
   * Answers a GET or HEAD for `segments` (the path after `/icons/` or `/static/`).
   * Returns false, writing nothing, when there is no such file (the caller answers 404).
   */
  serve(request: IncomingRequest, reply: ServerReply, segments: readonly string[]): boolean {
    const file = this.#load(segments);
    if (file === null) return false;
    reply.kind = this.#kind;
    const seconds = Math.floor(this.#expireMs / 1000);
    const fields: [string, string][] = [
      ['ETag', file.etag],
      ['Cache-Control', `public, max-age=${seconds}`],
      ['Expires', new Date(Date.now() + this.#expireMs).toUTCString()],
      ['Last-Modified', file.lastModified],
      ['X-Content-Type-Options', 'nosniff'],
    ];
    if (file.gzipped !== null) fields.push(['Vary', 'Accept-Encoding']);
    if (request.tls) fields.push([...HSTS_HEADER]);
    if (etagMatches(request.head.get('if-none-match'), file.etag)) {
      reply.writeHead(304, fields);
      reply.end();
      return true;
    }
    fields.push(['Content-Type', file.type]);
    const gzip =
      file.gzipped !== null &&
      acceptsGzip(request.head.get('accept-encoding')) &&
      this.#gzip.allows(request.clientIp);
    if (gzip) fields.push(['Content-Encoding', 'gzip']);
    reply.send(200, fields, gzip ? file.gzipped : file.body);
    return true;
  }
}
