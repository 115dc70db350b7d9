/**
 * @module Test helpers for accountd: temporary directories, a store with a
 * cheap scrypt cost, a server on a temporary Unix socket, and a raw socket
 * client that collects reply bytes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageParser } from '../../src/accountd/protocol/message-parser.js';
import {
  AccountdServer,
  type AccountdServerOptions,
} from '../../src/accountd/server/accountd-server.js';
import { AccountStore, type AccountStoreOptions } from '../../src/accountd/store/account-store.js';
import type { ScryptParams } from '../../src/accountd/store/password-hash.js';

/** A scrypt cost that keeps tests fast; never for real accounts. */
export const CHEAP_SCRYPT: ScryptParams = { N: 1024, r: 8, p: 1, keylen: 32 };

/** Makes a private temporary directory; `cleanup` removes every one made. */
export function tempDirs(): { make: () => string; cleanup: () => void } {
  const dirs: string[] = [];
  return {
    make: () => {
      const d = mkdtempSync(join(tmpdir(), 'vesper-accountd-'));
      dirs.push(d);
      return d;
    },
    cleanup: () => {
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    },
  };
}

/** An opened store under `root` (`root/accounts`, `root/mail`). */
export async function makeStore(
  root: string,
  options: Partial<AccountStoreOptions> = {},
): Promise<AccountStore> {
  const store = new AccountStore({
    dir: join(root, 'accounts'),
    mailDir: join(root, 'mail'),
    quotaDefaults: { bytes: 1_000_000, messages: 100 },
    scrypt: CHEAP_SCRYPT,
    localDomains: ['example.org'],
    ...options,
  });
  await store.open();
  return store;
}

/** A server listening on `root/accountd.sock`. */
export async function startServer(
  store: AccountStore,
  root: string,
  options: Partial<AccountdServerOptions> = {},
): Promise<{ server: AccountdServer; path: string }> {
  const server = new AccountdServer({ store, failureDelayMs: 0, ...options });
  const path = join(root, 'accountd.sock');
  await server.listenUnix(path);
  return { server, path };
}

/** A raw protocol connection that records every byte received. */
export class RawConn {
  readonly socket: Socket;
  received = Buffer.alloc(0);
  closed = false;
  readonly #parser = new MessageParser({ line: 1 << 20, literal: 1 << 22 });
  #messages = 0;
  #waiters: (() => void)[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.#messages += this.#parser.push(chunk).length;
      this.#wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
    socket.on('error', () => undefined);
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  static open(path: string): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const s = connect(path);
      s.once('connect', () => resolve(new RawConn(s)));
      s.once('error', reject);
    });
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Resolves to the text received once `n` replies have arrived (or the socket closed). */
  async replies(n: number, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.#messages < n && !this.closed) {
      if (Date.now() > deadline) throw new Error(`only ${this.#messages} of ${n} replies arrived`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return this.received.toString('utf8');
  }

  /** Resolves when the server has closed the connection. */
  async whenClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('the connection did not close');
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  /** Sends `command` and resolves to the text of its reply alone. */
  async ask(command: string | Buffer): Promise<string> {
    const before = this.received.length;
    const target = this.#messages + 1;
    this.send(command);
    await this.replies(target);
    return this.received.subarray(before).toString('utf8');
  }

  destroy(): void {
    this.socket.destroy();
  }
}
