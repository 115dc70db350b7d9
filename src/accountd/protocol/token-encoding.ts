/**
 * @module The %-encoding of accountd tokens: every byte of a token's UTF-8
 * form that is not an ASCII letter or digit is written `%XX`; an empty token
 * or one too long for a line travels as a `{n}` literal instead.
 */

const HEX = '0123456789ABCDEF';

function isAlnum(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
}

/**
 * Encodes `text` as one on-the-line token: ASCII letters and digits as they
 * are, every other byte of its UTF-8 form as `%XX` (upper-case hex). The empty
 * string has no on-the-line form; {@link encodeMessage} sends it as `{0}`.
 */
export function percentEncode(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  let out = '';
  for (const b of bytes) {
    out += isAlnum(b) ? String.fromCharCode(b) : `%${HEX[b >> 4]}${HEX[b & 15]}`;
  }
  return out;
}

/** One piece of an encoded message: a word on the line, or a literal's bytes. */
type Piece = { line: string } | { literal: Buffer };

/**
 * Encodes one message (a command or a reply) as the bytes to send: tokens
 * separated by single spaces and ended by CRLF. A token is sent %-encoded on
 * the line, except when it is empty or its encoded form is longer than
 * `inlineMax` (default 1024) characters: then it is sent as a literal
 * `{n}` CRLF followed by its n UTF-8 bytes, and the message goes on after it.
 * Tokens in `literals` (by index) are always sent as literals.
 */
export function encodeMessage(
  tokens: readonly string[],
  options: { literals?: readonly number[]; inlineMax?: number } = {},
): Buffer {
  const inlineMax = options.inlineMax ?? 1024;
  const pieces: Piece[] = [];
  tokens.forEach((token, i) => {
    const encoded = percentEncode(token);
    const asLiteral =
      token === '' || encoded.length > inlineMax || (options.literals?.includes(i) ?? false);
    if (asLiteral) pieces.push({ literal: Buffer.from(token, 'utf8') });
    else pieces.push({ line: encoded });
  });
  const parts: Buffer[] = [];
  let line = '';
  pieces.forEach((piece, i) => {
    if (i > 0) line += ' ';
    if ('line' in piece) {
      line += piece.line;
    } else {
      line += `{${piece.literal.length}}\r\n`;
      parts.push(Buffer.from(line, 'latin1'), piece.literal);
      line = '';
    }
  });
  line += '\r\n';
  parts.push(Buffer.from(line, 'latin1'));
  return Buffer.concat(parts);
}
