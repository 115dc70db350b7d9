/**
 * @module Follows WebSocket frame boundaries (RFC 6455 §5.2) in a relayed byte stream, so a close frame can be slipped in between two frames.
 */

/** A close frame from a server: FIN + opcode 8, payload = status 1001 (Going Away). */
export const CLOSE_GOING_AWAY: Buffer = Buffer.from([0x88, 0x02, 0x03, 0xe9]);

/**
 * Tracks where frames start in one direction of a WebSocket connection. It
 * only reads frame headers (2 to 14 bytes) and counts payload bytes; the
 * data itself passes untouched.
 */
export class FrameBoundary {
  readonly #header = Buffer.alloc(14);
  #headerLength = 0;
  #need = 2;
  #payload = 0;
  #inFrame = false;

  /** True when the bytes seen so far end exactly between two frames. */
  get atBoundary(): boolean {
    return !this.#inFrame;
  }

  /**
   * Consumes `chunk` from `from` up to the first frame boundary and returns
   * its index (`from` itself when already between frames), or -1 when the
   * chunk ends inside a frame (everything was consumed).
   */
  nextBoundary(chunk: Buffer, from: number): number {
    let i = from;
    if (!this.#inFrame) return i;
    while (i < chunk.length) {
      if (this.#headerLength === 0 && this.#payload > 0) {
        const n = Math.min(this.#payload, chunk.length - i);
        this.#payload -= n;
        i += n;
        if (this.#payload === 0) {
          this.#inFrame = false;
          return i;
        }
        continue;
      }
      this.#header[this.#headerLength++] = chunk[i++]!;
      if (this.#headerLength === 2) {
        const len7 = this.#header[1]! & 0x7f;
        this.#need =
          2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (this.#header[1]! & 0x80 ? 4 : 0);
      }
      if (this.#headerLength >= 2 && this.#headerLength === this.#need) {
        const len7 = this.#header[1]! & 0x7f;
        this.#payload =
          len7 === 126
            ? this.#header.readUInt16BE(2)
            : len7 === 127
              ? Number(this.#header.readBigUInt64BE(2))
              : len7;
        this.#headerLength = 0;
        this.#need = 2;
        if (this.#payload === 0) {
          this.#inFrame = false;
          return i;
        }
      }
    }
    return -1;
  }

  /** Consumes all of `chunk`, keeping track of the frame in progress. */
  skip(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (!this.#inFrame) this.#inFrame = true;
      const b = this.nextBoundary(chunk, i);
      if (b < 0) return;
      i = b;
    }
  }
}
