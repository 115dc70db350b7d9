/**
 * @module The benchmark's session application (`session.app` set to this
 * compiled module's absolute path): `page` answers a fixed 2 KiB HTML page, so
 * that the proxy benchmark measures the hops and not an application;
 * `slow/<ms>` answers the same page after a delay (at most 10 s), so that
 * tests can hold a request in flight while they signal the gateway.
 */
import type { SessionApp, SessionAppContext } from '../../src/session/app.js';
// Like the account application, only the modules it uses, not the whole public entry.
import { Application } from '../../src/web/application.js';
import { RequestHandler } from '../../src/web/request-handler.js';
import { pageBody } from './page-backend.js';

/** Longest delay `slow/<ms>` accepts. */
const MAX_DELAY_MS = 10_000;

/** Creates the session's application: `GET <session prefix>/page` → the 2 KiB page. */
export default function benchSessionApp(ctx: SessionAppContext): SessionApp {
  const body = pageBody(ctx.user);
  const answer = (h: RequestHandler): void => {
    h.setHeader('Content-Type', 'text/html; charset=UTF-8');
    h.setHeader('Cache-Control', 'no-store');
    h.write(body);
  };
  class PageHandler extends RequestHandler {
    override get(): void {
      answer(this);
    }
  }
  class SlowPageHandler extends RequestHandler {
    override async get(ms?: string): Promise<void> {
      await new Promise((r) => setTimeout(r, Math.min(Number(ms), MAX_DELAY_MS)));
      answer(this);
    }
  }
  return {
    application: new Application([
      ['/page', PageHandler],
      ['/slow/(\\d{1,5})', SlowPageHandler],
    ]),
  };
}
