/** @module A cursor over a template's source that counts lines as it consumes text. */
import { ParseError } from './parse-error.js';
import type { WhitespaceMode } from './whitespace.js';

/**
 * Reads a template's source front to back. Offsets passed to {@link find} and
 * {@link at} are relative to the current position, as in Tornado's
 * `_TemplateReader`; {@link line} is the 1-based line of the position.
 */
export class TemplateReader {
  /** The template's name, used in parse errors. */
  readonly name: string;
  /** The whitespace mode text read from here on is filtered with. */
  whitespace: WhitespaceMode;
  /** The 1-based line the reader is on. */
  line = 1;
  readonly #text: string;
  #pos = 0;

  constructor(name: string, text: string, whitespace: WhitespaceMode) {
    this.name = name;
    this.#text = text;
    this.whitespace = whitespace;
  }

  /** The offset of `needle` at or after relative offset `start`, or -1. */
  find(needle: string, start = 0): number {
    const index = this.#text.indexOf(needle, this.#pos + start);
    return index === -1 ? -1 : index - this.#pos;
  }

  /** Consumes `count` characters (all that remain by default) and returns them. */
  consume(count = this.remaining()): string {
    const end = this.#pos + count;
    const s = this.#text.slice(this.#pos, end);
    for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) this.line++;
    this.#pos = end;
    return s;
  }

  /** How many characters are left. */
  remaining(): number {
    return this.#text.length - this.#pos;
  }

  /** The character at relative offset `offset` (`''` past the end). */
  at(offset: number): string {
    return this.#text.charAt(this.#pos + offset);
  }

  /**
   * Throws a {@link ParseError} at the current line.
   *
   * @throws ParseError always.
   */
  raiseParseError(message: string): never {
    throw new ParseError(message, this.name, this.line);
  }
}
