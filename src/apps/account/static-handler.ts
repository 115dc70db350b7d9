/**
 * @module The application's static files (`static/live.js`, `static/account.css`)
 * with the same security headers as its pages.
 */
import { StaticFileHandler } from '../../web/static-file-handler.js';
import { applySecurityHeaders } from './security-headers.js';

/** `StaticFileHandler` plus {@link applySecurityHeaders}. */
export class AccountStaticHandler extends StaticFileHandler {
  override setDefaultHeaders(): void {
    applySecurityHeaders((name, value) => this.setHeader(name, value));
  }
}
