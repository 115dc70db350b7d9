/**
 * @module HTTPHeaders: Tornado's case-insensitive, multi-valued header map.
 */
import { VesperError } from '../shared/errors/index.js';

/** RFC 9110 `token`: the characters a header name may use. */
const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** RFC 9110 `field-value`: HTAB, SP, VCHAR and obs-text; no CR, LF or NUL. */
const FIELD_VALUE_RE = /^[\t\x20-\x7e\x80-\xff]*$/;
/**
 * Header text that was decoded from UTF-8 (multipart part headers) may hold any
 * character above DEL, but still no control character other than HTAB.
 */
// eslint-disable-next-line no-control-regex -- the point is to find control characters
const DECODED_FIELD_VALUE_RE = /^[^\x00-\x08\x0a-\x1f\x7f]*$/;
/** Python's `str.isspace()` set restricted to what HTTP calls whitespace. */
const HTTP_WHITESPACE = ' \t';

interface Entry {
  name: string;
  values: string[];
}

/**
 * Throws unless `name` is a valid header name (an RFC 9110 token).
 * @throws {VesperError} `VESPER_WEB_BAD_HEADER` naming the offending header.
 */
function checkName(name: string): void {
  if (!TOKEN_RE.test(name)) {
    throw new VesperError('VESPER_WEB_BAD_HEADER', `Invalid header name ${JSON.stringify(name)}`);
  }
}

/**
 * Throws unless `value` is a valid header value (no CR, LF, NUL or other controls).
 * @throws {VesperError} `VESPER_WEB_BAD_HEADER`.
 */
function checkValue(name: string, value: string, decoded = false): void {
  if (!(decoded ? DECODED_FIELD_VALUE_RE : FIELD_VALUE_RE).test(value)) {
    throw new VesperError('VESPER_WEB_BAD_HEADER', `Unsafe value for header ${name}`);
  }
}

function stripHttpWhitespace(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && HTTP_WHITESPACE.includes(s[start]!)) start++;
  while (end > start && HTTP_WHITESPACE.includes(s[end - 1]!)) end--;
  return s.slice(start, end);
}

/**
 * A case-insensitive dictionary of HTTP headers that keeps every value of a
 * repeated header, like Tornado's `HTTPHeaders`.
 *
 * `get()` joins repeated values with `,` (Tornado's `h[name]`), `getList()`
 * returns them one by one. Iteration yields `[name, value]` pairs in insertion
 * order, each name spelt as it was first added (or last `set`). Names and values
 * are validated on `add`/`set`: a name must be a token and a value must not hold
 * CR, LF, NUL or other control characters (header injection).
 */
export class HTTPHeaders implements Iterable<[string, string]> {
  #entries = new Map<string, Entry>();
  #lastKey: string | undefined;

  /**
   * Builds headers from plain pairs or a record.
   * @throws {VesperError} `VESPER_WEB_BAD_HEADER` for an invalid name or value.
   */
  constructor(init?: Iterable<readonly [string, string]> | Record<string, string>) {
    if (init === undefined) return;
    const pairs: Iterable<readonly [string, string]> =
      Symbol.iterator in init ? init : Object.entries(init);
    for (const [name, value] of pairs) this.add(name, value);
  }

  /**
   * Builds headers from Node's `IncomingMessage.rawHeaders` (`[name, value, ...]`).
   * Node's parser has already validated them, so they are taken as they are.
   */
  static fromNode(rawHeaders: readonly string[]): HTTPHeaders {
    const h = new HTTPHeaders();
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      h.#addUnchecked(rawHeaders[i]!, rawHeaders[i + 1]!);
    }
    return h;
  }

  /**
   * Parses a header block (`Name: value` lines separated by CRLF or LF; lines
   * starting with whitespace continue the previous header), as Tornado's
   * `HTTPHeaders.parse`.
   * @throws {VesperError} `VESPER_WEB_BAD_HEADER` for a line without a colon, a
   * continuation line first, an invalid name, or a value holding a bare CR or NUL.
   */
  static parse(text: string): HTTPHeaders {
    const h = new HTTPHeaders();
    for (const rawLine of text.split('\n')) {
      h.parseLine(rawLine);
    }
    return h;
  }

  /**
   * Like {@link HTTPHeaders.parse} for text decoded from UTF-8 (multipart part
   * headers): values may hold any character above DEL, names stay tokens.
   * @throws {VesperError} `VESPER_WEB_BAD_HEADER` as {@link HTTPHeaders.parse}.
   */
  static parseDecoded(text: string): HTTPHeaders {
    const h = new HTTPHeaders();
    for (const rawLine of text.split('\n')) {
      h.#parseLine(rawLine, true);
    }
    return h;
  }

  /**
   * Adds one header line (`Name: value`, or a continuation of the previous one).
   * A trailing CR is removed; an empty line is ignored.
   * @throws {VesperError} `VESPER_WEB_BAD_HEADER` as {@link HTTPHeaders.parse}.
   */
  parseLine(rawLine: string): void {
    this.#parseLine(rawLine, false);
  }

  #parseLine(rawLine: string, decoded: boolean): void {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line === '') return;
    if (HTTP_WHITESPACE.includes(line[0]!)) {
      const key = this.#lastKey;
      const entry = key === undefined ? undefined : this.#entries.get(key);
      if (entry === undefined) {
        throw new VesperError(
          'VESPER_WEB_BAD_HEADER',
          'The first header line cannot start with whitespace',
        );
      }
      const part = ' ' + stripHttpWhitespace(line);
      checkValue(entry.name, part, decoded);
      entry.values[entry.values.length - 1] += part;
      return;
    }
    const colon = line.indexOf(':');
    if (colon === -1) {
      throw new VesperError('VESPER_WEB_BAD_HEADER', 'A header line has no colon');
    }
    const name = line.slice(0, colon);
    const value = stripHttpWhitespace(line.slice(colon + 1));
    checkName(name);
    checkValue(name, value, decoded);
    this.#addUnchecked(name, value);
  }

  /**
   * Adds a value, keeping the ones already there.
   * @throws {VesperError} `VESPER_WEB_BAD_HEADER` for an invalid name or value.
   */
  add(name: string, value: string): void {
    checkName(name);
    checkValue(name, value);
    this.#addUnchecked(name, value);
  }

  #addUnchecked(name: string, value: string): void {
    const key = name.toLowerCase();
    this.#lastKey = key;
    const entry = this.#entries.get(key);
    if (entry === undefined) this.#entries.set(key, { name, values: [value] });
    else entry.values.push(value);
  }

  /**
   * Replaces every value of `name` with `value`.
   * @throws {VesperError} `VESPER_WEB_BAD_HEADER` for an invalid name or value.
   */
  set(name: string, value: string): void {
    checkName(name);
    checkValue(name, value);
    const key = name.toLowerCase();
    this.#lastKey = key;
    // Like assigning to a Python dict: an existing header keeps its position.
    const entry = this.#entries.get(key);
    if (entry === undefined) this.#entries.set(key, { name, values: [value] });
    else {
      entry.name = name;
      entry.values = [value];
    }
  }

  /** The values of `name` joined with `,`, or `undefined` when absent. */
  get(name: string): string | undefined {
    const entry = this.#entries.get(name.toLowerCase());
    if (entry === undefined) return undefined;
    return entry.values.length === 1 ? entry.values[0] : entry.values.join(',');
  }

  /** Every value of `name`, in order (a fresh array; empty when absent). */
  getList(name: string): string[] {
    const entry = this.#entries.get(name.toLowerCase());
    return entry === undefined ? [] : entry.values.slice();
  }

  /** True when `name` has at least one value. */
  has(name: string): boolean {
    return this.#entries.has(name.toLowerCase());
  }

  /** Removes every value of `name`; true when there was one. */
  delete(name: string): boolean {
    return this.#entries.delete(name.toLowerCase());
  }

  /** The distinct header names, as first spelt. */
  names(): string[] {
    return Array.from(this.#entries.values(), (e) => e.name);
  }

  /** The number of distinct header names. */
  get size(): number {
    return this.#entries.size;
  }

  /** A deep copy. */
  copy(): HTTPHeaders {
    const h = new HTTPHeaders();
    for (const [key, entry] of this.#entries) {
      h.#entries.set(key, { name: entry.name, values: entry.values.slice() });
    }
    return h;
  }

  /** Every `[name, value]` pair, a repeated header once per value (Tornado's `get_all`). */
  *getAll(): IterableIterator<[string, string]> {
    yield* this;
  }

  /**
   * `Name: value` lines, one per value, each ending in LF (Tornado's `str()`);
   * {@link HTTPHeaders.parse} reads them back.
   */
  toString(): string {
    let out = '';
    for (const [name, value] of this) out += `${name}: ${value}\n`;
    return out;
  }

  /** Iterates `[name, value]` pairs in insertion order, a repeated header once per value. */
  *[Symbol.iterator](): IterableIterator<[string, string]> {
    for (const entry of this.#entries.values()) {
      for (const value of entry.values) yield [entry.name, value];
    }
  }
}
