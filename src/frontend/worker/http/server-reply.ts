/**
 * @module The answer to one request on a client connection: status line, header fields and a body framed by length, chunks or close.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

/** Which keep-alive wait follows a request (`frontend.timeout.idle`, `.icons`, `.session`). */
export type KeepAliveKind = 'idle' | 'icons' | 'session';

/** What the connection needs to know about a reply while and after it is written. */
export interface ReplyOwner {
  /** Called once when the reply has been completely handed to the socket. */
  replyFinished(reply: ServerReply): void;
  /** Gives the raw socket to the caller (WebSocket proxy); the connection forgets it. */
  detach(): { socket: Socket; head: Buffer };
}

const NO_BODY_STATUS = (status: number): boolean =>
  (status >= 100 && status < 200) || status === 204 || status === 304;

/**
 * Writes one response. Framing is chosen from the fields: a `Content-Length`
 * is kept; otherwise HTTP/1.1 clients get chunked framing and HTTP/1.0
 * clients a close-delimited body. `Connection` and `Transfer-Encoding` given
 * by the caller are ignored: the reply decides them. Bodies of HEAD requests
 * and of 1xx/204/304 answers are never written.
 */
export class ServerReply {
  /** The keep-alive wait that follows this request; routes set it. */
  kind: KeepAliveKind = 'idle';
  /** Set to close the connection after this reply. */
  closeAfter: boolean;
  /** The status sent, once the head is written. */
  status = 0;
  /** Body bytes handed to the socket (framing excluded). */
  bytes = 0;
  readonly #socket: Socket;
  readonly #owner: ReplyOwner;
  readonly #head: boolean;
  readonly #http11: boolean;
  readonly #stallTimeout: number;
  #headSent = false;
  #chunked = false;
  #noBody = false;
  #finished = false;
  #onFinish: (() => void) | null = null;
  #gone: (() => void) | null = null;

  constructor(
    socket: Socket,
    owner: ReplyOwner,
    options: { method: string; http11: boolean; keepAlive: boolean; stallTimeout?: number },
  ) {
    this.#stallTimeout = options.stallTimeout ?? 60_000;
    this.#socket = socket;
    this.#owner = owner;
    this.#head = options.method === 'HEAD';
    this.#http11 = options.http11;
    this.closeAfter = !options.keepAlive;
  }

  /** True once the status line has been written. */
  get headSent(): boolean {
    return this.#headSent;
  }

  /** True once {@link end} ran (or the socket was detached). */
  get finished(): boolean {
    return this.#finished;
  }

  /** Calls `listener` once when the reply ends, is aborted or gives its socket away (for the access log). */
  onFinish(listener: () => void): void {
    this.#onFinish = listener;
  }

  #finish(): void {
    this.#finished = true;
    this.#gone = null;
    const listener = this.#onFinish;
    this.#onFinish = null;
    listener?.();
  }

  /** True once the client connection is closed (nothing written will arrive). */
  get clientGone(): boolean {
    return this.#socket.destroyed;
  }

  /** True when the socket can take more right now (backpressure). */
  get writable(): boolean {
    return !this.#socket.destroyed && this.#socket.writableNeedDrain !== true;
  }

  /**
   * Calls `listener` once when the socket drains or closes. If the client
   * reads nothing for the stall timeout (`frontend.timeout.body`) meanwhile,
   * the connection is destroyed (a slow-read client).
   */
  onceDrained(listener: () => void): void {
    const done = (): void => {
      clearTimeout(timer);
      this.#socket.off('drain', done);
      this.#socket.off('close', done);
      listener();
    };
    // A client that stops reading must not hold the connection (and the session's) forever.
    const timer = setTimeout(() => this.#socket.destroy(), this.#stallTimeout);
    this.#socket.on('drain', done);
    this.#socket.on('close', done);
  }

  /**
   * Writes the status line and the fields. `options.first`, the first body
   * bytes, leaves with the head in one buffer (one write, not a head write
   * and a body write); the return value is then that of {@link write}.
   * `first` is copied: the caller may reuse its memory when this returns.
   * @throws Error when the head was already written.
   */
  writeHead(
    status: number,
    fields: readonly (readonly [string, string])[],
    options: { framedChunks?: boolean; first?: Buffer } = {},
  ): boolean {
    if (this.#headSent) throw new Error('ServerReply: head already written');
    this.#headSent = true;
    this.status = status;
    this.#noBody = this.#head || NO_BODY_STATUS(status);
    let hasLength = false;
    let text = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    for (const [name, value] of fields) {
      // Only Connection, Keep-Alive (10), Content-Length (14) and Transfer-Encoding (17) matter here.
      const n = name.length;
      if (n === 10 || n === 14 || n === 17) {
        const lower = name.toLowerCase();
        if (lower === 'connection' || lower === 'transfer-encoding' || lower === 'keep-alive')
          continue;
        if (lower === 'content-length') hasLength = true;
      }
      text += `${name}: ${value}\r\n`;
    }
    if (!hasLength && !NO_BODY_STATUS(status)) {
      if (this.#http11) {
        // framedChunks: the caller writes bytes that are already chunk-framed (a chunked upstream body passed through).
        this.#chunked = !this.#head && options.framedChunks !== true;
        if (!this.#head) text += 'Transfer-Encoding: chunked\r\n';
      } else this.closeAfter = true;
    }
    text += this.closeAfter ? 'Connection: close\r\n\r\n' : '\r\n';
    const first = options.first;
    if (first === undefined || first.length === 0 || this.#noBody || this.#chunked) {
      const ok = this.#socket.write(text, 'latin1');
      return first === undefined || this.#noBody ? ok : this.write(Buffer.from(first));
    }
    if (this.#finished || this.#socket.destroyed) return true;
    this.bytes += first.length;
    const whole = Buffer.allocUnsafe(text.length + first.length);
    whole.write(text, 0, 'latin1');
    first.copy(whole, text.length);
    return this.#socket.write(whole);
  }

  /** Holds writes back until {@link uncork}, so a head and its first body bytes leave in one write. */
  cork(): void {
    this.#socket.cork();
  }

  /** Releases what {@link cork} held back. */
  uncork(): void {
    this.#socket.uncork();
  }

  /** Writes body bytes; returns false when the caller should wait for {@link onceDrained}. */
  write(chunk: Buffer | string): boolean {
    if (!this.#headSent) throw new Error('ServerReply: write before writeHead');
    if (this.#noBody || this.#finished || this.#socket.destroyed) return true;
    const data = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    if (data.length === 0) return true;
    this.bytes += data.length;
    if (this.#chunked) {
      this.#socket.cork();
      this.#socket.write(`${data.length.toString(16)}\r\n`, 'latin1');
      this.#socket.write(data);
      const ok = this.#socket.write('\r\n', 'latin1');
      this.#socket.uncork();
      return ok;
    }
    return this.#socket.write(data);
  }

  /** Finishes the reply (writing `chunk` first when given). A second call does nothing. */
  end(chunk?: Buffer | string): void {
    if (this.#finished) return;
    if (chunk !== undefined) this.write(chunk);
    if (this.#chunked && !this.#socket.destroyed) this.#socket.write('0\r\n\r\n', 'latin1');
    this.#finish();
    this.#owner.replyFinished(this);
  }

  /** Writes a whole response with a `Content-Length`. */
  send(
    status: number,
    fields: readonly (readonly [string, string])[],
    body: Buffer | string,
  ): void {
    const data = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    this.#socket.cork();
    this.writeHead(status, [...fields, ['Content-Length', String(data.length)]]);
    this.end(data);
    this.#socket.uncork();
  }

  /** Destroys the connection: for an answer that cannot be completed (the upstream failed mid-body). */
  abort(): void {
    if (this.#finished) return;
    this.#finish();
    this.#socket.destroy();
    this.#owner.replyFinished(this);
  }

  /**
   * Calls `listener` once if the client connection closes before this reply
   * finished. The connection's own close listener reports it
   * ({@link clientClosed}): a listener per request on a keep-alive socket
   * costs more than the rest of a proxied request's bookkeeping.
   */
  onClientGone(listener: () => void): void {
    if (this.#socket.destroyed) {
      if (!this.#finished) queueMicrotask(listener);
      return;
    }
    this.#gone = listener;
  }

  /** The owner's word that the client connection closed: runs the {@link onClientGone} listener of an unfinished reply. */
  clientClosed(): void {
    const listener = this.#gone;
    this.#gone = null;
    if (listener !== null && !this.#finished) listener();
  }

  /**
   * Takes the socket away from the connection (for a WebSocket proxy): the
   * connection stops reading and timing it. Returns the socket and any bytes
   * the client already sent after the request head.
   */
  detach(): { socket: Socket; head: Buffer } {
    this.#headSent = true;
    this.#finish();
    return this.#owner.detach();
  }
}
