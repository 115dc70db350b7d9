/**
 * @module parseMultipartFormData: a `multipart/form-data` body split into
 * arguments and uploaded files, with Tornado 6.5's strictness and limits.
 */
import { VesperError } from '../shared/errors/index.js';
import { HTTPHeaders } from './http-headers.js';
import { parseHeaderParams } from './header-params.js';
import type { ArgumentsDict } from './query-string.js';

/** One uploaded file, as Tornado's `HTTPFile`. */
export interface HTTPFile {
  /** The file name the client sent (RFC 2231 `filename*` decoded). */
  filename: string;
  /** The file's bytes. */
  body: Buffer;
  /** The part's `Content-Type`, `application/unknown` when it had none. */
  contentType: string;
}

/** Uploaded files by form field name. */
export type FilesDict = Record<string, HTTPFile[]>;

/** Limits on what a client can make the multipart parser do (Tornado's `ParseMultipartConfig`). */
export interface MultipartLimits {
  /** The most parts a body may have; default 100. */
  maxParts?: number;
  /** The most bytes the header block of one part may have; default 10 KiB. */
  maxPartHeaderBytes?: number;
}

/** Tornado 6.5.5's defaults. */
export const DEFAULT_MULTIPART_LIMITS: Readonly<Required<MultipartLimits>> = Object.freeze({
  maxParts: 100,
  maxPartHeaderBytes: 10 * 1024,
});

/**
 * The error for a request body the server cannot read: `VESPER_WEB_BAD_BODY`,
 * answered with 400.
 */
export function badBody(message: string, cause?: unknown): VesperError {
  return new VesperError('VESPER_WEB_BAD_BODY', message, { httpStatus: 400, cause });
}

const CRLF = Buffer.from('\r\n');
const CRLFCRLF = Buffer.from('\r\n\r\n');
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

function pushTo<T>(dict: Record<string, T[]>, key: string, value: T): void {
  const list = dict[key];
  if (list === undefined) dict[key] = [value];
  else list.push(value);
}

/**
 * Parses a `multipart/form-data` body into `args` (plain fields, as bytes) and
 * `files`, like Tornado's `parse_multipart_form_data`. The boundary may be
 * wrapped in double quotes. Everything before the last `--boundary--` is read;
 * anything after it is ignored. Part bodies are views into `data`, not copies.
 *
 * @throws {VesperError} `VESPER_WEB_BAD_BODY` (httpStatus 400) when there is no
 * final boundary, more than `maxParts` parts, a part without a header block or
 * with one over `maxPartHeaderBytes`, header lines that are not UTF-8 or not
 * valid headers (a bare CR, no colon), a part that is not `form-data` or does
 * not end in CRLF, or a part without a `name`. Nothing is added to `args` or
 * `files` when it throws.
 */
export function parseMultipartFormData(
  boundary: string | Buffer,
  data: Buffer,
  args: ArgumentsDict,
  files: FilesDict,
  limits: MultipartLimits = {},
): void {
  const maxParts = limits.maxParts ?? DEFAULT_MULTIPART_LIMITS.maxParts;
  const maxHeader = limits.maxPartHeaderBytes ?? DEFAULT_MULTIPART_LIMITS.maxPartHeaderBytes;
  let b = typeof boundary === 'string' ? Buffer.from(boundary, 'utf8') : boundary;
  // RFC 2046 allows a quoted boundary parameter (Google App Engine sends one).
  if (b.length >= 2 && b[0] === 0x22 && b[b.length - 1] === 0x22) b = b.subarray(1, -1);
  else if (b.length === 1 && b[0] === 0x22) b = b.subarray(1);

  const finalIndex = data.lastIndexOf(Buffer.concat([Buffer.from('--'), b, Buffer.from('--')]));
  if (finalIndex === -1) {
    throw badBody('Invalid multipart/form-data: no final boundary found');
  }
  const separator = Buffer.concat([Buffer.from('--'), b, CRLF]);
  const region = data.subarray(0, finalIndex);

  // Split on the separator, counting parts before doing any work on them.
  const parts: Buffer[] = [];
  let start = 0;
  for (;;) {
    const at = region.indexOf(separator, start);
    const end = at === -1 ? region.length : at;
    if (end > start) {
      parts.push(region.subarray(start, end));
      if (parts.length > maxParts) throw badBody('multipart/form-data has too many parts');
    }
    if (at === -1) break;
    start = at + separator.length;
  }

  // Parse everything first so that a bad part leaves args and files untouched.
  const newArgs: Array<[string, Buffer]> = [];
  const newFiles: Array<[string, HTTPFile]> = [];
  for (const part of parts) {
    const eoh = part.indexOf(CRLFCRLF);
    if (eoh === -1) throw badBody('multipart/form-data missing headers');
    if (eoh > maxHeader) throw badBody('multipart/form-data part header too large');
    let headers: HTTPHeaders;
    try {
      headers = HTTPHeaders.parseDecoded(utf8Strict.decode(part.subarray(0, eoh)));
    } catch (err) {
      throw badBody('Invalid multipart/form-data: bad part headers', err);
    }
    let disposition: string;
    let params: Record<string, string>;
    try {
      [disposition, params] = parseHeaderParams(headers.get('Content-Disposition') ?? '');
    } catch (err) {
      throw badBody('Invalid multipart/form-data: bad Content-Disposition', err);
    }
    if (disposition !== 'form-data' || !part.subarray(-2).equals(CRLF)) {
      throw badBody('Invalid multipart/form-data');
    }
    const value = part.subarray(eoh + 4, part.length - 2);
    const name = params['name'];
    if (name === undefined || name === '') {
      throw badBody('multipart/form-data value missing name');
    }
    const filename = params['filename'];
    if (filename !== undefined && filename !== '') {
      newFiles.push([
        name,
        {
          filename,
          body: value,
          contentType: headers.get('Content-Type') ?? 'application/unknown',
        },
      ]);
    } else {
      newArgs.push([name, value]);
    }
  }
  for (const [name, value] of newArgs) pushTo(args, name, value);
  for (const [name, file] of newFiles) pushTo(files, name, file);
}
