/**
 * @module The forwarding page: where mail goes besides (or instead of) the
 * user's own mailbox. Validation errors are shown in the form with what the
 * user typed; a success redirects (303) and is published to the live channel.
 */
import { AccountdRefusedError, type ForwardingSettings } from '../../accountd/client/index.js';
import { AccountHandler } from './account-handler.js';
import { asSentence } from './format.js';

/** Most lines the form accepts before asking accountd (which allows 20 addresses). */
export const MAX_FORWARDING_LINES = 100;

/** Splits the form's text into addresses (one per line, blank lines ignored), or says what is wrong. */
export function parseForwardingForm(
  text: string,
  keepCopy: boolean,
): { settings: ForwardingSettings } | { error: string } {
  const addresses = text
    .split(/\r?\n|\r/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  if (addresses.length > MAX_FORWARDING_LINES) {
    return { error: `Give at most ${MAX_FORWARDING_LINES} lines.` };
  }
  const spaced = addresses.find((a) => /\s/.test(a));
  if (spaced !== undefined) {
    return {
      error: `"${spaced.slice(0, 100)}" is not a mail address: put one address on each line.`,
    };
  }
  return { settings: { addresses, keepCopy } };
}

/** `GET /forwarding` (form), `POST /forwarding` (change). */
export class ForwardingHandler extends AccountHandler {
  override async get(): Promise<void> {
    const current = await this.accountd((c) => c.mailStatus());
    await this.#form(current.addresses.join('\n'), current.keepCopy, null, 200);
  }

  override async post(): Promise<void> {
    const text = this.field('addresses', false);
    const keepCopy = this.field('keep_copy') !== '';
    const parsed = parseForwardingForm(text, keepCopy);
    if ('error' in parsed) {
      await this.#form(text, keepCopy, parsed.error, 400);
      return;
    }
    try {
      await this.accountd((c) => c.mailChange(parsed.settings));
    } catch (err) {
      if (err instanceof AccountdRefusedError && err.reason === 'INVALID') {
        await this.#form(text, keepCopy, asSentence(err.message), 400);
        return;
      }
      throw err;
    }
    this.state.events.publish({ type: 'forwarding', forwarding: parsed.settings });
    await this.redirectSaved('forwarding');
  }

  async #form(
    addresses: string,
    keepCopy: boolean,
    error: string | null,
    status: number,
  ): Promise<void> {
    await this.renderPage(
      'forwarding.html',
      {
        title: 'Forwarding',
        page: 'forwarding',
        addresses,
        keepCopy,
        error,
        notice: status === 200 ? this.savedNotice('Your forwarding settings were saved.') : null,
      },
      status,
    );
  }
}
