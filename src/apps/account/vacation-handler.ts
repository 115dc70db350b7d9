/**
 * @module The vacation pages: the automatic reply (on/off, subject, message,
 * days between replies to one sender) and the log of senders it went to,
 * which the user can clear.
 */
import { AccountdRefusedError, type VacationSettings } from '../../accountd/client/index.js';
import { AccountHandler } from './account-handler.js';
import { asSentence, formatTime } from './format.js';

/** The form's fields as typed, for showing them again. */
interface VacationForm {
  enabled: boolean;
  subject: string;
  body: string;
  days: string;
}

/** Checks the form's fields; accountd checks the rest (lengths, one-line subject). */
export function parseVacationForm(
  form: VacationForm,
): { settings: VacationSettings } | { error: string } {
  if (!/^\d{1,3}$/.test(form.days)) {
    return { error: 'Days between replies must be a whole number from 1 to 365.' };
  }
  const days = Number(form.days);
  if (days < 1 || days > 365) {
    return { error: 'Days between replies must be a whole number from 1 to 365.' };
  }
  return {
    settings: {
      enabled: form.enabled,
      subject: form.subject,
      body: form.body.replace(/\r\n?/g, '\n'),
      days,
    },
  };
}

/** `GET /vacation` (form), `POST /vacation` (change). */
export class VacationHandler extends AccountHandler {
  override async get(): Promise<void> {
    const v = await this.accountd((c) => c.vacation());
    await this.#form(
      { enabled: v.enabled, subject: v.subject, body: v.body, days: String(v.days) },
      null,
      200,
    );
  }

  override async post(): Promise<void> {
    const form: VacationForm = {
      enabled: this.field('enabled') !== '',
      subject: this.field('subject'),
      body: this.field('body', false),
      days: this.field('days'),
    };
    const parsed = parseVacationForm(form);
    if ('error' in parsed) {
      await this.#form(form, parsed.error, 400);
      return;
    }
    try {
      await this.accountd((c) => c.vacationChange(parsed.settings));
    } catch (err) {
      if (err instanceof AccountdRefusedError && err.reason === 'INVALID') {
        await this.#form(form, asSentence(err.message), 400);
        return;
      }
      throw err;
    }
    const { enabled, subject, days } = parsed.settings;
    this.state.events.publish({ type: 'vacation', enabled, subject, days });
    await this.redirectSaved('vacation');
  }

  async #form(form: VacationForm, error: string | null, status: number): Promise<void> {
    await this.renderPage(
      'vacation.html',
      {
        title: 'Vacation message',
        page: 'vacation',
        form,
        error,
        notice: status === 200 ? this.savedNotice('Your vacation message was saved.') : null,
      },
      status,
    );
  }
}

/** `GET /vacation/log` (the senders replied to), `POST /vacation/log` (clear it). */
export class VacationLogHandler extends AccountHandler {
  override async get(): Promise<void> {
    const entries = await this.accountd((c) => c.vacLog());
    await this.render('vacation-log.html', {
      title: 'Vacation log',
      page: 'vacation',
      entries: entries.map((e) => {
        const at = Date.parse(e.at);
        return { sender: e.sender, at: Number.isNaN(at) ? e.at : formatTime(at) };
      }),
      notice: this.savedNotice('The vacation log was cleared.'),
    });
  }

  override async post(): Promise<void> {
    await this.accountd((c) => c.vacLogClear());
    this.state.events.publish({ type: 'vacation-log-cleared' });
    await this.redirectSaved('vacation', 'log');
  }
}
