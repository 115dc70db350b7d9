/**
 * @module `GET /token`: a fresh one-time WebSocket token for the page's live
 * script, as JSON, with the URL to open.
 */
import { isVesperError } from '../../shared/errors/index.js';
import { AccountHandler } from './account-handler.js';

/**
 * `GET /token` → `{"token": "...", "url": "/session/alice//ws?ws_token=..."}`;
 * `503 {"error": "unavailable"}` when the token store cannot issue one (Redis
 * down), which the page's script answers by trying again later.
 */
export class TokenHandler extends AccountHandler {
  override async get(): Promise<void> {
    const { ctx } = this.state;
    let token: string;
    try {
      token = await ctx.tokens.issue(ctx.user, ctx.config.session.ws_token_ttl);
    } catch (err) {
      if (
        !isVesperError(err, 'VESPER_WEB_TOKEN_STORE_UNAVAILABLE') &&
        !isVesperError(err, 'VESPER_WEB_TOKEN_STORE_CLOSED')
      ) {
        throw err;
      }
      this.log.warn(`The live channel cannot get a WebSocket token: ${err.message}`);
      this.setStatus(503);
      this.write({ error: 'unavailable' });
      return;
    }
    this.write({ token, url: `${this.pageUrl('ws')}?ws_token=${encodeURIComponent(token)}` });
  }
}
