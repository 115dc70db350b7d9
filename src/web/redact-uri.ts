/**
 * @module Redaction of a request URI for logs: values of query parameters whose
 * names look secret (token, key, password, secret, auth, session, code).
 */

const SENSITIVE_PARAM = /token|key|pass|secret|auth|session|code/i;

/**
 * The URI with the values of sensitive-looking query parameters replaced by
 * `[redacted]` (`/ws?ws_token=abc&x=1` → `/ws?ws_token=[redacted]&x=1`); a URI
 * without such a parameter is returned as it is.
 */
export function redactUri(uri: string): string {
  const q = uri.indexOf('?');
  if (q < 0 || !SENSITIVE_PARAM.test(uri.slice(q))) return uri;
  const parts = uri
    .slice(q + 1)
    .split('&')
    .map((p) => {
      const eq = p.indexOf('=');
      const name = eq < 0 ? p : p.slice(0, eq);
      return eq >= 0 && SENSITIVE_PARAM.test(name) ? `${name}=[redacted]` : p;
    });
  return `${uri.slice(0, q)}?${parts.join('&')}`;
}
