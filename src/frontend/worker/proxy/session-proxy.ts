/**
 * @module Forwards a session request to its session's Unix socket over a pool of keep-alive connections, streaming both bodies with backpressure.
 */
import { Agent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import type { IncomingRequest } from '../http/client-connection.js';
import type { ServerReply } from '../http/server-reply.js';
import { HSTS_HEADER } from '../pages/security-headers.js';
import { BodyCopy, ECHO_LIMIT, isFormBody, textFields } from './posted-fields.js';

/** Hop-by-hop fields (RFC 9110 §7.6.1), never forwarded in either direction. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'http2-settings',
]);

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'DELETE', 'PUT']);

/** Fields added to a session response when the session application did not set them. */
const DEFAULT_RESPONSE_FIELDS: readonly (readonly [string, string])[] = [
  ['X-Frame-Options', 'DENY'],
  ['Referrer-Policy', 'no-referrer'],
  ['X-Content-Type-Options', 'nosniff'],
];

/** What the proxy does when the session is gone or cannot be reached. */
export interface ProxyOutcomes {
  /** The session does not exist (no socket, refused, or the session said `X-Vesper-Session: ended`). */
  ended(
    request: IncomingRequest,
    reply: ServerReply,
    fields: readonly (readonly [string, string])[],
  ): void;
  /** The session could not be reached for another reason. */
  unavailable(request: IncomingRequest, reply: ServerReply): void;
}

/** True for the errors that mean "there is no session behind this socket". */
export function isSessionGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ECONNREFUSED';
}

/**
 * The fields forwarded to a session: the client's, without hop-by-hop
 * fields, without those named in `Connection` and without anything in the
 * `x-vesper-` namespace; then the client address, scheme and request id.
 */
export function forwardedFields(
  request: IncomingRequest,
  requestId: string,
  keepUpgrade = false,
): Record<string, string | string[]> {
  const named = new Set<string>();
  for (const [name, value] of request.head.fields) {
    if (name.toLowerCase() === 'connection') {
      for (const token of value.split(',')) named.add(token.trim().toLowerCase());
    }
  }
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of request.head.fields) {
    const lower = name.toLowerCase();
    if (lower.startsWith('x-vesper-')) continue;
    const keep = keepUpgrade && lower === 'upgrade';
    if (!keep && (HOP_BY_HOP.has(lower) || named.has(lower))) continue;
    const previous = out[lower];
    if (previous === undefined) out[lower] = value;
    else if (Array.isArray(previous)) previous.push(value);
    else out[lower] = [previous, value];
  }
  if (keepUpgrade) out['connection'] = 'Upgrade';
  out['x-vesper-client-ip'] = request.clientIp;
  out['x-vesper-client-scheme'] = request.tls ? 'https' : 'http';
  out['x-vesper-request-id'] = requestId;
  return out;
}

/**
 * The fields of a session's response as the client gets them: without
 * hop-by-hop fields and the `x-vesper-` namespace, with the frame-busting and
 * referrer defaults when the application set none, and HSTS on TLS.
 */
export function responseFields(res: IncomingMessage, tls: boolean): [string, string][] {
  const out: [string, string][] = [];
  const seen = new Set<string>();
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || lower.startsWith('x-vesper-')) continue;
    seen.add(lower);
    out.push([name, raw[i + 1]!]);
  }
  for (const [name, value] of DEFAULT_RESPONSE_FIELDS) {
    if (!seen.has(name.toLowerCase())) out.push([name, value]);
  }
  if (tls && !seen.has('strict-transport-security')) out.push([...HSTS_HEADER]);
  return out;
}

/**
 * The session-URL proxy. One keep-alive pool per session socket (Node's
 * `http.Agent` keys its pools by socket path), so consecutive requests to
 * a session reuse a connection instead of opening one each.
 */
export class SessionProxy {
  readonly #agent: Agent;
  readonly #outcomes: ProxyOutcomes;
  #inflight = 0;

  constructor(outcomes: ProxyOutcomes, options: { maxSocketsPerSession?: number } = {}) {
    this.#outcomes = outcomes;
    this.#agent = new Agent({
      keepAlive: true,
      maxSockets: options.maxSocketsPerSession ?? 32,
      maxFreeSockets: 32,
      scheduling: 'lifo',
      // An idle pooled connection is dropped after a while; the session may also close it first.
      timeout: 30_000,
    });
  }

  /** Proxied requests in flight. */
  get inflight(): number {
    return this.#inflight;
  }

  /** Forwards `request` to the session listening on `socketPath` and streams its answer to `reply`. */
  forward(
    request: IncomingRequest,
    reply: ServerReply,
    socketPath: string,
    requestId: string,
  ): void {
    this.#inflight++;
    const body = request.body;
    const copy =
      body !== null && isFormBody(request.head.get('content-type'))
        ? new BodyCopy(body, ECHO_LIMIT)
        : null;
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      this.#inflight--;
    };
    const headers = forwardedFields(request, requestId);
    const send = (fresh: boolean): ClientRequest => {
      const upstream = httpRequest({
        socketPath,
        method: request.head.method,
        path: request.target.canonical,
        headers,
        agent: fresh ? false : this.#agent,
        setHost: false,
      });
      upstream.on('response', (res) => this.#relay(request, reply, upstream, res, copy, finish));
      upstream.on('error', (err) => {
        if (reply.headSent || reply.finished || reply.clientGone) {
          if (!reply.finished) reply.abort();
          finish();
          return;
        }
        if (
          !fresh &&
          upstream.reusedSocket &&
          body === null &&
          IDEMPOTENT.has(request.head.method)
        ) {
          // The pooled connection closed just as it was picked: once more, on a new one.
          current = send(true);
          current.end();
          return;
        }
        finish();
        if (isSessionGone(err)) this.#ended(request, reply, copy);
        else {
          body?.resume();
          this.#outcomes.unavailable(request, reply);
        }
      });
      return upstream;
    };
    let current = send(false);
    reply.onClientGone(() => {
      current.destroy();
      finish();
    });
    if (body === null) current.end();
    else {
      body.pipe(current);
      // An incomplete body (a framing error, a timeout, the client gone) aborts the upstream request.
      body.once('close', () => {
        if (!body.readableEnded) current.destroy();
      });
    }
  }

  #relay(
    request: IncomingRequest,
    reply: ServerReply,
    upstream: ClientRequest,
    res: IncomingMessage,
    copy: BodyCopy | null,
    finish: () => void,
  ): void {
    if (res.statusCode === 404 && res.headers['x-vesper-session'] === 'ended') {
      res.resume();
      finish();
      this.#ended(request, reply, copy);
      return;
    }
    reply.kind = 'session';
    reply.writeHead(res.statusCode ?? 502, responseFields(res, request.tls));
    res.on('data', (chunk: Buffer) => {
      if (!reply.write(chunk)) {
        res.pause();
        reply.onceDrained(() => res.resume());
      }
    });
    res.once('end', () => {
      finish();
      // An answer that came before the whole body was sent leaves the upstream connection unusable.
      if (request.body !== null && !request.body.readableEnded) upstream.destroy();
      reply.end();
    });
    res.once('close', () => {
      if (!res.complete) {
        finish();
        reply.abort();
      }
    });
  }

  #ended(request: IncomingRequest, reply: ServerReply, copy: BodyCopy | null): void {
    const body = request.body;
    if (body !== null) {
      body.unpipe();
      body.resume();
    }
    if (copy === null) {
      this.#outcomes.ended(request, reply, []);
      return;
    }
    void copy.whole().then((bytes) => {
      if (reply.finished) return;
      const fields =
        bytes === null ? [] : textFields(request.head.get('content-type') ?? '', bytes);
      this.#outcomes.ended(request, reply, fields);
    });
  }

  /** Closes the idle pooled connections; requests in flight go on. */
  close(): void {
    this.#agent.destroy();
  }
}
