/**
 * @module parseCookie: a `Cookie` request header read the way browsers write it
 * (Tornado's `parse_cookie`, Django 1.9.10's algorithm).
 */

/**
 * The characters Python's `str.strip()` removes (`str.isspace()`), which differ
 * from JavaScript's `trim()`: they include U+001C..U+001F and U+0085 and leave
 * U+FEFF alone.
 */
const PY_WHITESPACE = new Set(
  '\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000',
);

/** Python's `str.strip()` with no argument. */
export function pyStrip(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && PY_WHITESPACE.has(s[start]!)) start++;
  while (end > start && PY_WHITESPACE.has(s[end - 1]!)) end--;
  return s.slice(start, end);
}

// `\ooo` (octal, first digit 0-3) or `\` and any one character but a newline.
const UNQUOTE_RE = /\\(?:([0-3][0-7][0-7])|([^\n]))/g;

/**
 * Removes the double quotes around a cookie value and resolves its `\"` and
 * `\ooo` escapes, as Python's `http.cookies._unquote` (one linear pass; the
 * quadratic version was CVE-2024-7592). A value not wrapped in quotes is
 * returned unchanged.
 */
export function unquoteCookieValue(s: string): string {
  if (s.length < 2 || s[0] !== '"' || s[s.length - 1] !== '"') return s;
  return s
    .slice(1, -1)
    .replace(UNQUOTE_RE, (_m, octal: string | undefined, ch: string | undefined) =>
      octal !== undefined ? String.fromCharCode(parseInt(octal, 8)) : ch!,
    );
}

/**
 * Parses a `Cookie` header into `{name: value}` as browsers would, not as the
 * RFCs say (Tornado's `parse_cookie`): every `;` separates, a chunk without
 * `=` is a value with an empty name, names and values are stripped, a quoted
 * value is unquoted, and a later cookie of the same name wins. The result has a
 * null prototype. Never throws.
 */
export function parseCookie(header: string): Record<string, string> {
  const result = Object.create(null) as Record<string, string>;
  for (const chunk of header.split(';')) {
    const eq = chunk.indexOf('=');
    const key = pyStrip(eq === -1 ? '' : chunk.slice(0, eq));
    const val = pyStrip(eq === -1 ? chunk : chunk.slice(eq + 1));
    if (key !== '' || val !== '') result[key] = unquoteCookieValue(val);
  }
  return result;
}
