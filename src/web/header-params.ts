/**
 * @module parseHeaderParams: a `Content-Disposition`/`Content-Type` style value
 * split into its main value and parameters, with quoting and RFC 2231
 * (`filename*=UTF-8''...`) decoded the way Tornado's `_parse_header` does it.
 */
import { pyStrip } from './parse-cookie.js';

/** Thrown (and turned into a 400 by the caller) for parameters Python cannot order. */
export class HeaderParamsError extends Error {}

/**
 * Splits `;`-separated parameters, ignoring a `;` inside double quotes, as
 * Tornado's `_parseparam`. A quote preceded by a backslash does not count.
 * Linear in the length of `s` (the quadratic version was CVE-2025-67726).
 */
function splitParams(s: string): string[] {
  const out: string[] = [];
  let pos = 0;
  const n = s.length;
  // s[pos] is always ';' here, as in `while s[:1] == ";"`.
  while (pos < n && s[pos] === ';') {
    const start = pos + 1;
    let quotes = 0;
    let end = -1;
    for (let i = start; i < n; i++) {
      const c = s[i];
      if (c === '"') {
        if (i === start || s[i - 1] !== '\\') quotes++;
      } else if (c === ';') {
        // `while end > 0 and odd quotes`: a ';' right at the start ends the chunk.
        if (i === start || quotes % 2 === 0) {
          end = i;
          break;
        }
      }
    }
    if (end === -1) end = n;
    out.push(pyStrip(s.slice(start, end)));
    pos = end;
  }
  return out;
}

/** Python's `email.utils.unquote`. */
function emailUnquote(s: string): string {
  if (s.length > 1) {
    if (s.startsWith('"') && s.endsWith('"')) {
      return s.slice(1, -1).replaceAll('\\\\', '\\').replaceAll('\\"', '"');
    }
    if (s.startsWith('<') && s.endsWith('>')) return s.slice(1, -1);
  }
  return s;
}

/** Python's `email.utils.quote`. */
function emailQuote(s: string): string {
  return s.replaceAll('\\', '\\\\').replaceAll('"', '\\"');
}

/** `urllib.parse.unquote(s, encoding='latin-1')`: each `%XX` becomes one character. */
function unquoteLatin1(s: string): string {
  return s.replace(/%([0-9a-fA-F]{2})/g, (_m, hex: string) =>
    String.fromCharCode(parseInt(hex, 16)),
  );
}

/** Python's `str.encode('raw-unicode-escape')`. */
function rawUnicodeEscape(s: string): Buffer {
  const bytes: number[] = [];
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x100) bytes.push(cp);
    else {
      const esc =
        cp > 0xffff
          ? '\\U' + cp.toString(16).padStart(8, '0')
          : '\\u' + cp.toString(16).padStart(4, '0');
      for (const c of esc) bytes.push(c.charCodeAt(0));
    }
  }
  return Buffer.from(bytes);
}

const LATIN1_NAMES = new Set([
  'latin-1',
  'latin1',
  'iso-8859-1',
  'iso8859-1',
  'iso_8859_1',
  'l1',
  '8859',
  'cp819',
]);
const ASCII_NAMES = new Set(['ascii', 'us-ascii', 'us_ascii', '646']);

/**
 * Decodes bytes in a named charset with replacement characters for bad input,
 * like Python's `str(raw, charset, 'replace')`. Returns `undefined` for a
 * charset Python would not know (its `LookupError`).
 */
function decodeCharset(raw: Buffer, charset: string): string | undefined {
  const name = charset.trim().toLowerCase();
  if (name === '') return undefined;
  // WHATWG maps latin1 and ascii labels to windows-1252; Python does not.
  if (LATIN1_NAMES.has(name)) return raw.toString('latin1');
  if (ASCII_NAMES.has(name)) {
    return Array.from(raw, (b) => (b < 0x80 ? String.fromCharCode(b) : '\ufffd')).join('');
  }
  try {
    return new TextDecoder(name.replaceAll('_', '-')).decode(raw);
  } catch {
    return undefined;
  }
}

type Param = [
  name: string,
  value: string | [charset: string | null, language: string | null, text: string],
];

const CONTINUATION_RE = /^(\w+)\*(?:([0-9]+)\*?)?$/;

/** Python's `email.utils.decode_params`, without its leading dummy pair. */
function decodeParams(params: Array<[string, string]>): Param[] {
  const out: Param[] = [];
  const rfc2231 = new Map<string, Array<[number | null, string, boolean]>>();
  for (const [rawName, rawValue] of params) {
    const encoded = rawName.endsWith('*');
    const value = emailUnquote(rawValue);
    const m = /^\p{ASCII}*$/u.test(rawName) ? CONTINUATION_RE.exec(rawName) : null;
    if (m !== null) {
      const name = m[1]!;
      const num = m[2] === undefined ? null : Number(m[2]);
      let list = rfc2231.get(name);
      if (list === undefined) rfc2231.set(name, (list = []));
      list.push([num, value, encoded]);
    } else {
      out.push([rawName, `"${emailQuote(value)}"`]);
    }
  }
  for (const [name, continuations] of rfc2231) {
    const hasNull = continuations.some((c) => c[0] === null);
    const hasNum = continuations.some((c) => c[0] !== null);
    if (hasNull && hasNum) {
      // Python's list.sort() cannot compare None with int and raises TypeError.
      throw new HeaderParamsError(`Parameter ${name} mixes numbered and unnumbered parts`);
    }
    continuations.sort((a, b) => {
      if (a[0] !== b[0]) return (a[0] ?? 0) - (b[0] ?? 0);
      if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
      return Number(a[2]) - Number(b[2]);
    });
    let extended = false;
    const pieces = continuations.map(([, s, encoded]) => {
      if (!encoded) return s;
      extended = true;
      return unquoteLatin1(s);
    });
    const joined = emailQuote(pieces.join(''));
    if (extended) {
      const parts = joined.split("'");
      if (parts.length <= 2) out.push([name, [null, null, `"${joined}"`]]);
      else out.push([name, [parts[0]!, parts[1]!, `"${parts.slice(2).join("'")}"`]]);
    } else {
      out.push([name, `"${joined}"`]);
    }
  }
  return out;
}

/** Python's `email.utils.collapse_rfc2231_value(value, 'replace', 'us-ascii')`. */
function collapse(value: Param[1]): string {
  if (typeof value === 'string') return emailUnquote(value);
  const [charset, , text] = value;
  // A missing charset (decode_rfc2231 returned None) falls back to us-ascii.
  const decoded = decodeCharset(rawUnicodeEscape(text), charset ?? 'us-ascii');
  return decoded ?? emailUnquote(text);
}

/**
 * Parses a header value such as `form-data; name="a"; filename*=UTF-8''%C3%A1`
 * into its main value (`form-data`) and a null-prototype record of parameters
 * (names lower-cased; quotes, backslash escapes and RFC 2231 encodings and
 * continuations resolved; an RFC 2231 form wins over the plain one).
 * @throws {HeaderParamsError} for parameters whose continuations mix numbered
 * and unnumbered parts (Tornado fails on them too).
 */
export function parseHeaderParams(line: string): [string, Record<string, string>] {
  const parts = splitParams(';' + line);
  const key = parts[0] ?? '';
  const params: Array<[string, string]> = [];
  for (const p of parts.slice(1)) {
    const i = p.indexOf('=');
    if (i >= 0) params.push([pyStrip(p.slice(0, i)).toLowerCase(), pyStrip(p.slice(i + 1))]);
  }
  const pdict = Object.create(null) as Record<string, string>;
  for (const [name, decoded] of decodeParams(params)) {
    let value = collapse(decoded);
    if (value.length >= 2 && value[0] === '"' && value[value.length - 1] === '"') {
      value = value.slice(1, -1);
    }
    pdict[name] = value;
  }
  return [key, pdict];
}
