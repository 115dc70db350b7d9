/**
 * @module `/ws`: the live channel. A token-authenticated WebSocket that pushes
 * the session's account events (a change made in another tab) to the page as
 * JSON text messages, `{"type": "forwarding", ..., "at": <ms>}`.
 */
import { HttpError } from '../../web/web-errors.js';
import { WebSocketTokenAuth } from '../../web/websocket/token-auth.js';
import { WebSocketHandler } from '../../web/websocket/websocket-handler.js';
import { stateFrom } from './account-handler.js';
import type { AccountState } from './account-state.js';
import { applySecurityHeaders } from './security-headers.js';

/** What the channel sends first, once open. */
export interface LiveHello {
  type: 'hello';
  user: string;
  session: number;
}

/**
 * The live channel. The token comes from `GET /token` (`ws_token` query
 * argument) and must have been issued to this session's user; the page never
 * needs the session key. Messages from the page are ignored.
 */
export class LiveHandler extends WebSocketTokenAuth(WebSocketHandler) {
  #state: AccountState | undefined;
  #unsubscribe: (() => void) | undefined;
  #unregister: (() => void) | undefined;

  override initialize(kwargs: Record<string, unknown>): void {
    this.#state = stateFrom(kwargs);
  }

  override setDefaultHeaders(): void {
    applySecurityHeaders((name, value) => this.setHeader(name, value));
  }

  /** Consumes the token, then refuses one issued to someone else (401). */
  override async authorizeUpgrade(): Promise<void> {
    await super.authorizeUpgrade();
    if (this.currentUser !== this.#state?.ctx.user) {
      throw new HttpError(401, 'the WebSocket token was issued to another user');
    }
  }

  override open(): void {
    const state = this.#state!;
    this.#unsubscribe = state.events.subscribe((event, at) => {
      this.writeMessage({ ...event, at }).catch(() => undefined);
    });
    this.#unregister = state.registerChannel(this);
    const hello: LiveHello = { type: 'hello', user: state.ctx.user, session: state.ctx.session };
    this.writeMessage({ ...hello }).catch(() => undefined);
  }

  override onMessage(): void {
    // The channel only talks; what the page sends is not used.
  }

  override onClose(): void {
    this.#unsubscribe?.();
    this.#unregister?.();
  }
}
