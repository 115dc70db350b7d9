/**
 * @module A parsed request head and the semantic checks on its framing headers (Host, Content-Length, Transfer-Encoding).
 */
import { badRequest, ProtocolError } from './protocol-error.js';

/** The methods the worker accepts; any other is answered 501. */
export const METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'OPTIONS',
]);

/** One request head, checked; field names keep the client's case, `get` is case-insensitive. */
export interface RequestHead {
  readonly method: string;
  /** The request target exactly as sent (see `canonicalTarget` for the form every later step uses). */
  readonly target: string;
  readonly version: '1.0' | '1.1';
  /** Every header field in order, `[name as sent, value trimmed]`. */
  readonly fields: readonly (readonly [string, string])[];
  /** The field names lowercased, in the order of {@link fields}. */
  readonly names: readonly string[];
  /** The tokens of every `Connection` field, lowercased (the field names it makes hop-by-hop, `close`, ...). */
  readonly connection: ReadonlySet<string>;
  /** The one Host value, or null (HTTP/1.0 only). */
  readonly host: string | null;
  /** The declared body length, or null when there is none or the body is chunked. */
  readonly contentLength: number | null;
  /** True for `Transfer-Encoding: chunked`. */
  readonly chunked: boolean;
  /** Whether the client wants the connection kept open after this request. */
  readonly keepAlive: boolean;
  /** The lowercased `Upgrade` value when `Connection` names `upgrade`, else null. */
  readonly upgrade: string | null;
  /** True for `Expect: 100-continue`. */
  readonly expectContinue: boolean;
  /** The first value of the field `lowerName`, or undefined. */
  get(lowerName: string): string | undefined;
}

// RFC 3986 reg-name / IPv4 / IP-literal, optional port; no userinfo, no comma, not empty.
const HOST_RE = /^(?:[A-Za-z0-9\-._~!$&'()*+;=%]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{0,5})?$/;
const CONTENT_LENGTH_RE = /^[0-9]{1,15}$/;

/**
 * Checks the framing of a head whose syntax the scanner already accepted and
 * returns it as a {@link RequestHead}.
 *
 * @throws ProtocolError 400 for a missing (HTTP/1.1), duplicate or invalid
 *   Host, a duplicate or non-numeric Content-Length, a Transfer-Encoding other
 *   than exactly `chunked` (or any on HTTP/1.0, or repeated), Content-Length
 *   together with Transfer-Encoding; 417 for an Expect other than
 *   `100-continue`; 501 for a method outside {@link METHODS}.
 */
export function interpretHead(
  method: string,
  target: string,
  version: '1.0' | '1.1',
  fields: readonly (readonly [string, string])[],
): RequestHead {
  if (!METHODS.has(method)) {
    throw new ProtocolError(
      501,
      'VESPER_FRONTEND_METHOD',
      `The method ${method} is not supported.`,
    );
  }
  // One pass over the fields, each name lowercased once; the checks then
  // run in a fixed order, whatever the order of the fields.
  const names: string[] = new Array<string>(fields.length);
  const hosts: string[] = [];
  const lengths: string[] = [];
  const codings: string[] = [];
  const expects: string[] = [];
  const upgrades: string[] = [];
  const connection = new Set<string>();
  for (let i = 0; i < fields.length; i++) {
    const name = fields[i]![0].toLowerCase();
    const value = fields[i]![1];
    names[i] = name;
    switch (name) {
      case 'host':
        hosts.push(value);
        break;
      case 'content-length':
        lengths.push(value);
        break;
      case 'transfer-encoding':
        codings.push(value);
        break;
      case 'expect':
        expects.push(value);
        break;
      case 'upgrade':
        upgrades.push(value);
        break;
      case 'connection':
        for (const token of value.split(',')) connection.add(token.trim().toLowerCase());
        break;
      default:
        break;
    }
  }
  if (hosts.length > 1) throw badRequest('VESPER_FRONTEND_DUPLICATE_HOST', 'Host is repeated.');
  if (hosts.length === 0 && version === '1.1') {
    throw badRequest('VESPER_FRONTEND_NO_HOST', 'An HTTP/1.1 request has no Host.');
  }
  const host = hosts[0] ?? null;
  if (host !== null && !HOST_RE.test(host)) {
    throw badRequest('VESPER_FRONTEND_BAD_HOST', 'Host is not a valid host[:port].');
  }
  if (lengths.length > 1) {
    throw badRequest('VESPER_FRONTEND_DUPLICATE_LENGTH', 'Content-Length is repeated.');
  }
  if (lengths.length === 1 && !CONTENT_LENGTH_RE.test(lengths[0]!)) {
    throw badRequest('VESPER_FRONTEND_BAD_LENGTH', 'Content-Length is not a plain number.');
  }
  if (codings.length > 0) {
    if (lengths.length > 0) {
      throw badRequest(
        'VESPER_FRONTEND_LENGTH_AND_CHUNKED',
        'Content-Length and Transfer-Encoding are both present.',
      );
    }
    if (codings.length > 1 || codings[0]!.toLowerCase() !== 'chunked' || version === '1.0') {
      throw badRequest(
        'VESPER_FRONTEND_BAD_TRANSFER_ENCODING',
        'Transfer-Encoding must be exactly one "chunked" on HTTP/1.1.',
      );
    }
  }
  let expectContinue = false;
  if (expects.length > 0) {
    if (expects.length > 1 || expects[0]!.toLowerCase() !== '100-continue') {
      throw new ProtocolError(
        417,
        'VESPER_FRONTEND_EXPECT',
        'Only Expect: 100-continue is supported.',
      );
    }
    expectContinue = true;
  }
  const keepAlive = version === '1.1' ? !connection.has('close') : connection.has('keep-alive');
  const upgrade =
    connection.has('upgrade') && upgrades.length === 1 ? upgrades[0]!.toLowerCase() : null;
  return {
    method,
    target,
    version,
    fields,
    names,
    connection,
    host,
    contentLength: lengths.length === 1 ? Number(lengths[0]) : null,
    chunked: codings.length === 1,
    keepAlive,
    upgrade,
    expectContinue,
    get(lowerName: string): string | undefined {
      const i = names.indexOf(lowerName);
      return i < 0 ? undefined : fields[i]![1];
    },
  };
}
