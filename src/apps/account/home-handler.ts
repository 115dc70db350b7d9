/**
 * @module The home page: who is logged in, their full name, when they logged
 * in, the session's state and a quota summary. It stays usable (200) while
 * account services are unavailable and says so.
 */
import { AccountServiceError } from './account-errors.js';
import { AccountHandler } from './account-handler.js';
import { formatBytes, formatDuration, formatLimit, formatTime, percentOf } from './format.js';

/** `GET /home`. */
export class HomeHandler extends AccountHandler {
  override async get(): Promise<void> {
    const { ctx, accountd, events } = this.state;
    let account:
      | { fullName: string; quota: { used: string; limit: string; percent: number | null } }
      | undefined;
    let problem: AccountServiceError['problem'] | undefined;
    try {
      const fullName = await this.accountd((c) => c.getFullName());
      const { quota, changed } = await accountd.quota();
      if (changed) events.publish({ type: 'quota', quota });
      account = {
        fullName,
        quota: {
          used: formatBytes(quota.bytesUsed),
          limit: formatLimit(quota.bytesLimit, formatBytes),
          percent: percentOf(quota.bytesUsed, quota.bytesLimit),
        },
      };
    } catch (err) {
      if (!(err instanceof AccountServiceError)) throw err;
      this.logException(err);
      problem = err.problem;
    }
    const s = ctx.config.session;
    await this.render('home.html', {
      title: 'Home',
      page: 'home',
      account,
      problem,
      session: {
        number: ctx.session,
        loginAt: formatTime(ctx.loginAt),
        secure: ctx.clientTls,
        accountd: accountd.state,
        liveChannels: this.state.channelCount,
        idleTime: formatDuration(s.idle_time),
        timeout: formatDuration(s.timeout),
      },
    });
  }
}

/** `GET /`: the home page. */
export class RootHandler extends AccountHandler {
  override get(): Promise<void> {
    return this.redirect(this.pageUrl('home'), false, 302);
  }
}

/** Every path no rule matches: the application's 404 page. */
export class NotFoundHandler extends AccountHandler {
  override prepare(): void {
    this.sendError(404);
  }

  // An unknown path answers 404 whatever the method, before any XSRF check.
  override checkXsrfCookie(): void {}
}
