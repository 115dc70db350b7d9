/**
 * @module The quota page: storage and message counts against the account's
 * limits, always asked afresh; a change since the last answer is published
 * to the live channel, so other open pages update.
 */
import { AccountHandler } from './account-handler.js';
import { formatBytes, formatLimit, percentOf } from './format.js';

/** `GET /quota`. */
export class QuotaHandler extends AccountHandler {
  override async get(): Promise<void> {
    const { quota, changed } = await this.state.accountd.quota(true);
    if (changed) this.state.events.publish({ type: 'quota', quota });
    await this.render('quota.html', {
      title: 'Quota',
      page: 'quota',
      rows: [
        {
          what: 'Storage',
          key: 'bytes',
          used: formatBytes(quota.bytesUsed),
          limit: formatLimit(quota.bytesLimit, formatBytes),
          percent: percentOf(quota.bytesUsed, quota.bytesLimit),
        },
        {
          what: 'Messages',
          key: 'messages',
          used: String(quota.messagesUsed),
          limit: formatLimit(quota.messagesLimit),
          percent: percentOf(quota.messagesUsed, quota.messagesLimit),
        },
      ],
    });
  }
}
