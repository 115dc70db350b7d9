/**
 * @module Tornado's `httputil` for Vesper: request bodies parsed into arguments
 * and files, plus the header, query, cookie and date helpers it gathers.
 */
import type { HTTPHeaders } from './http-headers.js';
import {
  badBody,
  parseMultipartFormData,
  type FilesDict,
  type MultipartLimits,
} from './multipart.js';
import { parseQsBuffer, type ArgumentsDict } from './query-string.js';

export { HTTPHeaders } from './http-headers.js';
export {
  parseMultipartFormData,
  DEFAULT_MULTIPART_LIMITS,
  type HTTPFile,
  type FilesDict,
  type MultipartLimits,
} from './multipart.js';
export { parseHeaderParams } from './header-params.js';
export {
  parseQsBytes,
  urlConcat,
  quotePlus,
  type ArgumentsDict,
  type UrlArgs,
} from './query-string.js';
export { parseCookie } from './parse-cookie.js';
export { formatTimestamp, parseHttpDate } from './http-date.js';

/** Limits for {@link parseBodyArguments}; see {@link MultipartLimits}. */
export type BodyLimits = MultipartLimits;

/**
 * Parses a request body into `args` and `files` according to its content type,
 * like Tornado's `parse_body_arguments`. Only
 * `application/x-www-form-urlencoded` (values kept as bytes, blank values kept)
 * and `multipart/form-data` are read; any other type (JSON included) is left to
 * the handler and adds nothing.
 *
 * @throws {VesperError} `VESPER_WEB_BAD_BODY` (httpStatus 400) when the body has
 * a `Content-Encoding` (it must have been decoded before), when a multipart type
 * has no `boundary`, or when the multipart body is malformed or over `limits`
 * (see {@link parseMultipartFormData}). `args` and `files` are unchanged then.
 */
export function parseBodyArguments(
  contentType: string,
  body: Buffer,
  args: ArgumentsDict,
  files: FilesDict,
  headers?: HTTPHeaders,
  limits?: BodyLimits,
): void {
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    rejectEncoded(headers);
    parseQsBuffer(body, args);
  } else if (contentType.startsWith('multipart/form-data')) {
    rejectEncoded(headers);
    for (const field of contentType.split(';')) {
      const trimmed = field.trim();
      const eq = trimmed.indexOf('=');
      if (eq === -1) continue;
      const k = trimmed.slice(0, eq);
      const v = trimmed.slice(eq + 1);
      if (k === 'boundary' && v !== '') {
        parseMultipartFormData(v, body, args, files, limits);
        return;
      }
    }
    throw badBody('Invalid multipart/form-data: multipart boundary not found');
  }
}

function rejectEncoded(headers: HTTPHeaders | undefined): void {
  const encoding = headers?.get('Content-Encoding');
  if (encoding !== undefined) {
    throw badBody(`Unsupported Content-Encoding: ${encoding}`);
  }
}
