/**
 * @module What every handler of one account session shares: the session's
 * context, its accountd connection, its event bus and its open live channels.
 */
import type { SessionAppContext } from '../../session/app.js';
import type { AccountdLink } from './accountd-link.js';
import type { AccountEventBus } from './event-bus.js';

/** An open live channel, as far as closing it at exit goes. */
export interface LiveChannel {
  close(code?: number, reason?: string): void;
}

/** The state of one running account application; handlers get it as the rule kwarg `state`. */
export class AccountState {
  /** The session's context (user, config, log, tokens, URLs). */
  readonly ctx: SessionAppContext;
  /** The session's accountd connection. */
  readonly accountd: AccountdLink;
  /** Where handlers publish changes for the live channel. */
  readonly events: AccountEventBus;
  readonly #channels = new Set<LiveChannel>();

  constructor(ctx: SessionAppContext, accountd: AccountdLink, events: AccountEventBus) {
    this.ctx = ctx;
    this.accountd = accountd;
    this.events = events;
  }

  /** Records an open live channel; returns the function that forgets it. */
  registerChannel(channel: LiveChannel): () => void {
    this.#channels.add(channel);
    return () => {
      this.#channels.delete(channel);
    };
  }

  /** The number of open live channels. */
  get channelCount(): number {
    return this.#channels.size;
  }

  /** Closes every open live channel (1001 "going away" when the session ends). */
  closeChannels(code = 1001, reason = 'the session has ended'): void {
    for (const channel of [...this.#channels]) {
      try {
        channel.close(code, reason);
      } catch {
        // Already closing: nothing more to do.
      }
    }
    this.#channels.clear();
  }
}
