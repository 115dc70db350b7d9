/**
 * @module Query strings as Tornado reads and writes them: `parseQsBytes` (values
 * kept as bytes, blank values kept) and `urlConcat`.
 */

/** A dictionary of arguments: each name maps to its values, in order, as bytes. */
export type ArgumentsDict = Record<string, Buffer[]>;

const PLUS = 0x2b;
const PERCENT = 0x25;
const AMP = 0x26;
const EQUALS = 0x3d;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * Percent-decodes `buf[start, end)` with `+` read as a space, as Python's
 * `unquote_plus`: a `%` not followed by two hex digits is kept as it is.
 */
export function unquotePlusBytes(buf: Buffer, start = 0, end = buf.length): Buffer {
  let needs = false;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c === PLUS || c === PERCENT) {
      needs = true;
      break;
    }
  }
  if (!needs) return Buffer.from(buf.subarray(start, end));
  const out = Buffer.allocUnsafe(end - start);
  let o = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c === PLUS) {
      out[o++] = 0x20;
    } else if (c === PERCENT && i + 2 < end) {
      const hi = hexValue(buf[i + 1]!);
      const lo = hexValue(buf[i + 2]!);
      if (hi >= 0 && lo >= 0) {
        out[o++] = (hi << 4) | lo;
        i += 2;
      } else {
        out[o++] = c;
      }
    } else {
      out[o++] = c;
    }
  }
  return out.subarray(0, o);
}

/**
 * Splits a query string into `[name, value]` byte pairs as Python's
 * `parse_qsl(keep_blank_values=True)`: `&` separates fields, an empty field is
 * skipped, a field without `=` has an empty value.
 */
export function parseQsPairs(qs: Buffer): Array<[Buffer, Buffer]> {
  const pairs: Array<[Buffer, Buffer]> = [];
  let start = 0;
  const n = qs.length;
  while (start <= n) {
    let end = qs.indexOf(AMP, start);
    if (end === -1) end = n;
    if (end > start) {
      const eq = qs.indexOf(EQUALS, start);
      if (eq !== -1 && eq < end) {
        pairs.push([unquotePlusBytes(qs, start, eq), unquotePlusBytes(qs, eq + 1, end)]);
      } else {
        pairs.push([unquotePlusBytes(qs, start, end), Buffer.alloc(0)]);
      }
    }
    start = end + 1;
  }
  return pairs;
}

/**
 * The bytes of a request-target string: characters up to U+00FF are taken as
 * single bytes (Node hands the request line over as latin1), anything above as
 * UTF-8.
 */
export function targetBytes(s: string): Buffer {
  // eslint-disable-next-line no-control-regex -- checks for characters above latin1
  if (!/[^\u0000-\u00ff]/.test(s)) return Buffer.from(s, 'latin1');
  const parts: Buffer[] = [];
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    parts.push(cp <= 0xff ? Buffer.from([cp]) : Buffer.from(ch, 'utf8'));
  }
  return Buffer.concat(parts);
}

/**
 * Decodes an argument name. Names are UTF-8 (so `%C3%A9` is `é`); invalid
 * sequences become U+FFFD. Tornado decodes names as latin1, which makes
 * non-ASCII names unreachable from `get_argument`; this is the one difference.
 */
export function decodeArgumentName(name: Buffer): string {
  return name.toString('utf8');
}

/**
 * Adds the pairs of a query string to `into` (created when absent; a
 * null-prototype object so no name can reach `Object.prototype`).
 */
export function parseQsBuffer(qs: Buffer, into?: ArgumentsDict): ArgumentsDict {
  const result = into ?? (Object.create(null) as ArgumentsDict);
  for (const [name, value] of parseQsPairs(qs)) {
    const key = decodeArgumentName(name);
    const list = result[key];
    if (list === undefined) result[key] = [value];
    else list.push(value);
  }
  return result;
}

/**
 * Parses a query string into `{name: [value bytes, ...]}` like Tornado's
 * `parse_qs_bytes(qs, keep_blank_values=True)`: values stay bytes (their charset
 * is decided later by `decodeArgument`), blank values are kept, repeated names
 * collect every value in order. Never throws.
 */
export function parseQsBytes(qs: string | Buffer): ArgumentsDict {
  return parseQsBuffer(typeof qs === 'string' ? targetBytes(qs) : qs);
}

const UNRESERVED = /[A-Za-z0-9_.\-~]/;

/**
 * Python's `quote_plus(s, safe='')` as `urlencode` uses it: UTF-8, everything
 * but letters, digits and `_.-~` percent-encoded (upper-case hex), space as `+`.
 */
export function quotePlus(value: string | Buffer): string {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  let out = '';
  for (const b of bytes) {
    const ch = String.fromCharCode(b);
    if (b < 0x80 && UNRESERVED.test(ch)) out += ch;
    else if (b === 0x20) out += '+';
    else out += '%' + (b < 16 ? '0' : '') + b.toString(16).toUpperCase();
  }
  return out;
}

/** Arguments for {@link urlConcat}: a record, or pairs when a name repeats. */
export type UrlArgs =
  Record<string, string | number> | ReadonlyArray<readonly [string, string | number]>;

/**
 * Appends arguments to a URL's query, keeping the query it already has, like
 * Tornado's `url_concat`: the whole query is re-encoded (`?x` becomes `?x=`),
 * repeated names are allowed and a fragment stays last.
 * `urlConcat('https://localhost/path?a=1', {y: '/y'})` is
 * `'https://localhost/path?a=1&y=%2Fy'`. `null`/`undefined` return `url` as is.
 */
export function urlConcat(url: string, args: UrlArgs | null | undefined): string {
  if (args === null || args === undefined) return url;
  let rest = url;
  let fragment = '';
  const hash = rest.indexOf('#');
  if (hash !== -1) {
    fragment = rest.slice(hash);
    rest = rest.slice(0, hash);
  }
  let query = '';
  const q = rest.indexOf('?');
  if (q !== -1) {
    query = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  const pairs: Array<[string, string]> = parseQsPairs(Buffer.from(query, 'utf8')).map(([n, v]) => [
    n.toString('utf8'),
    v.toString('utf8'),
  ]);
  const extra: Iterable<readonly [string, string | number]> = Array.isArray(args)
    ? (args as ReadonlyArray<readonly [string, string | number]>)
    : Object.entries(args as Record<string, string | number>);
  for (const [n, v] of extra) pairs.push([n, String(v)]);
  const finalQuery = pairs.map(([n, v]) => `${quotePlus(n)}=${quotePlus(v)}`).join('&');
  return rest + (finalQuery === '' ? '' : '?' + finalQuery) + fragment;
}
