/**
 * @module A strict, resumable scanner for one HTTP/1.x request head (request line and header fields), fed chunk by chunk.
 *
 * ```
 *            ┌──────── byte ────────┐
 *            ▼                      │
 *   LINE ──CR──▶ LINE_CR ──LF──▶ end of line ──┬─ request line parsed ──▶ LINE
 *     │             │                          ├─ header field parsed  ──▶ LINE
 *     │             └─ anything else: 400       └─ empty line           ──▶ DONE (head)
 *     ├─ LF without CR: 400 (bare LF)
 *     ├─ NUL: 400
 *     └─ too long: 414 (request line) / 431 (header block)
 * ```
 *
 * Only the bytes the client sent are judged, before anything else reads them:
 * CRLF line ends only, no NUL, no bare CR or LF, no obs-fold, no whitespace
 * before a colon, header names are RFC 9110 tokens without `_`, values hold
 * no control character but HTAB. The semantic checks (Host, Content-Length,
 * Transfer-Encoding) follow once the head is complete (`interpretHead`).
 */
import { badRequest, ProtocolError } from './protocol-error.js';
import { interpretHead, type RequestHead } from './request-head.js';

/** Limits of one request head, in bytes. */
export interface HeadLimits {
  /** Longest request line (without its CRLF); longer is answered 414. */
  readonly requestLine: number;
  /** Largest header block (every field line with its CRLF, and the final CRLF); larger is answered 431. */
  readonly headers: number;
  /** Most header fields; more is answered 431. Default 100. */
  readonly maxFields?: number;
}

/** What {@link RequestHeadParser.execute} found in a chunk. */
export type HeadScan =
  | { readonly kind: 'incomplete' }
  | {
      readonly kind: 'head';
      readonly head: RequestHead;
      /** Index in the chunk just past the head (the body or the next request starts there). */
      readonly end: number;
    };

const CR = 0x0d;
const LF = 0x0a;
const NUL = 0x00;

// RFC 9110 §5.6.2 tchar, minus `_` for header names (DESIGN.md §5: a name with
// `_` can collide with a `-` name after CGI-style normalisation upstream).
const METHOD_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_NAME_RE = /^[!#$%&'*+\-.^`|~0-9A-Za-z]+$/;
// VCHAR, SP, HTAB and obs-text; no other control character.
// eslint-disable-next-line no-control-regex -- the point is to find control characters
const FIELD_VALUE_BAD_RE = /[\x00-\x08\x0a-\x1f\x7f]/;
const TARGET_RE = /^[\x21-\x7e]+$/;
const VERSION_RE = /^HTTP\/([0-9])\.([0-9])$/;

const enum State {
  Line,
  LineCr,
  Done,
}

/**
 * Scans one request head at a time. Feed it chunks with {@link execute} until
 * it returns a head; after that call {@link reset} before the next request.
 * It throws a {@link ProtocolError} (with the status to answer) at the first
 * byte that makes the request unacceptable, whatever the chunking.
 */
export class RequestHeadParser {
  readonly #limits: Required<HeadLimits>;
  #state = State.Line;
  #parts: Buffer[] = [];
  #lineLength = 0;
  #requestLine: string | null = null;
  #headerBytes = 0;
  #leadingEmpty = 0;
  #fields: [string, string][] = [];

  constructor(limits: HeadLimits) {
    this.#limits = { maxFields: 100, ...limits };
  }

  /** True once at least one byte of the current head has been seen. */
  get started(): boolean {
    return this.#lineLength > 0 || this.#requestLine !== null || this.#leadingEmpty > 0;
  }

  /** Forgets the current head, ready for the next request on the connection. */
  reset(): void {
    this.#state = State.Line;
    this.#parts = [];
    this.#lineLength = 0;
    this.#requestLine = null;
    this.#headerBytes = 0;
    this.#leadingEmpty = 0;
    this.#fields = [];
  }

  /**
   * Scans `chunk` from `start`. Returns `incomplete` when every byte was taken
   * and more are needed, or the head and the index just past it.
   *
   * @throws ProtocolError 400 for malformed input, 414 for a request line over
   *   the limit, 431 for a header block over the limit, 501 for an unknown
   *   method, 505 for an HTTP version other than 1.0 and 1.1.
   */
  execute(chunk: Buffer, start = 0): HeadScan {
    if (this.#state === State.Done) throw new Error('RequestHeadParser: reset() before reuse');
    let lineStart = start;
    // The longest the current line may grow before its limit is exceeded.
    let room = this.#room();
    for (let i = start; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (this.#state === State.LineCr) {
        if (byte !== LF) throw badRequest('VESPER_FRONTEND_BARE_CR', 'A CR not followed by LF.');
        this.#state = State.Line;
        const line = this.#takeLine(chunk, lineStart, i - 1);
        lineStart = i + 1;
        const head = this.#endOfLine(line);
        if (head !== null) {
          this.#state = State.Done;
          return { kind: 'head', head, end: i + 1 };
        }
        room = this.#room();
        continue;
      }
      if (byte === CR) {
        this.#state = State.LineCr;
        continue;
      }
      if (byte === LF) throw badRequest('VESPER_FRONTEND_BARE_LF', 'A line ends in LF without CR.');
      if (byte === NUL)
        throw badRequest('VESPER_FRONTEND_NUL', 'The request head holds a NUL byte.');
      if (++this.#lineLength > room) this.#tooLong();
    }
    // Keep the unfinished line (without a pending CR, which is not content).
    const end = this.#state === State.LineCr ? chunk.length - 1 : chunk.length;
    if (end > lineStart) this.#parts.push(Buffer.from(chunk.subarray(lineStart, end)));
    return { kind: 'incomplete' };
  }

  /** How long the current line may be: the request line's limit, or what the header block has left. */
  #room(): number {
    return this.#requestLine === null
      ? this.#limits.requestLine
      : this.#limits.headers - this.#headerBytes - 2;
  }

  /** The current line went past {@link #room}. */
  #tooLong(): never {
    if (this.#requestLine === null) {
      throw new ProtocolError(414, 'VESPER_FRONTEND_URI_TOO_LONG', 'The request line is too long.');
    }
    throw new ProtocolError(
      431,
      'VESPER_FRONTEND_HEADERS_TOO_LARGE',
      'The header block is too large.',
    );
  }

  /** The line ending before the CR at `crIndex` (its earlier parts were saved by previous chunks). */
  #takeLine(chunk: Buffer, lineStart: number, crIndex: number): string {
    let text: string;
    if (this.#parts.length === 0) {
      text = chunk.toString('latin1', lineStart, Math.max(crIndex, lineStart));
    } else {
      if (crIndex > lineStart) this.#parts.push(chunk.subarray(lineStart, crIndex));
      text = Buffer.concat(this.#parts).toString('latin1');
      this.#parts = [];
    }
    this.#lineLength = 0;
    return text;
  }

  #endOfLine(line: string): RequestHead | null {
    if (this.#requestLine === null) {
      if (line === '') {
        // RFC 9112 §2.2: ignore at least one empty line before the request line.
        if (++this.#leadingEmpty > 2) {
          throw badRequest('VESPER_FRONTEND_EMPTY_LINES', 'Too many empty lines before a request.');
        }
        return null;
      }
      this.#requestLine = line;
      return null;
    }
    this.#headerBytes += line.length + 2;
    if (line === '') return this.#finish();
    if (line.charCodeAt(0) === 0x20 || line.charCodeAt(0) === 0x09) {
      throw badRequest('VESPER_FRONTEND_OBS_FOLD', 'A header field is folded (obs-fold).');
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw badRequest('VESPER_FRONTEND_BAD_HEADER', 'A header line has no name.');
    const name = line.slice(0, colon);
    if (!FIELD_NAME_RE.test(name)) {
      throw badRequest(
        name.includes('_') ? 'VESPER_FRONTEND_UNDERSCORE_HEADER' : 'VESPER_FRONTEND_BAD_HEADER',
        name.includes('_')
          ? 'A header name holds an underscore.'
          : 'A header name is not a token (or has whitespace before its colon).',
      );
    }
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (FIELD_VALUE_BAD_RE.test(value)) {
      throw badRequest('VESPER_FRONTEND_BAD_HEADER', 'A header value holds a control character.');
    }
    if (this.#fields.length >= this.#limits.maxFields) {
      throw new ProtocolError(431, 'VESPER_FRONTEND_HEADERS_TOO_LARGE', 'Too many header fields.');
    }
    this.#fields.push([name, value]);
    return null;
  }

  #finish(): RequestHead {
    const line = this.#requestLine!;
    const first = line.indexOf(' ');
    const second = first < 0 ? -1 : line.indexOf(' ', first + 1);
    if (first <= 0 || second < 0 || line.indexOf(' ', second + 1) >= 0) {
      throw badRequest('VESPER_FRONTEND_BAD_REQUEST_LINE', 'The request line is malformed.');
    }
    const method = line.slice(0, first);
    const target = line.slice(first + 1, second);
    const versionText = line.slice(second + 1);
    if (!METHOD_RE.test(method) || !TARGET_RE.test(target)) {
      throw badRequest('VESPER_FRONTEND_BAD_REQUEST_LINE', 'The request line is malformed.');
    }
    const v = VERSION_RE.exec(versionText);
    if (v === null) {
      throw badRequest('VESPER_FRONTEND_BAD_REQUEST_LINE', 'The request line is malformed.');
    }
    if (v[1] !== '1' || (v[2] !== '0' && v[2] !== '1')) {
      throw new ProtocolError(
        505,
        'VESPER_FRONTEND_VERSION',
        `HTTP/${v[1]}.${v[2]} is not supported.`,
      );
    }
    return interpretHead(method, target, v[2] === '1' ? '1.1' : '1.0', this.#fields);
  }
}
