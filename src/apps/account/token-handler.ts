/**
 * @module `GET /token`: a fresh one-time WebSocket token for the page's live
 * script, as JSON, with the URL to open.
 */
import { AccountHandler } from './account-handler.js';

/** `GET /token` → `{"token": "...", "url": "/session/alice//ws?ws_token=..."}`. */
export class TokenHandler extends AccountHandler {
  override async get(): Promise<void> {
    const { ctx } = this.state;
    const token = await ctx.tokens.issue(ctx.user, ctx.config.session.ws_token_ttl);
    this.write({ token, url: `${this.pageUrl('ws')}?ws_token=${encodeURIComponent(token)}` });
  }
}
