/**
 * @module StaticFileHandler: files from a directory with strong ETags, 304s,
 * single byte ranges and versioned URLs, streamed in 64 KiB chunks (Tornado's
 * `web.StaticFileHandler`).
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, type Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { VesperError, isVesperError } from '../shared/errors/index.js';
import type { ApplicationSettings } from './application.js';
import { parseHttpDate } from './http-date.js';
import { guessMimeType } from './mime-types.js';
import { RequestHandler } from './request-handler.js';
import { HttpError } from './web-errors.js';

/** The size of the chunks a file is read and sent in. */
const CHUNK_SIZE = 64 * 1024;

/** A handler class's content versions by absolute path (null: the file could not be read). */
interface VersionCache {
  versions: Map<string, string | null>;
  /** Versions being computed asynchronously, so concurrent requests share one read. */
  pending: Map<string, Promise<string | null>>;
}

/**
 * One cache per handler class: a subclass may compute versions differently
 * (another digest, or a version in the file name), so it must not see its
 * parent's.
 */
const versionCaches = new WeakMap<object, VersionCache>();

function cacheOf(cls: object): VersionCache {
  let cache = versionCaches.get(cls);
  if (cache === undefined) {
    cache = { versions: new Map(), pending: new Map() };
    versionCaches.set(cls, cache);
  }
  return cache;
}

/**
 * Parses a `Range` header as Tornado's `_parse_request_range`: returns
 * `[start, end)` slice indexes (either may be undefined; a negative start
 * counts from the end), or null for anything that is not one `bytes=` range,
 * which is then treated as if there were no `Range` header (RFC 9110 section
 * 14.2). `bytes=1-2` → `[1, 3]`, `bytes=6-` → `[6, undefined]`, `bytes=-6` →
 * `[-6, undefined]`, `bytes=-0` → `[undefined, 0]`, `bytes=1-2,6-10` → null.
 */
export function parseRangeHeader(header: string): [number | undefined, number | undefined] | null {
  const eq = header.indexOf('=');
  const unit = (eq === -1 ? header : header.slice(0, eq)).trim();
  const value = eq === -1 ? '' : header.slice(eq + 1).trim();
  if (unit !== 'bytes') return null;
  const dash = value.indexOf('-');
  const startText = (dash === -1 ? value : value.slice(0, dash)).trim();
  const endText = dash === -1 ? '' : value.slice(dash + 1).trim();
  const intOrUndefined = (s: string): number | undefined | null => {
    if (s === '') return undefined;
    return /^[+-]?[0-9]+$/.test(s) ? Number(s) : null;
  };
  let start = intOrUndefined(startText);
  let end = intOrUndefined(endText);
  if (start === null || end === null) return null;
  if (end !== undefined) {
    if (start === undefined) {
      if (end !== 0) {
        start = -end;
        end = undefined;
      }
    } else {
      end += 1;
    }
  }
  return [start, end];
}

/** `Content-Range` for the slice `[start, end)` of `total` bytes (Tornado's `_get_content_range`). */
function contentRange(start: number | undefined, end: number | undefined, total: number): string {
  return `bytes ${start ?? 0}-${(end || total) - 1}/${total}`;
}

/**
 * Hashes a file through one reused 64 KiB buffer (`update` copies what it is
 * given), so hashing any file leaves no garbage behind.
 */
async function hashFile(absPath: string, algorithm: string): Promise<string> {
  const hash = createHash(algorithm);
  const file = await open(absPath, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK_SIZE);
    for (;;) {
      const { bytesRead } = await file.read(buf, 0, CHUNK_SIZE, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await file.close();
  }
  return hash.digest('hex');
}

/** Hashes a file with synchronous 64 KiB reads (for `makeStaticUrl`, which templates call synchronously). */
function hashFileSync(absPath: string, algorithm: string): string {
  const hash = createHash(algorithm);
  const fd = openSync(absPath, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK_SIZE);
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK_SIZE, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** What {@link StaticFileHandler.getContent} returns: bytes, or chunks of them. */
export type StaticContent = Buffer | Iterable<Buffer> | AsyncIterable<Buffer>;

/** Reads `[start, end)` of a file in chunks; see {@link StaticFileHandler.getContent}. */
async function* readChunks(
  absPath: string,
  start: number,
  end: number | undefined,
): AsyncGenerator<Buffer> {
  const file = await open(absPath, 'r');
  let position = start;
  const readNext = async (): Promise<Buffer | null> => {
    const want = end === undefined ? CHUNK_SIZE : Math.min(CHUNK_SIZE, end - position);
    if (want <= 0) return null;
    const buf = Buffer.allocUnsafe(want);
    const at = position;
    position += want;
    const { bytesRead } = await file.read(buf, 0, want, at);
    if (bytesRead === 0) return null;
    return bytesRead === want ? buf : buf.subarray(0, bytesRead);
  };
  let next: Promise<Buffer | null> | undefined;
  try {
    next = readNext();
    for (;;) {
      const chunk = await next;
      next = undefined;
      if (chunk === null) return;
      // A short read means the end of the file: nothing more to prefetch.
      if (chunk.length === CHUNK_SIZE) next = readNext();
      else next = Promise.resolve(null);
      yield chunk;
    }
  } finally {
    // Let a prefetch still in flight finish before closing the file under it.
    if (next !== undefined) await next.catch(() => null);
    await file.close();
  }
}

/**
 * Serves files from the directory given as the `path` kwarg (Tornado's
 * `StaticFileHandler`). An application with the `staticPath` setting routes
 * `staticUrlPrefix` (default `/static/`), `/favicon.ico` and `/robots.txt` here;
 * `staticHandlerArgs` may add `defaultFilename` (e.g. `index.html`).
 *
 * - A path that resolves outside the root is 403 (a root of `/` turns the
 *   check off, as in Tornado); a missing file is 404; something that is not a
 *   regular file is 403. A directory is 403 unless `defaultFilename` is set, in
 *   which case `dir` is redirected (301) to `dir/` and `dir/` serves the
 *   default file; a request path starting with `//` is never redirected (403).
 * - Headers: `Accept-Ranges: bytes`, a strong `Etag` (the SHA-512 of the
 *   content, computed once per file and cached until {@link resetCache}),
 *   `Last-Modified` (whole seconds), `Content-Type` from the name (text types
 *   with `charset=UTF-8`), and for requests with `?v=` ten years of caching.
 * - `If-None-Match` (if present, alone) or `If-Modified-Since` give 304.
 * - One byte range gives 206 with `Content-Range`; an unsatisfiable one gives
 *   416 with `Content-Range: bytes *\/<size>`; a range covering the whole file
 *   gives a plain 200; several ranges or a malformed header are ignored.
 * - HEAD answers with GET's headers and no body, without reading the file.
 * - The body is read and sent in 64 KiB chunks, waiting for each to be handed
 *   to the OS (socket backpressure), so no file is ever held in memory.
 *
 * Override points as in Tornado: {@link parseUrlPath},
 * {@link StaticFileHandler.getAbsolutePath}, {@link validateAbsolutePath},
 * {@link StaticFileHandler.getContent}, {@link getContentType},
 * {@link getCacheTime}, {@link setExtraHeaders}, {@link computeEtag},
 * {@link StaticFileHandler.getContentVersion}.
 */
export class StaticFileHandler extends RequestHandler {
  /** Ten years, in seconds: the cache lifetime of a versioned (`?v=`) URL. */
  static CACHE_MAX_AGE = 86400 * 365 * 10;
  /** The digest used for versions and ETags (Tornado 6 uses SHA-512; older Tornado MD5). */
  static VERSION_HASH_ALGORITHM = 'sha512';

  /** The root directory. */
  root = '';
  /** The file served for a directory, or undefined (directories are then 403). */
  defaultFilename: string | undefined;
  /** The requested path, relative to the root (after {@link parseUrlPath}). */
  path = '';
  /** The file being served, once validated. */
  absolutePath: string | undefined;
  /** The file's modification time in whole seconds, once known. */
  modified: Date | undefined;

  #stat: Stats | undefined;
  #version: string | null = null;

  /**
   * Takes the rule's kwargs: `path` (the root directory, required) and
   * `defaultFilename`.
   * @throws {VesperError} `VESPER_WEB_BAD_ROUTE` without a string `path`.
   */
  override initialize(kwargs: Record<string, unknown>): void {
    const root = kwargs['path'];
    if (typeof root !== 'string' || root === '') {
      throw new VesperError('VESPER_WEB_BAD_ROUTE', 'StaticFileHandler needs a path to serve.');
    }
    this.root = root;
    const def = kwargs['defaultFilename'];
    this.defaultFilename = typeof def === 'string' && def !== '' ? def : undefined;
  }

  /** Clears the cache of content versions (Tornado's `reset`). */
  static resetCache(): void {
    cacheOf(this).versions.clear();
  }

  /** Serves the file. */
  override get(path?: string): Promise<void> {
    return this.#serve(path ?? '', true);
  }

  /** Answers with the headers GET would send, without reading the file. */
  override head(path?: string): Promise<void> {
    return this.#serve(path ?? '', false);
  }

  async #serve(urlPath: string, includeBody: boolean): Promise<void> {
    this.path = this.parseUrlPath(urlPath);
    const cls = this.constructor as typeof StaticFileHandler;
    const absolute = cls.getAbsolutePath(this.root, this.path);
    const validated = await this.validateAbsolutePath(this.root, absolute);
    if (validated === null) return;
    this.absolutePath = validated;
    // A subclass's validateAbsolutePath may not have looked at the disk.
    this.#stat ??= await stat(validated).catch(() => undefined);
    this.#version = await cls.cachedVersionAsync(validated);
    this.modified = this.getModifiedTime();
    this.setHeaders();

    if (this.shouldReturn304()) {
      this.setStatus(304);
      return;
    }

    const size = this.getContentSize();
    const rangeHeader = this.request.headers.get('Range');
    let start: number | undefined;
    let end: number | undefined;
    const range = rangeHeader ? parseRangeHeader(rangeHeader) : null;
    if (range !== null) {
      [start, end] = range;
      if (start !== undefined && start < 0) {
        start += size;
        if (start < 0) start = 0;
      }
      if (
        (start !== undefined && (start >= size || (end !== undefined && start >= end))) ||
        end === 0
      ) {
        // RFC 9110 section 14.1.2: unsatisfiable when the first byte is past
        // the end, or for a suffix of length zero.
        this.setStatus(416);
        this.setHeader('Content-Type', 'text/plain');
        this.setHeader('Content-Range', `bytes */${size}`);
        return;
      }
      // Clients use a large end to cap their download; clamp it to the file.
      if (end !== undefined && end > size) end = size;
      // Only a real part is a 206: Chrome refuses audio answered with 206 to
      // `Range: bytes=0-`.
      if (size !== (end || size) - (start ?? 0)) {
        this.setStatus(206);
        this.setHeader('Content-Range', contentRange(start, end, size));
      }
    }
    const from = start ?? 0;
    const to = end ?? size;
    this.setHeader('Content-Length', to - from);

    if (!includeBody) return;
    const content = cls.getContent(validated, from, to);
    for await (const chunk of Buffer.isBuffer(content) ? [content] : content) {
      this.write(chunk);
      try {
        await this.flush();
      } catch (err) {
        if (isVesperError(err, 'VESPER_WEB_STREAM_CLOSED')) return;
        throw err;
      }
    }
  }

  /**
   * Sets `Accept-Ranges`, `Etag`, `Last-Modified`, `Content-Type`, the cache
   * headers and {@link setExtraHeaders}'s.
   */
  setHeaders(): void {
    this.setHeader('Accept-Ranges', 'bytes');
    this.setEtagHeader();
    if (this.modified !== undefined) this.setHeader('Last-Modified', this.modified);
    const contentType = this.getContentType();
    if (contentType !== '') this.setHeader('Content-Type', contentType);
    const cacheTime = this.getCacheTime(this.path, this.modified, contentType);
    if (cacheTime > 0) {
      this.setHeader('Expires', new Date(Date.now() + cacheTime * 1000));
      this.setHeader('Cache-Control', `max-age=${cacheTime}`);
    }
    this.setExtraHeaders(this.path);
  }

  /**
   * True when the client's copy is current: `If-None-Match` decides alone when
   * present; otherwise `If-Modified-Since` at or after `Last-Modified` (a date
   * without a zone is UTC; an unreadable one never matches).
   */
  shouldReturn304(): boolean {
    if ((this.request.headers.get('If-None-Match') ?? '') !== '') return this.checkEtagHeader();
    const ims = this.request.headers.get('If-Modified-Since');
    if (ims !== undefined && this.modified !== undefined) {
      const since = parseHttpDate(ims);
      if (since !== null && since.getTime() >= this.modified.getTime()) return true;
    }
    return false;
  }

  /**
   * The path on disk for `path` under `root`, made absolute and normalised
   * (dot segments resolved). Containment is checked by
   * {@link StaticFileHandler.validateAbsolutePath}.
   */
  static getAbsolutePath(root: string, path: string): string {
    return resolve(root, path);
  }

  /**
   * Checks that `absolutePath` may be served and returns the file to serve, or
   * null when the request was answered here (the directory redirect).
   * @throws {HttpError} 403 outside the root, for a directory without
   * `defaultFilename`, for something that is not a regular file, or for a
   * directory redirect whose path starts with `//` (it would be an open
   * redirect); 404 when the file does not exist.
   */
  async validateAbsolutePath(root: string, absolutePath: string): Promise<string | null> {
    let rootDir = resolve(root);
    // resolve() drops a trailing separator except for '/', so that a root of
    // '/' (which turns the check off, as some projects rely on) still works
    // and `/static-other` does not pass for `/static`.
    if (!rootDir.endsWith(sep)) rootDir += sep;
    if (!(absolutePath + sep).startsWith(rootDir)) {
      throw new HttpError(403, '%s is not in root static directory', { args: [this.path] });
    }
    if (absolutePath.includes('\0')) throw new HttpError(404);
    let target = absolutePath;
    let info = await stat(target).catch(() => undefined);
    if (info?.isDirectory() === true && this.defaultFilename !== undefined) {
      // Look at request.path: `path` may be empty when the routing already
      // took a prefix off.
      const requestPath = this.request.path;
      if (!requestPath.endsWith('/')) {
        if (requestPath.startsWith('//')) {
          // `//host/...` in Location is a protocol-relative URL: an open redirect.
          throw new HttpError(403, 'cannot redirect path with two initial slashes');
        }
        await this.redirect(requestPath + '/', true);
        return null;
      }
      target = resolve(absolutePath, this.defaultFilename);
      info = await stat(target).catch(() => undefined);
    }
    if (info === undefined) throw new HttpError(404);
    if (!info.isFile()) throw new HttpError(403, '%s is not a file', { args: [this.path] });
    this.#stat = info;
    return target;
  }

  /**
   * Reads `[start, end)` of a file in 64 KiB chunks, one fresh buffer each (a
   * chunk may still be queued on the socket while the next is read). The next
   * chunk is read while the caller sends the current one, so disk and socket
   * overlap; at most two chunks are in memory. Stops early if the file got
   * shorter. An override may return the content as one `Buffer`, or any
   * iterable or async iterable of chunks (Tornado's bytes or generator).
   */
  static getContent(absPath: string, start = 0, end?: number): StaticContent {
    return readChunks(absPath, start, end);
  }

  /**
   * The content version of a file: the hex digest of what
   * {@link StaticFileHandler.getContent} yields for it (streamed), so a
   * subclass serving other content gets versions of that content.
   */
  static async getContentVersion(absPath: string): Promise<string> {
    // The file as it is on disk: hash it through one reused buffer.
    if (this.getContent === StaticFileHandler.getContent) {
      return hashFile(absPath, this.VERSION_HASH_ALGORITHM);
    }
    const hash = createHash(this.VERSION_HASH_ALGORITHM);
    const content = this.getContent(absPath);
    if (Buffer.isBuffer(content)) hash.update(content);
    else for await (const chunk of content) hash.update(chunk);
    return hash.digest('hex');
  }

  /** The same, synchronously, for {@link StaticFileHandler.makeStaticUrl}. */
  static getContentVersionSync(absPath: string): string {
    return hashFileSync(absPath, this.VERSION_HASH_ALGORITHM);
  }

  /** The cached version of a file, computing it (streamed, shared by concurrent requests) once. */
  static cachedVersionAsync(absPath: string): Promise<string | null> {
    const { versions, pending } = cacheOf(this);
    if (versions.has(absPath)) return Promise.resolve(versions.get(absPath) ?? null);
    let p = pending.get(absPath);
    if (p === undefined) {
      p = this.getContentVersion(absPath)
        .catch(() => null)
        .then((v) => {
          pending.delete(absPath);
          versions.set(absPath, v);
          return v;
        });
      pending.set(absPath, p);
    }
    return p;
  }

  /** The cached version of a file, computing it synchronously once. */
  static cachedVersionSync(absPath: string): string | null {
    const { versions } = cacheOf(this);
    if (versions.has(absPath)) return versions.get(absPath) ?? null;
    let v: string | null;
    try {
      v = this.getContentVersionSync(absPath);
    } catch {
      v = null;
    }
    versions.set(absPath, v);
    return v;
  }

  /**
   * The version string of a static file (its content hash), or null when it
   * cannot be read.
   * @throws {VesperError} `VESPER_WEB_SETTING_REQUIRED` without `staticPath`.
   */
  static getVersion(settings: ApplicationSettings, path: string): string | null {
    if (settings.staticPath === undefined) {
      throw new VesperError(
        'VESPER_WEB_SETTING_REQUIRED',
        "You must define the 'staticPath' setting in your application to use static URLs.",
      );
    }
    return this.cachedVersionSync(this.getAbsolutePath(settings.staticPath, path));
  }

  /**
   * The URL of a static file: `<staticUrlPrefix><path>?v=<version>` (without
   * `?v=` when `includeVersion` is false or the file cannot be read).
   * @throws {VesperError} `VESPER_WEB_SETTING_REQUIRED` without `staticPath`.
   */
  static makeStaticUrl(settings: ApplicationSettings, path: string, includeVersion = true): string {
    const url = (settings.staticUrlPrefix ?? '/static/') + path;
    if (!includeVersion) return url;
    const version = this.getVersion(settings, path);
    return version === null ? url : `${url}?v=${version}`;
  }

  /** Turns the path from the URL into a path relative to the root (identity on POSIX). */
  parseUrlPath(urlPath: string): string {
    return sep === '/' ? urlPath : urlPath.replaceAll('/', sep);
  }

  /** A strong ETag from the content version, or null when it could not be computed. */
  override computeEtag(): string | null {
    return this.#version === null ? null : `"${this.#version}"`;
  }

  /** The file's size in bytes. */
  getContentSize(): number {
    return this.#stat?.size ?? 0;
  }

  /** The file's modification time, truncated to whole seconds. */
  getModifiedTime(): Date | undefined {
    if (this.#stat === undefined) return undefined;
    return new Date(Math.floor(this.#stat.mtimeMs / 1000) * 1000);
  }

  /**
   * The `Content-Type`: from the file name; a gzip-compressed file is
   * `application/gzip`, another compression or an unknown type
   * `application/octet-stream`; text types get `; charset=UTF-8`.
   */
  getContentType(): string {
    const [type, encoding] = guessMimeType(this.absolutePath ?? this.path);
    if (encoding === 'gzip') return 'application/gzip';
    if (encoding !== undefined || type === undefined) return 'application/octet-stream';
    if (type.startsWith('text/')) return `${type}; charset=UTF-8`;
    return type;
  }

  /**
   * Seconds a client may cache the file: {@link CACHE_MAX_AGE} when the request
   * has a `v` argument (a versioned URL), else 0 (no cache headers).
   */
  getCacheTime(_path: string, _modified: Date | undefined, _mimeType: string): number {
    return Object.hasOwn(this.request.arguments, 'v')
      ? (this.constructor as typeof StaticFileHandler).CACHE_MAX_AGE
      : 0;
  }

  /** A hook for more headers; does nothing by default. */
  setExtraHeaders(_path: string): void {}
}
