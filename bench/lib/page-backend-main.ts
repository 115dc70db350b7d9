/**
 * @module Entry of the benchmark's stand-in session backend: a src/web
 * Application on a Unix socket (mode 0600) answering
 * `GET /session/<user>/<key>/page` (or `/session/<user>//page` with the key in
 * the `vesper_session` cookie) with a fixed 2 KiB HTML page after checking the
 * key in constant time. Options arrive over IPC; it answers `ready` and runs
 * until SIGTERM.
 */
import { timingSafeEqual } from 'node:crypto';
import { Application, RequestHandler } from '../../src/web/index.js';
import { pageBody, type PageBackendOptions } from './page-backend.js';

process.once('message', (options: PageBackendOptions) => {
  const body = pageBody(options.user);
  const key = Buffer.from(options.key);
  class PageHandler extends RequestHandler {
    override get(user: string, urlKey: string): void {
      const given = Buffer.from(urlKey === '' ? (this.getCookie('vesper_session') ?? '') : urlKey);
      if (user !== options.user || given.length !== key.length || !timingSafeEqual(given, key)) {
        this.setStatus(404);
        this.setHeader('X-Vesper-Session', 'ended');
        this.write('session ended');
        return;
      }
      this.setHeader('Content-Type', 'text/html; charset=UTF-8');
      this.setHeader('Cache-Control', 'no-store');
      this.write(body);
    }
  }
  const app = new Application([['/session/([^/]+)/([^/]*)/page', PageHandler]]);
  app.listen({ path: options.socketPath, mode: 0o600 }).then(
    (server) => {
      process.once('SIGTERM', () => {
        void server.close().then(() => process.exit(0));
      });
      process.send!('ready');
    },
    (err: unknown) => {
      process.stderr.write(`page backend: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
});
