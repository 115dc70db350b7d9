/**
 * @module The head of a session's HTTP/1.1 response and how its body is framed, read from the session socket's bytes.
 */

/** How the body of an upstream response ends. */
export type BodyFraming = 'none' | 'length' | 'chunked' | 'close';

/** A parsed upstream response head. */
export interface UpstreamHead {
  readonly status: number;
  /** Every field as sent, in order. */
  readonly fields: readonly (readonly [string, string])[];
  readonly framing: BodyFraming;
  /** The body length for `length` framing. */
  readonly length: number;
  /** False when the session said `Connection: close` (or framed the body by closing). */
  readonly keepAlive: boolean;
  /** The `X-Vesper-Session` value, lowercased, or null. */
  readonly vesperSession: string | null;
}

/** Longest upstream head accepted. */
export const MAX_UPSTREAM_HEAD = 64 * 1024;

const STATUS_RE = /^HTTP\/1\.([01]) ([1-9][0-9]{2})(?: |$)/;

/**
 * Parses a response head (without its final empty line). The session is
 * trusted, so this only reads what the proxy needs; it returns null for a
 * head it cannot read at all.
 */
export function parseUpstreamHead(text: string, method: string): UpstreamHead | null {
  let eol = text.indexOf('\r\n');
  if (eol < 0) eol = text.length;
  const m = STATUS_RE.exec(text.slice(0, eol));
  if (m === null) return null;
  const status = Number(m[2]);
  const fields: [string, string][] = [];
  let length = -1;
  let chunked = false;
  let close = m[1] === '0';
  let vesperSession: string | null = null;
  for (let at = eol + 2; at < text.length;) {
    let end = text.indexOf('\r\n', at);
    if (end < 0) end = text.length;
    const colon = text.indexOf(':', at);
    if (colon <= at || colon > end) return null;
    const name = text.slice(at, colon);
    const value = text.slice(colon + 1, end).trim();
    at = end + 2;
    fields.push([name, value]);
    // Only the names below matter here: lowercase no other.
    const n = name.length;
    if (n !== 14 && n !== 17 && n !== 10 && n !== 16) continue;
    switch (name.toLowerCase()) {
      case 'content-length':
        if (!/^[0-9]{1,15}$/.test(value) || (length >= 0 && Number(value) !== length)) return null;
        length = Number(value);
        break;
      case 'transfer-encoding':
        chunked = value.toLowerCase() === 'chunked';
        if (!chunked) return null;
        break;
      case 'connection':
        if (/(?:^|,)\s*close\s*(?:,|$)/i.test(value)) close = true;
        else if (m[1] === '0' && /keep-alive/i.test(value)) close = false;
        break;
      case 'x-vesper-session':
        vesperSession = value.toLowerCase();
        break;
      default:
        break;
    }
  }
  let framing: BodyFraming;
  if (method === 'HEAD' || (status >= 100 && status < 200) || status === 204 || status === 304) {
    framing = 'none';
  } else if (chunked) framing = 'chunked';
  else if (length >= 0) framing = 'length';
  else framing = 'close';
  return {
    status,
    fields,
    framing,
    length: Math.max(length, 0),
    keepAlive: !close && framing !== 'close',
    vesperSession,
  };
}
