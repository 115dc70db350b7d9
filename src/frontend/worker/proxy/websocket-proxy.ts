/**
 * @module Proxies a WebSocket upgrade to its session's socket: a 101 becomes a byte tunnel; any other answer, or a dead backend, ends both sides and frees every descriptor.
 *
 * ```
 *  client ──upgrade──▶ worker ──upgrade (fresh connection)──▶ session
 *                        │◀── 101 ── tunnel both ways (backpressure), drain → 1001
 *                        │◀── other ── relayed with Connection: close, backend destroyed
 *                        └── ENOENT/ECONNREFUSED ── "session ended" page, close
 * ```
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { IncomingRequest } from '../http/client-connection.js';
import type { ServerReply } from '../http/server-reply.js';
import { CLOSE_GOING_AWAY, FrameBoundary } from './frame-boundary.js';
import {
  forwardedFields,
  rawFields,
  isSessionGone,
  responseFields,
  type ProxyOutcomes,
} from './session-proxy.js';

/** One open tunnel between a client and a session. */
class Tunnel {
  readonly #client: Socket;
  readonly #backend: Socket;
  readonly #toClient = new FrameBoundary();
  readonly #onEnd: (tunnel: Tunnel) => void;
  #closing = false;
  #ended = false;
  #removed = false;

  constructor(client: Socket, backend: Socket, onEnd: (tunnel: Tunnel) => void) {
    this.#client = client;
    this.#backend = backend;
    this.#onEnd = onEnd;
    client.setTimeout(0);
    backend.setTimeout(0);
    client.on('data', (chunk: Buffer) => {
      if (!backend.write(chunk)) {
        client.pause();
        backend.once('drain', () => client.resume());
      }
    });
    backend.on('data', (chunk: Buffer) => this.#fromBackend(chunk));
    const end = (): void => this.destroy();
    client.on('close', end);
    backend.on('close', end);
    client.on('error', end);
    backend.on('error', end);
    client.on('end', () => backend.end());
    backend.on('end', () => client.end());
  }

  /** Hands the backend's first bytes (after its 101 head) and the client's early bytes on. */
  start(backendHead: Buffer, clientHead: Buffer): void {
    if (backendHead.length > 0) this.#fromBackend(backendHead);
    if (clientHead.length > 0) this.#backend.write(clientHead);
    this.#client.resume();
    this.#backend.resume();
  }

  #fromBackend(chunk: Buffer): void {
    if (this.#ended) return;
    if (this.#closing) {
      const b = this.#toClient.nextBoundary(chunk, 0);
      if (b < 0) {
        this.#client.write(chunk);
        return;
      }
      if (b > 0) this.#client.write(chunk.subarray(0, b));
      this.#goAway();
      return;
    }
    this.#toClient.skip(chunk);
    if (!this.#client.write(chunk)) {
      this.#backend.pause();
      this.#client.once('drain', () => this.#backend.resume());
    }
  }

  /** Closes the client side with 1001 (Going Away) at the next frame boundary, and the backend. */
  goingAway(): void {
    if (this.#closing || this.#ended) return;
    this.#closing = true;
    if (this.#toClient.atBoundary) this.#goAway();
  }

  #goAway(): void {
    this.#ended = true;
    this.#backend.destroy();
    this.#client.end(CLOSE_GOING_AWAY);
    // A client that does not answer the close frame is not waited for long.
    setTimeout(() => this.#client.destroy(), 2000).unref();
  }

  /** Ends both sockets now. */
  destroy(): void {
    this.#ended = true;
    this.#client.destroy();
    this.#backend.destroy();
    if (!this.#removed) {
      this.#removed = true;
      this.#onEnd(this);
    }
  }
}

/** Proxies WebSocket upgrades and keeps the open tunnels for draining. */
export class WebSocketProxy {
  readonly #outcomes: ProxyOutcomes;
  readonly #tunnels = new Set<Tunnel>();
  readonly #handshakeTimeout: number;

  /** @param handshakeTimeout How long the session may take to answer an upgrade (ms). */
  constructor(outcomes: ProxyOutcomes, handshakeTimeout: number) {
    this.#outcomes = outcomes;
    this.#handshakeTimeout = handshakeTimeout;
  }

  /** Open tunnels. */
  get open(): number {
    return this.#tunnels.size;
  }

  /** Forwards the upgrade `request` to the session at `socketPath`. */
  forward(
    request: IncomingRequest,
    reply: ServerReply,
    socketPath: string,
    requestId: string,
  ): void {
    reply.closeAfter = true;
    const upstream = httpRequest({
      socketPath,
      method: 'GET',
      path: request.target.canonical,
      headers: forwardedFields(request, requestId, true),
      agent: false,
      setHost: false,
    });
    const timer = setTimeout(
      () => upstream.destroy(new Error('handshake timeout')),
      this.#handshakeTimeout,
    );
    reply.onClientGone(() => upstream.destroy());
    upstream.on('upgrade', (res: IncomingMessage, backend: Socket, backendHead: Buffer) => {
      clearTimeout(timer);
      if (reply.finished) {
        backend.destroy();
        return;
      }
      const { socket: client, head: clientHead } = reply.detach();
      backend.pause();
      let text = 'HTTP/1.1 101 Switching Protocols\r\n';
      for (const [name, value] of responseFields(rawFields(res), false))
        text += `${name}: ${value}\r\n`;
      text += 'Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n';
      client.write(text, 'latin1');
      reply.status = 101;
      const tunnel = new Tunnel(client, backend, (t) => this.#tunnels.delete(t));
      this.#tunnels.add(tunnel);
      tunnel.start(backendHead, clientHead);
    });
    upstream.on('response', (res: IncomingMessage) => {
      clearTimeout(timer);
      // An answer other than 101 ends the backend connection too (captured now: res.socket is cleared at its end).
      const backendSocket = res.socket;
      const drop = (): void => {
        backendSocket.destroy();
        upstream.destroy();
      };
      if (res.statusCode === 404 && res.headers['x-vesper-session'] === 'ended') {
        drop();
        this.#outcomes.ended(request, reply, []);
        return;
      }
      reply.writeHead(res.statusCode ?? 502, responseFields(rawFields(res), request.tls));
      res.on('data', (chunk: Buffer) => reply.write(chunk));
      res.once('end', () => {
        reply.end();
        drop();
      });
      res.once('close', () => {
        if (!reply.finished) reply.abort();
        drop();
      });
    });
    upstream.on('error', (err) => {
      clearTimeout(timer);
      if (reply.finished) return;
      if (reply.headSent || reply.clientGone) reply.abort();
      else if (isSessionGone(err)) this.#outcomes.ended(request, reply, []);
      else this.#outcomes.unavailable(request, reply);
    });
    upstream.end();
  }

  /** Closes every tunnel with 1001 (Going Away); returns when they are all gone or `deadline` ms passed. */
  async goingAway(deadline: number): Promise<void> {
    for (const tunnel of this.#tunnels) tunnel.goingAway();
    const until = Date.now() + deadline;
    while (this.#tunnels.size > 0 && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (const tunnel of this.#tunnels) tunnel.destroy();
  }

  /** Ends every tunnel now. */
  destroy(): void {
    for (const tunnel of this.#tunnels) tunnel.destroy();
  }
}
