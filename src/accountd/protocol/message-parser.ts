/**
 * @module The resumable parser of accountd messages (commands and replies
 * alike): bytes in, whole messages or errors out, whatever the chunking.
 *
 * ```
 *            byte 0x21..0x7E          SP               CR        LF
 *   ┌─────▶ LINE ───────▶ (token grows) ──▶ (token ends) ──▶ CR ──▶ message ends
 *   │        │                                              │
 *   │        │ token `{n}` then CRLF                        │ not LF: line is bad
 *   │        ▼                                              ▼
 *   │     LITERAL (n bytes, raw) ──▶ AFTER_LITERAL ── SP ──▶ LINE (next token)
 *   │                                     │ CRLF
 *   └─────────────────────────────────────┘ message ends
 *
 *   literal too large ──▶ DEAD (fatal: the peer already sent bytes we will not read)
 * ```
 *
 * A malformed line is reported once, at its LF, and parsing resumes at the
 * next line; only an oversized literal is fatal, because the bytes that follow
 * it can no longer be told apart from commands.
 */

/** Limits the parser enforces, in bytes. */
export interface ParserLimits {
  /** The longest line, counting every byte outside literals (CRLFs included). */
  line: number;
  /** The most literal bytes in one message, all literals together. */
  literal: number;
}

/** A malformed-input category; the reply's BAD reason. */
export type ParseErrorCode = 'SYNTAX' | 'LINE' | 'LITERAL';

/** What {@link MessageParser.push} yields, in input order. */
export type ParseEvent =
  | { type: 'message'; tokens: string[] }
  | { type: 'error'; code: ParseErrorCode; message: string; fatal: boolean };

const enum State {
  LINE,
  CR,
  LITERAL,
  AFTER_LITERAL,
  AFTER_LITERAL_CR,
  DEAD,
}

const SP = 0x20;
const CR = 0x0d;
const LF = 0x0a;
const LITERAL_SPEC = /^\{(\d{1,12})\}$/;
const decoder = new TextDecoder('utf-8', { fatal: true });

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** Decodes one on-the-line token, or returns an error message. */
function decodeToken(raw: string): { value: string } | { error: string } {
  if (raw.includes('{') || raw.includes('}')) return { error: 'a brace outside a literal' };
  if (!raw.includes('%')) return { value: raw };
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c !== 0x25) {
      bytes.push(c);
      continue;
    }
    const hi = hexValue(raw.charCodeAt(i + 1));
    const lo = hexValue(raw.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) return { error: 'a % not followed by two hex digits' };
    bytes.push(hi * 16 + lo);
    i += 2;
  }
  try {
    return { value: decoder.decode(Uint8Array.from(bytes)) };
  } catch {
    return { error: 'a token that is not valid UTF-8' };
  }
}

/**
 * Parses a byte stream of accountd messages. Feed it chunks with
 * {@link MessageParser.push}; it keeps its state between calls, so any
 * split of the input gives the same events.
 */
export class MessageParser {
  readonly #limits: ParserLimits;
  #state: State = State.LINE;
  #tokens: string[] = [];
  #raw = '';
  #lineBytes = 0;
  #literalBytes = 0;
  #literalLeft = 0;
  #literalParts: Buffer[] = [];
  #bad: { code: ParseErrorCode; message: string } | undefined;
  #pendingLiteral = false;

  constructor(limits: ParserLimits) {
    this.#limits = limits;
  }

  /** True once a fatal error was reported; every later byte is ignored. */
  get dead(): boolean {
    return this.#state === State.DEAD;
  }

  /** True when no message is partly received (a clean place to stop). */
  get idle(): boolean {
    return this.#state === State.LINE && this.#lineBytes === 0;
  }

  /** Consumes `chunk` and returns the messages and errors it completed. */
  push(chunk: Uint8Array): ParseEvent[] {
    const events: ParseEvent[] = [];
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      switch (this.#state) {
        case State.DEAD:
          return events;
        case State.LITERAL: {
          const take = Math.min(this.#literalLeft, n - i);
          this.#literalParts.push(Buffer.from(chunk.subarray(i, i + take)));
          this.#literalLeft -= take;
          i += take;
          if (this.#literalLeft === 0) this.#endLiteral();
          continue;
        }
        case State.AFTER_LITERAL: {
          const b = chunk[i++]!;
          this.#count(1);
          if (b === SP) this.#state = State.LINE;
          else if (b === CR) this.#state = State.AFTER_LITERAL_CR;
          else if (b === LF) this.#endLine(events, 'a bare LF');
          else {
            this.#fail('SYNTAX', 'a literal not followed by a space or CRLF');
            this.#state = State.LINE;
          }
          continue;
        }
        case State.CR:
        case State.AFTER_LITERAL_CR: {
          const b = chunk[i]!;
          if (b === LF) {
            i++;
            this.#count(1);
            this.#endLine(events, undefined);
          } else {
            this.#fail('SYNTAX', 'a CR not followed by LF');
            this.#state = State.LINE;
          }
          continue;
        }
        case State.LINE: {
          const b = chunk[i++]!;
          this.#count(1);
          if (b > SP && b < 0x7f) {
            if (this.#bad === undefined) this.#raw += String.fromCharCode(b);
          } else if (b === SP) {
            this.#endToken(false);
          } else if (b === CR) {
            this.#state = State.CR;
            const literal = this.#endToken(true);
            if (literal === undefined) continue;
            if (this.#literalBytes + literal > this.#limits.literal) {
              this.#state = State.DEAD;
              events.push({
                type: 'error',
                code: 'LITERAL',
                message: `a literal larger than ${this.#limits.literal} bytes`,
                fatal: true,
              });
              return events;
            }
            // LITERAL starts after the LF that must follow `{n}` CR.
            this.#literalLeft = literal;
            this.#pendingLiteral = true;
          } else if (b === LF) {
            this.#endLine(events, 'a bare LF');
          } else {
            this.#fail('SYNTAX', `a byte 0x${b.toString(16).padStart(2, '0')} outside a literal`);
          }
          continue;
        }
      }
    }
    return events;
  }

  #count(bytes: number): void {
    this.#lineBytes += bytes;
    if (this.#lineBytes > this.#limits.line && this.#bad?.code !== 'LINE') {
      this.#bad = { code: 'LINE', message: `a line longer than ${this.#limits.line} bytes` };
      this.#raw = '';
    }
  }

  #fail(code: ParseErrorCode, message: string): void {
    this.#bad ??= { code, message };
    this.#raw = '';
  }

  /** Ends the token in `#raw`; returns a literal's size when it was `{n}` before CRLF. */
  #endToken(atLineEnd: boolean): number | undefined {
    if (this.#bad !== undefined) return undefined;
    const raw = this.#raw;
    this.#raw = '';
    if (raw === '') {
      // An empty line ends with no token; anything else is a doubled or trailing space.
      if (!(atLineEnd && this.#tokens.length === 0)) this.#fail('SYNTAX', 'an empty token');
      return undefined;
    }
    if (raw.charCodeAt(0) === 0x7b) {
      const m = LITERAL_SPEC.exec(raw);
      if (m === null) this.#fail('SYNTAX', 'a malformed literal');
      else if (!atLineEnd) this.#fail('SYNTAX', 'a literal not followed by CRLF');
      else return Number(m[1]);
      return undefined;
    }
    const decoded = decodeToken(raw);
    if ('error' in decoded) this.#fail('SYNTAX', decoded.error);
    else this.#tokens.push(decoded.value);
    return undefined;
  }

  #endLiteral(): void {
    const bytes = Buffer.concat(this.#literalParts);
    this.#literalParts = [];
    try {
      this.#tokens.push(decoder.decode(bytes));
    } catch {
      this.#fail('SYNTAX', 'a literal that is not valid UTF-8');
    }
    this.#state = State.AFTER_LITERAL;
  }

  /** Ends a line at its LF: starts a literal, or completes the message. */
  #endLine(events: ParseEvent[], bareLf: string | undefined): void {
    if (bareLf !== undefined) this.#fail('SYNTAX', bareLf);
    if (this.#pendingLiteral && this.#bad === undefined) {
      this.#pendingLiteral = false;
      this.#literalBytes += this.#literalLeft;
      this.#state = State.LITERAL;
      if (this.#literalLeft === 0) this.#endLiteral();
      return;
    }
    if (this.#bad !== undefined) {
      events.push({
        type: 'error',
        code: this.#bad.code,
        message: this.#bad.message,
        fatal: false,
      });
    } else if (this.#tokens.length === 0) {
      events.push({ type: 'error', code: 'SYNTAX', message: 'an empty line', fatal: false });
    } else {
      events.push({ type: 'message', tokens: this.#tokens });
    }
    this.#reset();
  }

  #reset(): void {
    this.#state = State.LINE;
    this.#tokens = [];
    this.#raw = '';
    this.#lineBytes = 0;
    this.#literalBytes = 0;
    this.#literalLeft = 0;
    this.#literalParts = [];
    this.#bad = undefined;
    this.#pendingLiteral = false;
  }
}
