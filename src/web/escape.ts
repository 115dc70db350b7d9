/**
 * @module Tornado's `tornado.escape` in TypeScript: HTML, URL and JSON escaping,
 * whitespace squeezing, linkify, and the UTF-8 conversions the framework uses.
 */
import { VesperError } from '../shared/errors/index.js';
import { HTML4_ENTITIES } from './html-entities.js';

const XHTML_SPECIAL_RE = /[&<>"']/;

/** A value the escaping functions accept: text, a number, or UTF-8 bytes. */
export type Escapable = string | number | Buffer | Uint8Array | null | undefined;

function asText(value: Escapable): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  return toUnicode(value);
}

/**
 * Escapes `& < > " '` as `&amp; &lt; &gt; &quot; &#39;` so the text is safe in
 * HTML or XML element content and in quoted attribute values (Tornado's
 * `xhtml_escape`). Buffers are decoded as UTF-8 first; `null` and `undefined`
 * give `''`, numbers their `String()`.
 */
export function xhtmlEscape(value: Escapable): string {
  const s = asText(value);
  // Most template values contain nothing to escape; the scan below is about
  // twice as fast as a replace() with a callback on those that do.
  const first = XHTML_SPECIAL_RE.exec(s);
  if (first === null) return s;
  let out = '';
  let last = 0;
  for (let i = first.index; i < s.length; i++) {
    let entity: string;
    switch (s.charCodeAt(i)) {
      case 0x26:
        entity = '&amp;';
        break;
      case 0x3c:
        entity = '&lt;';
        break;
      case 0x3e:
        entity = '&gt;';
        break;
      case 0x22:
        entity = '&quot;';
        break;
      case 0x27:
        entity = '&#39;';
        break;
      default:
        continue;
    }
    if (last !== i) out += s.slice(last, i);
    out += entity;
    last = i + 1;
  }
  return last !== s.length ? out + s.slice(last) : out;
}

/**
 * Decodes character references: the 252 named references of HTML 4 and decimal
 * or hexadecimal numeric ones (`&#32;`, `&#x20;`, `&#X20;`). A reference that
 * names nothing or no valid code point is left as it is (`&#xyz;`, `&#;`).
 */
export function xhtmlUnescape(value: string | Buffer): string {
  return asText(value).replace(/&(#?)(\w+?);/g, (whole, hash: string, body: string) => {
    if (hash === '#') {
      const hex = body[0] === 'x' || body[0] === 'X';
      const digits = hex ? body.slice(1) : body;
      if (!(hex ? /^[0-9a-fA-F]+$/ : /^[0-9]+$/).test(digits)) return whole;
      const code = Number.parseInt(digits, hex ? 16 : 10);
      return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    const code = HTML4_ENTITIES.get(body);
    return code === undefined ? whole : String.fromCodePoint(code);
  });
}

// Bytes left as they are by Python's quote(): letters, digits and `_.-~`.
const UNRESERVED = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~') {
  UNRESERVED[c.charCodeAt(0)] = 1;
}
const HEX = '0123456789ABCDEF';

/**
 * URL-encodes a value (Tornado's `url_escape`). Strings are UTF-8 encoded
 * first; Buffers are encoded byte for byte. With `plus` (the default, right
 * for query strings) a space becomes `+` and `/` is escaped; without it (right
 * for path segments) a space becomes `%20` and `/` is kept. Letters, digits
 * and `_.-~` are never escaped.
 */
export function urlEscape(value: string | Buffer, plus = true): string {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  let out = '';
  for (const b of bytes) {
    if (UNRESERVED[b] === 1 || (!plus && b === 0x2f)) out += String.fromCharCode(b);
    else if (plus && b === 0x20) out += '+';
    else out += `%${HEX[b >> 4]}${HEX[b & 15]}`;
  }
  return out;
}

function hexValue(b: number | undefined): number {
  if (b === undefined) return -1;
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  return -1;
}

/**
 * Decodes a URL-encoded value to bytes (Tornado's `url_unescape` with
 * `encoding=None`). `%XX` becomes the byte; a `%` not followed by two hex
 * digits is kept as it is; with `plus` (the default) `+` becomes a space.
 */
export function urlUnescapeBytes(value: string | Buffer, plus = true): Buffer {
  const input = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  if (!input.includes(0x25) && !(plus && input.includes(0x2b))) return Buffer.from(input);
  const out = Buffer.allocUnsafe(input.length);
  let n = 0;
  for (let i = 0; i < input.length; i++) {
    const b = input[i]!;
    if (b === 0x25) {
      const hi = hexValue(input[i + 1]);
      const lo = hexValue(input[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out[n++] = (hi << 4) | lo;
        i += 2;
        continue;
      }
    }
    out[n++] = plus && b === 0x2b ? 0x20 : b;
  }
  return out.subarray(0, n);
}

/**
 * Decodes a URL-encoded value to text (Tornado's `url_unescape`): as
 * {@link urlUnescapeBytes}, then UTF-8 decoded, with U+FFFD for invalid
 * sequences.
 */
export function urlUnescape(value: string | Buffer, plus = true): string {
  return urlUnescapeBytes(value, plus).toString('utf8');
}

/**
 * JSON-encodes a value with `JSON.stringify` and escapes `</` as `<\/`, so the
 * result can sit inside a `<script>` element without closing it. A value
 * JSON cannot represent at the top level (`undefined`, a function) encodes as
 * `null`.
 *
 * @throws TypeError from `JSON.stringify` for a BigInt or a cyclic structure.
 */
export function jsonEncode(value: unknown): string {
  const json = JSON.stringify(value) as string | undefined;
  return json === undefined ? 'null' : json.replaceAll('</', '<\\/');
}

/**
 * Parses JSON from text or UTF-8 bytes.
 *
 * @throws SyntaxError when the input is not JSON.
 */
export function jsonDecode(value: string | Buffer): unknown {
  return JSON.parse(asText(value));
}

// Tornado squeezes exactly the C0 controls and the space, so the pattern names them.
// eslint-disable-next-line no-control-regex
const SQUEEZE_RE = /[\x00-\x20]+/g;

/** Replaces every run of characters `\x00`–`\x20` with one space and trims the result. */
export function squeeze(value: string): string {
  return value.replace(SQUEEZE_RE, ' ').trim();
}

/**
 * Encodes text as UTF-8 bytes; bytes are returned unchanged (a Uint8Array is
 * viewed as a Buffer without copying).
 *
 * @throws VesperError `VESPER_WEB_ESCAPE_TYPE` for anything else.
 */
export function utf8(value: string | Buffer | Uint8Array): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.length);
  throw new VesperError(
    'VESPER_WEB_ESCAPE_TYPE',
    `expected a string or bytes, got ${typeof value}`,
  );
}

/**
 * Decodes UTF-8 bytes to text (U+FFFD for invalid sequences); text is returned
 * unchanged.
 *
 * @throws VesperError `VESPER_WEB_ESCAPE_TYPE` for anything else.
 */
export function toUnicode(value: string | Buffer | Uint8Array): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return utf8(value).toString('utf8');
  throw new VesperError(
    'VESPER_WEB_ESCAPE_TYPE',
    `expected a string or bytes, got ${typeof value}`,
  );
}

// Tornado's URL pattern, with Python's Unicode-aware `\b` and `\w` spelled out
// (JavaScript's are ASCII-only even with the `u` flag). It is written so that
// long runs of dots or open parentheses cannot make it backtrack exponentially.
const W = String.raw`\p{L}\p{N}_`;
const URL_RE = new RegExp(
  String.raw`(?:(?<=[${W}])(?![${W}])|(?<![${W}])(?=[${W}]))` +
    String.raw`((?:([${W}-]+):(\/{1,3})|www[.])` +
    String.raw`(?:(?:(?:[^\s&()]|&amp;|&quot;)*(?:[^!"#$%&'()*+,.:;<=>?@\[\]^\x60{|}~\s]))` +
    String.raw`|(?:\((?:[^\s&()]|&amp;|&quot;)*\)))+)`,
  'gu',
);

/** Options of {@link linkify}, Tornado's keyword arguments in camelCase. */
export interface LinkifyOptions {
  /** Shorten long URLs for display (about 30 characters) and put the full URL in `title`. */
  shorten?: boolean;
  /**
   * Extra attributes for each `<a>` tag, e.g. `rel="nofollow" class="external"`,
   * or a function of the link's href returning them. Not escaped: never put
   * user input here.
   */
  extraParams?: string | ((href: string) => string);
  /** Only link URLs that carry a protocol (so `www.example.com` stays text). */
  requireProtocol?: boolean;
  /** Protocols that are linked; default `['http', 'https']`. Never add `javascript`. */
  permittedProtocols?: readonly string[];
}

/**
 * Converts plain text into HTML with links (Tornado's `linkify`): the text is
 * HTML-escaped first, then each URL becomes `<a href="…">…</a>`. URLs starting
 * with `www.` get `http://`; a protocol not in `permittedProtocols` is left as
 * text.
 */
export function linkify(text: Escapable, options: LinkifyOptions = {}): string {
  const {
    shorten = false,
    requireProtocol = false,
    permittedProtocols = ['http', 'https'],
  } = options;
  const extra = options.extraParams ?? '';
  const fixedParams = typeof extra === 'string' && extra !== '' ? ` ${extra.trim()}` : '';

  const makeLink = (url: string, proto: string | undefined, slashes: string | undefined) => {
    if (requireProtocol && !proto) return url;
    if (proto && !permittedProtocols.includes(proto)) return url;
    const href = proto ? url : `http://${url}`;
    let params = typeof extra === 'function' ? ` ${extra(href).trim()}` : fixedParams;

    // Clip long URLs; 30 is an approximation, as in Tornado. Lengths are
    // counted in code points, as Python does.
    const maxLen = 30;
    let shown = Array.from(url);
    if (shorten && shown.length > maxLen) {
      const before = shown;
      const protoLen = proto ? proto.length + 1 + (slashes ?? '').length : 0;
      const parts = shown.slice(protoLen).join('').split('/');
      if (parts.length > 1) {
        // The host plus the first bit of the path is enough to recognise it.
        const first = Array.from(parts[1]!).slice(0, 8).join('').split('?')[0]!.split('.')[0]!;
        shown = Array.from(shown.slice(0, protoLen).join('') + parts[0]! + '/' + first);
      }
      if (shown.length > maxLen * 1.5) shown = shown.slice(0, maxLen);
      if (shown.join('') !== before.join('')) {
        // Avoid splitting an HTML character reference.
        const amp = shown.lastIndexOf('&');
        if (amp > maxLen - 5) shown = shown.slice(0, amp);
        shown.push('.', '.', '.');
        if (shown.length >= before.length) shown = before;
        else params += ` title="${href}"`;
      }
    }
    return `<a href="${href}"${params}>${shown.join('')}</a>`;
  };

  return xhtmlEscape(text).replace(
    URL_RE,
    (_m, url: string, proto: string | undefined, slashes: string | undefined) =>
      makeLink(url, proto, slashes),
  );
}
