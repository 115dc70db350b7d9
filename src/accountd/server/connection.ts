/**
 * @module One accountd client connection: parses what arrives, runs the
 * commands one at a time in arrival order, and enforces the per-connection
 * limits (commands, idle time) and the drain on close.
 *
 * ```
 *  data ──▶ parser ──▶ queue ──▶ run one command ──▶ write reply ──┐
 *              │          ▲                                          │
 *              │          └──────────── next queued ◀────────────────┘
 *              └─ fatal (literal too large) ──▶ BAD, end
 *  idle timer ──▶ BAD TIMEOUT, end        close() ──▶ stop reading, finish queue, end
 * ```
 */
import type { Socket } from 'node:net';
import type { Logger } from '../../shared/log/index.js';
import { MessageParser, type ParseEvent, type ParserLimits } from '../protocol/message-parser.js';
import { badReply } from '../protocol/reply.js';
import type { AccountStore } from '../store/account-store.js';
import { runCommand, type CommandContext } from './command-handlers.js';
import type { LoginThrottle } from './login-throttle.js';

/** Settings shared by every connection of a server. */
export interface ConnectionSettings {
  store: AccountStore;
  throttle: LoginThrottle;
  log: Logger;
  limits: ParserLimits & { commands: number };
  idleTimeoutMs: number;
}

/** Commands parsed ahead of the one running before the socket stops being read. */
const MAX_QUEUED = 32;

/** Commands that run scrypt: not worth starting for a client that has gone. */
const PASSWORD_COMMANDS = new Set(['LOGIN', 'PASSWORD']);

/** Serves one socket until it ends; see the module diagram. */
export class AccountdConnection {
  readonly #socket: Socket;
  readonly #settings: ConnectionSettings;
  readonly #parser: MessageParser;
  readonly #ctx: CommandContext;
  readonly #queue: ParseEvent[] = [];
  readonly #done: Promise<void>;
  #commands = 0;
  #running = false;
  #ending = false;
  #draining = false;
  #idleTimer: NodeJS.Timeout | undefined;

  constructor(
    socket: Socket,
    settings: ConnectionSettings,
    peer: { label: string; trusted: boolean },
  ) {
    this.#socket = socket;
    this.#settings = settings;
    this.#parser = new MessageParser(settings.limits);
    this.#ctx = {
      store: settings.store,
      throttle: settings.throttle,
      log: settings.log,
      peer: peer.label,
      trusted: peer.trusted,
      user: undefined,
    };
    this.#done = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => socket.destroy());
    socket.once('close', () => this.#clearIdle());
    this.#armIdle();
  }

  /** Resolves when the socket has closed. */
  get closed(): Promise<void> {
    return this.#done;
  }

  #armIdle(): void {
    this.#clearIdle();
    if (this.#settings.idleTimeoutMs <= 0) return;
    this.#idleTimer = setTimeout(() => {
      if (this.#running) return;
      this.#end(badReply('TIMEOUT', 'idle for too long'));
    }, this.#settings.idleTimeoutMs);
    this.#idleTimer.unref();
  }

  #clearIdle(): void {
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  #onData(chunk: Buffer): void {
    if (this.#ending) return;
    this.#armIdle();
    for (const event of this.#parser.push(chunk)) this.#queue.push(event);
    if (this.#queue.length > MAX_QUEUED) this.#socket.pause();
    void this.#pump();
  }

  async #pump(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      while (!this.#ending) {
        const event = this.#queue.shift();
        if (event === undefined) break;
        await this.#handle(event);
        if (this.#queue.length <= MAX_QUEUED / 2 && !this.#draining) this.#socket.resume();
      }
    } finally {
      this.#running = false;
    }
    if (!this.#ending) {
      this.#armIdle();
      if (this.#draining) this.#end(undefined);
    }
  }

  /** True once the client has closed its side: no reply can reach it. */
  #peerGone(): boolean {
    return this.#socket.destroyed || this.#socket.readableEnded;
  }

  async #handle(event: ParseEvent): Promise<void> {
    if (event.type === 'message' && PASSWORD_COMMANDS.has(event.tokens[0]?.toUpperCase() ?? '')) {
      // A client that gave up on its timeout while accountd was stopped or
      // slow has closed by the time this one turn has passed; its scrypt would
      // only delay the clients still waiting.
      await new Promise((resolve) => setImmediate(resolve));
      if (this.#peerGone()) {
        this.#queue.length = 0;
        return;
      }
    }
    this.#commands += 1;
    if (this.#commands > this.#settings.limits.commands) {
      this.#end(badReply('LIMIT', `more than ${this.#settings.limits.commands} commands`));
      return;
    }
    if (event.type === 'error') {
      const reply = badReply(event.code, event.message);
      if (event.fatal) this.#end(reply);
      else await this.#write(reply);
      return;
    }
    const result = await runCommand(this.#ctx, event.tokens);
    if (result.close === true) this.#end(result.reply);
    else await this.#write(result.reply);
  }

  #write(bytes: Buffer): Promise<void> {
    if (this.#socket.destroyed || this.#ending) return Promise.resolve();
    if (this.#socket.write(bytes)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.#socket.off('drain', done);
        this.#socket.off('close', done);
        resolve();
      };
      this.#socket.on('drain', done);
      this.#socket.on('close', done);
    });
  }

  /** Writes `last` (if any) and ends the connection; later input is ignored. */
  #end(last: Buffer | undefined): void {
    if (this.#ending) return;
    this.#ending = true;
    this.#clearIdle();
    this.#queue.length = 0;
    if (last === undefined) this.#socket.end();
    else this.#socket.end(last);
    // A peer that never reads must not hold the socket open.
    setTimeout(() => this.#socket.destroy(), 5000).unref();
  }

  /**
   * Drains: stops reading, answers what was already received, then ends.
   * Resolves when the socket has closed.
   */
  close(): Promise<void> {
    this.#draining = true;
    this.#socket.pause();
    if (!this.#running && this.#queue.length === 0) this.#end(undefined);
    return this.#done;
  }

  /** Closes the socket at once. */
  destroy(): void {
    this.#ending = true;
    this.#socket.destroy();
  }
}
