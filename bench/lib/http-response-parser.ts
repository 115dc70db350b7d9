/**
 * @module A resumable HTTP/1.x response parser for the load generator: fed
 * chunks as they arrive, it reports each complete response (status, headers,
 * body size, whether the connection stays open) without assuming anything
 * about where the chunks split.
 */
import { VesperError } from '../../src/shared/errors/index.js';

/** One complete response. */
export interface ParsedResponse {
  /** The status code (never 1xx: interim responses are skipped). */
  status: number;
  /** Header names lower-cased, in arrival order; repeated names keep each value. */
  headers: [name: string, value: string][];
  /** Body size in bytes (after removing chunked framing). */
  bodyBytes: number;
  /** The body itself, when the parser was made with `keepBody`. */
  body: Buffer | null;
  /** False when the server will close the connection after this response. */
  keepAlive: boolean;
}

/*
 *   HEAD ──(blank line)──▶ BODY_LENGTH ─────────────────────────────▶ HEAD
 *     │                 ├─▶ CHUNK_SIZE ─▶ CHUNK_DATA ─▶ CHUNK_CRLF ─┐
 *     │                 │       ▲ └─(size 0)─▶ TRAILERS ─▶ HEAD      │
 *     │                 │       └───────────────────────────────────┘
 *     │                 └─▶ UNTIL_CLOSE ─(end())─▶ done
 *     └─(1xx, 204, 304: no body)─▶ HEAD
 */
const enum State {
  HEAD,
  BODY_LENGTH,
  CHUNK_SIZE,
  CHUNK_DATA,
  CHUNK_CRLF,
  TRAILERS,
  UNTIL_CLOSE,
}

const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');
/** Longest header block or chunk-size line accepted, in bytes. */
const MAX_LINE = 64 * 1024;

function malformed(message: string): VesperError {
  return new VesperError('VESPER_BENCH_BAD_RESPONSE', message);
}

/**
 * Parses a stream of HTTP/1.x responses to requests that are not `HEAD`.
 * `push()` each received chunk, `end()` at end of stream.
 */
export class HttpResponseParser {
  readonly #onResponse: (response: ParsedResponse) => void;
  readonly #keepBody: boolean;
  #state = State.HEAD;
  /** Bytes received but not yet consumed (a partial header block or line). */
  #pending: Buffer = Buffer.alloc(0);
  #status = 0;
  #headers: [string, string][] = [];
  #keepAlive = true;
  #remaining = 0;
  #bodyBytes = 0;
  #bodyParts: Buffer[] = [];

  /**
   * @param onResponse called once per complete response, in order.
   * @param options `keepBody` keeps each body's bytes in `ParsedResponse.body`.
   */
  constructor(
    onResponse: (response: ParsedResponse) => void,
    options: { keepBody?: boolean } = {},
  ) {
    this.#onResponse = onResponse;
    this.#keepBody = options.keepBody ?? false;
  }

  /** True between responses (nothing of a next response received yet). */
  get idle(): boolean {
    return this.#state === State.HEAD && this.#pending.length === 0;
  }

  /**
   * Consumes `chunk`, reporting every response it completes.
   * @throws VesperError `VESPER_BENCH_BAD_RESPONSE` on a malformed response;
   * the parser is unusable afterwards.
   */
  push(chunk: Buffer): void {
    let data = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    this.#pending = Buffer.alloc(0);
    while (data.length > 0) {
      switch (this.#state) {
        case State.HEAD: {
          const end = data.indexOf(HEAD_END);
          if (end < 0) return this.#keep(data, 'header block');
          this.#parseHead(data.subarray(0, end).toString('latin1'));
          data = data.subarray(end + HEAD_END.length);
          break;
        }
        case State.BODY_LENGTH: {
          const n = Math.min(this.#remaining, data.length);
          this.#body(data.subarray(0, n));
          this.#remaining -= n;
          data = data.subarray(n);
          if (this.#remaining === 0) this.#complete();
          break;
        }
        case State.CHUNK_SIZE: {
          const end = data.indexOf(CRLF);
          if (end < 0) return this.#keep(data, 'chunk-size line');
          const line = data.subarray(0, end).toString('latin1');
          const hex = line.split(';', 1)[0]!.trim();
          if (!/^[0-9A-Fa-f]{1,12}$/.test(hex)) throw malformed(`bad chunk size '${line}'`);
          this.#remaining = parseInt(hex, 16);
          this.#state = this.#remaining === 0 ? State.TRAILERS : State.CHUNK_DATA;
          data = data.subarray(end + CRLF.length);
          break;
        }
        case State.CHUNK_DATA: {
          const n = Math.min(this.#remaining, data.length);
          this.#body(data.subarray(0, n));
          this.#remaining -= n;
          data = data.subarray(n);
          if (this.#remaining === 0) this.#state = State.CHUNK_CRLF;
          break;
        }
        case State.CHUNK_CRLF: {
          if (data.length < 2) return this.#keep(data, 'chunk end');
          if (data[0] !== 0x0d || data[1] !== 0x0a)
            throw malformed('chunk data not followed by CRLF');
          this.#state = State.CHUNK_SIZE;
          data = data.subarray(2);
          break;
        }
        case State.TRAILERS: {
          const end = data.indexOf(CRLF);
          if (end < 0) return this.#keep(data, 'trailer line');
          data = data.subarray(end + CRLF.length);
          // An empty line ends the trailers (and the response).
          if (end === 0) this.#complete();
          break;
        }
        case State.UNTIL_CLOSE:
          this.#body(data);
          data = data.subarray(data.length);
          break;
      }
    }
  }

  /**
   * Signals the end of the stream: completes a body delimited by the close.
   * @throws VesperError `VESPER_BENCH_BAD_RESPONSE` when the stream ends inside
   * any other part of a response.
   */
  end(): void {
    if (this.#state === State.UNTIL_CLOSE) {
      this.#complete();
      return;
    }
    if (!this.idle) throw malformed('the connection closed in the middle of a response');
  }

  #keep(data: Buffer, what: string): void {
    if (data.length > MAX_LINE) throw malformed(`${what} longer than ${MAX_LINE} bytes`);
    // Copy: the caller may reuse the chunk's memory.
    this.#pending = Buffer.from(data);
  }

  #parseHead(text: string): void {
    const lines = text.split('\r\n');
    const m = /^HTTP\/1\.([01]) (\d{3})(?: .*)?$/.exec(lines[0] ?? '');
    if (m === null) throw malformed(`bad status line '${lines[0] ?? ''}'`);
    const http10 = m[1] === '0';
    const status = Number(m[2]);
    const headers: [string, string][] = [];
    let length: number | null = null;
    let chunked = false;
    let connection = '';
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon <= 0) throw malformed(`bad header line '${line}'`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers.push([name, value]);
      if (name === 'content-length') {
        if (!/^\d{1,15}$/.test(value) || (length !== null && length !== Number(value)))
          throw malformed(`bad Content-Length '${value}'`);
        length = Number(value);
      } else if (name === 'transfer-encoding') {
        chunked = value.toLowerCase().split(',').pop()?.trim() === 'chunked';
      } else if (name === 'connection') {
        connection += `,${value.toLowerCase()}`;
      }
    }
    if (status < 200) return; // 1xx interim response: the real one follows.
    const tokens = connection.split(',').map((t) => t.trim());
    this.#status = status;
    this.#headers = headers;
    this.#keepAlive = http10 ? tokens.includes('keep-alive') : !tokens.includes('close');
    this.#bodyBytes = 0;
    this.#bodyParts = [];
    if (status === 204 || status === 304) {
      this.#complete();
    } else if (chunked) {
      this.#state = State.CHUNK_SIZE;
    } else if (length !== null) {
      this.#remaining = length;
      this.#state = State.BODY_LENGTH;
      if (length === 0) this.#complete();
    } else {
      this.#keepAlive = false;
      this.#state = State.UNTIL_CLOSE;
    }
  }

  #body(part: Buffer): void {
    this.#bodyBytes += part.length;
    if (this.#keepBody) this.#bodyParts.push(Buffer.from(part));
  }

  #complete(): void {
    const response: ParsedResponse = {
      status: this.#status,
      headers: this.#headers,
      bodyBytes: this.#bodyBytes,
      body: this.#keepBody ? Buffer.concat(this.#bodyParts) : null,
      keepAlive: this.#keepAlive,
    };
    this.#state = State.HEAD;
    this.#bodyParts = [];
    this.#onResponse(response);
  }
}
