/**
 * @module The text fields of a form body, for echoing a lost POST back on the "session ended" page.
 */
import type { Readable } from 'node:stream';
import { parseBodyArguments, type ArgumentsDict, type FilesDict } from '../../../web/index.js';

/** Form bodies larger than this are not kept for echoing. */
export const ECHO_LIMIT = 1024 * 1024;

/** Fields never echoed: secrets and the XSRF token. */
const SECRET_NAME_RE = /pass|token|secret|key|_xsrf/i;

/** True when a body of this type may hold form fields worth echoing. */
export function isFormBody(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = contentType.toLowerCase();
  return (
    type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data')
  );
}

/**
 * The text fields of a form body as `[name, value]` pairs, in order, without
 * files and without fields whose names look secret. A body that does not
 * parse gives no fields.
 */
export function textFields(contentType: string, body: Buffer): [string, string][] {
  const args: ArgumentsDict = {};
  const files: FilesDict = {};
  try {
    parseBodyArguments(
      contentType.toLowerCase().startsWith('multipart/') ? contentType : contentType.toLowerCase(),
      body,
      args,
      files,
    );
  } catch {
    return [];
  }
  const out: [string, string][] = [];
  for (const [name, values] of Object.entries(args)) {
    if (SECRET_NAME_RE.test(name)) continue;
    for (const value of values) {
      const text = value.toString('utf8');
      if (text.trim() !== '') out.push([name, text]);
    }
  }
  return out;
}

/**
 * Keeps a copy of a body as it streams past (to whoever else reads it), up
 * to `limit` bytes, for echoing its fields if the session turns out to be gone.
 */
export class BodyCopy {
  readonly #parts: Buffer[] = [];
  #size = 0;
  #over = false;
  readonly #done: Promise<Buffer | null>;

  constructor(stream: Readable, limit: number) {
    this.#done = new Promise((resolve) => {
      let ended = false;
      stream.on('data', (chunk: Buffer) => {
        this.#size += chunk.length;
        if (this.#size > limit) {
          this.#over = true;
          this.#parts.length = 0;
        } else if (!this.#over) this.#parts.push(chunk);
      });
      stream.once('end', () => {
        ended = true;
        resolve(this.#over ? null : Buffer.concat(this.#parts));
      });
      stream.once('close', () => {
        if (!ended) resolve(null);
      });
    });
  }

  /** The whole body once it has been read (the stream must flow), or null when it was too large or failed. */
  whole(): Promise<Buffer | null> {
    return this.#done;
  }
}

/**
 * Reads a whole body up to `limit` bytes. Resolves with the bytes, or null
 * when the body is larger (the rest is read and dropped) or fails.
 */
export function readBody(stream: Readable, limit: number): Promise<Buffer | null> {
  return new BodyCopy(stream, limit).whole();
}
