/**
 * @module A strict, resumable decoder of a chunked request body (RFC 9112 §7.1) that counts the body against its limit while it streams.
 *
 * ```
 *  SIZE ─hex─▶ SIZE ─;─▶ EXT ─CR─▶ SIZE_LF ─LF─▶ DATA (n bytes) ─▶ DATA_CR ─▶ DATA_LF ─▶ SIZE
 *                  └─────────CR──────┘      └─ size 0 ─▶ TRAILER (lines until an empty one) ─▶ DONE
 * ```
 */
import { badRequest, ProtocolError } from './protocol-error.js';

const enum State {
  Size,
  Ext,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  Trailer,
  TrailerLf,
  Done,
}

const MAX_SIZE_DIGITS = 15;
const MAX_EXT = 256;
const MAX_TRAILER = 4096;

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  return -1;
}

/**
 * Decodes one chunked body. Feed it bytes with {@link execute}; it hands the
 * body's data to the callback (slices of the input, never copies) and says
 * where the body ended.
 */
export class ChunkedDecoder {
  readonly #limit: number;
  #state = State.Size;
  #digits = 0;
  #size = 0;
  #remaining = 0;
  #total = 0;
  #ext = 0;
  #trailer = 0;
  #trailerLine = 0;

  /** @param limit Largest decoded body in bytes; more is answered 413. */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /** True once the last chunk and the trailer section have been read. */
  get done(): boolean {
    return this.#state === State.Done;
  }

  /** Decoded bytes so far. */
  get total(): number {
    return this.#total;
  }

  /**
   * Decodes `chunk` from `start`, calling `onData` with each piece of body
   * data. Returns the index just past the body when it ended in this chunk,
   * or -1 when every byte was taken and more are needed.
   *
   * @throws ProtocolError 400 for a malformed chunk size, extension, line end
   *   or trailer; 413 when the decoded body exceeds the limit.
   */
  execute(chunk: Buffer, start: number, onData: (data: Buffer) => void): number {
    let i = start;
    while (i < chunk.length) {
      const byte = chunk[i]!;
      switch (this.#state) {
        case State.Size: {
          const v = hexValue(byte);
          if (v >= 0) {
            if (++this.#digits > MAX_SIZE_DIGITS) throw this.#bad('The chunk size is too long.');
            this.#size = this.#size * 16 + v;
          } else if (this.#digits > 0 && byte === 0x3b) {
            this.#state = State.Ext;
          } else if (this.#digits > 0 && byte === 0x0d) {
            this.#state = State.SizeLf;
          } else throw this.#bad('The chunk size is not hexadecimal.');
          i++;
          break;
        }
        case State.Ext:
          // Extensions are ignored but must stay printable and short.
          if (byte === 0x0d) this.#state = State.SizeLf;
          else if (byte < 0x20 || byte === 0x7f || ++this.#ext > MAX_EXT) {
            throw this.#bad('A chunk extension is malformed.');
          }
          i++;
          break;
        case State.SizeLf:
          if (byte !== 0x0a) throw this.#bad('A chunk size line does not end in CRLF.');
          i++;
          if (this.#size === 0) {
            this.#state = State.Trailer;
            this.#trailerLine = 0;
          } else {
            if (this.#total + this.#size > this.#limit) {
              throw new ProtocolError(
                413,
                'VESPER_FRONTEND_BODY_TOO_LARGE',
                'The request body is too large.',
              );
            }
            this.#total += this.#size;
            this.#remaining = this.#size;
            this.#state = State.Data;
          }
          break;
        case State.Data: {
          const n = Math.min(this.#remaining, chunk.length - i);
          onData(chunk.subarray(i, i + n));
          i += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#state = State.DataCr;
          break;
        }
        case State.DataCr:
          if (byte !== 0x0d) throw this.#bad('Chunk data is not followed by CRLF.');
          this.#state = State.DataLf;
          i++;
          break;
        case State.DataLf:
          if (byte !== 0x0a) throw this.#bad('Chunk data is not followed by CRLF.');
          this.#state = State.Size;
          this.#size = 0;
          this.#digits = 0;
          this.#ext = 0;
          i++;
          break;
        case State.Trailer:
          if (++this.#trailer > MAX_TRAILER) throw this.#bad('The trailer section is too large.');
          if (byte === 0x0d) this.#state = State.TrailerLf;
          else if (byte === 0x0a || byte === 0x00) throw this.#bad('A trailer line is malformed.');
          else this.#trailerLine++;
          i++;
          break;
        case State.TrailerLf:
          if (byte !== 0x0a) throw this.#bad('A trailer line does not end in CRLF.');
          i++;
          if (this.#trailerLine === 0) {
            this.#state = State.Done;
            return i;
          }
          this.#trailerLine = 0;
          this.#state = State.Trailer;
          break;
        case State.Done:
          return i;
      }
    }
    return this.#state === State.Done ? i : -1;
  }

  #bad(message: string): ProtocolError {
    return badRequest('VESPER_FRONTEND_BAD_CHUNK', message);
  }
}
