/**
 * @module A resumable decoder of JSON lines: bytes in any chunking, one value per LF, with a line cap.
 */

/** The longest line the init socket accepts, LF excluded: 64 KiB. */
export const MAX_LINE_BYTES = 64 * 1024;

/** One decoded line: a JSON value, or why the line could not be used. */
export type DecodedLine =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: 'too-long' | 'bad-json' };

const LF = 0x0a;

/**
 * Splits a byte stream into lines and parses each as JSON. Chunks may split a
 * line (or a UTF-8 character) anywhere; bytes are joined before decoding. A
 * line longer than the cap is skipped up to its LF and reported once as
 * `too-long` (its bytes are not kept); a trailing CR is dropped.
 */
export class JsonLineDecoder {
  readonly #maxLine: number;
  #parts: Buffer[] = [];
  #size = 0;
  #overflow = false;

  /** `maxLine` is the cap in bytes (default {@link MAX_LINE_BYTES}). */
  constructor(maxLine: number = MAX_LINE_BYTES) {
    this.#maxLine = maxLine;
  }

  /** Bytes held of an unfinished line. */
  get pending(): number {
    return this.#size;
  }

  /** Feeds a chunk; returns the lines it completed, in order. */
  push(chunk: Buffer): DecodedLine[] {
    const out: DecodedLine[] = [];
    let start = 0;
    while (start < chunk.length) {
      const lf = chunk.indexOf(LF, start);
      const end = lf === -1 ? chunk.length : lf;
      this.#append(chunk.subarray(start, end));
      if (lf === -1) break;
      out.push(this.#finishLine());
      start = lf + 1;
    }
    return out;
  }

  #append(bytes: Buffer): void {
    if (bytes.length === 0 || this.#overflow) return;
    // A CR that may end the line is allowed one byte past the cap.
    if (this.#size + bytes.length > this.#maxLine + 1) {
      this.#overflow = true;
      this.#parts = [];
      this.#size = 0;
      return;
    }
    this.#parts.push(bytes);
    this.#size += bytes.length;
  }

  #finishLine(): DecodedLine {
    const overflow = this.#overflow;
    let line = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts, this.#size);
    this.#parts = [];
    this.#size = 0;
    this.#overflow = false;
    if (overflow) return { ok: false, error: 'too-long' };
    if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, -1);
    if (line.length > this.#maxLine) return { ok: false, error: 'too-long' };
    try {
      return { ok: true, value: JSON.parse(line.toString('utf8')) as unknown };
    } catch {
      return { ok: false, error: 'bad-json' };
    }
  }
}

/** Encodes one value as a JSON line (UTF-8, LF-terminated). */
export function encodeLine(value: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(value)}\n`, 'utf8');
}
