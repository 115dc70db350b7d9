/**
 * @module The password page: the current password, the new one twice. The
 * session's in-memory copy follows a successful change so that it can still
 * log in to accountd after going dormant.
 */
import { AccountdRefusedError } from '../../accountd/client/index.js';
import { AccountHandler } from './account-handler.js';
import { asSentence } from './format.js';

/** `GET /password` (form), `POST /password` (change). */
export class PasswordHandler extends AccountHandler {
  override async get(): Promise<void> {
    // Reaching accountd first means a session that cannot change its password is told so at once.
    await this.accountd((c) => c.noop());
    await this.#form(null, 200);
  }

  override async post(): Promise<void> {
    const current = this.field('current', false);
    const next = this.field('new', false);
    const again = this.field('confirm', false);
    if (current === '' || next === '') {
      await this.#form('Give your current password and a new one.', 400);
      return;
    }
    if (next !== again) {
      await this.#form('The two new passwords differ.', 400);
      return;
    }
    const link = this.state.accountd;
    // Make sure the connection is up and logged in, so that a NO AUTH below
    // can only be about the old password, not a failed re-login.
    await this.accountd((c) => c.noop());
    if (!link.passwordMatches(current)) {
      await this.#form('The current password is wrong.', 400);
      return;
    }
    try {
      await this.accountd((c) => c.password(current, next), { refusalsAreAnswers: true });
    } catch (err) {
      if (err instanceof AccountdRefusedError && err.reason === 'AUTH') {
        await this.#form('The current password is wrong.', 400);
        return;
      }
      if (
        err instanceof AccountdRefusedError &&
        (err.reason === 'WEAK' || err.reason === 'INVALID')
      ) {
        await this.#form(asSentence(err.message), 400);
        return;
      }
      throw err;
    }
    link.passwordChanged(next);
    this.state.events.publish({ type: 'password-changed' });
    await this.redirectSaved('password');
  }

  async #form(error: string | null, status: number): Promise<void> {
    await this.renderPage(
      'password.html',
      {
        title: 'Password',
        page: 'password',
        error,
        notice: status === 200 ? this.savedNotice('Your password was changed.') : null,
      },
      status,
    );
  }
}
