/**
 * @module The full-name page: the name shown with the user's mail.
 */
import { AccountdRefusedError } from '../../accountd/client/index.js';
import { AccountHandler } from './account-handler.js';
import { asSentence } from './format.js';

/** `GET /fullname` (form), `POST /fullname` (change). */
export class FullNameHandler extends AccountHandler {
  override async get(): Promise<void> {
    const fullName = await this.accountd((c) => c.getFullName());
    await this.#form(fullName, null, 200);
  }

  override async post(): Promise<void> {
    const fullName = this.field('fullname');
    try {
      await this.accountd((c) => c.fullName(fullName));
    } catch (err) {
      if (err instanceof AccountdRefusedError && err.reason === 'INVALID') {
        await this.#form(fullName, asSentence(err.message), 400);
        return;
      }
      throw err;
    }
    this.state.events.publish({ type: 'fullname', fullName });
    await this.redirectSaved('fullname');
  }

  async #form(fullName: string, error: string | null, status: number): Promise<void> {
    await this.renderPage(
      'fullname.html',
      {
        title: 'Full name',
        page: 'fullname',
        fullName,
        error,
        notice: status === 200 ? this.savedNotice('Your full name was saved.') : null,
      },
      status,
    );
  }
}
