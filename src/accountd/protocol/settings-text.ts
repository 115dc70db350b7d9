/**
 * @module The text forms of forwarding settings, vacation settings and the
 * vacation log, as carried in `MAILSTATUS`/`MAILCHANGE`, `VACATION`/
 * `VACATIONCHANGE` and `VACLOG` literals: `name: value` header lines, and for
 * vacation a blank line followed by the body.
 */
import { VesperError } from '../../shared/errors/index.js';

/** Where a user's mail goes besides (or instead of) their own mailbox. */
export interface ForwardingSettings {
  /** Addresses mail is forwarded to; empty for no forwarding. */
  addresses: string[];
  /** Whether a copy is kept in the user's own mailbox. */
  keepCopy: boolean;
}

/** The automatic reply sent while the user is away. */
export interface VacationSettings {
  enabled: boolean;
  subject: string;
  body: string;
  /** Days between two replies to the same sender. */
  days: number;
}

/** One sender a vacation reply went to. */
export interface VacationLogEntry {
  sender: string;
  /** ISO 8601 time of the reply. */
  at: string;
}

/** Storage and message-count usage against the account's limits (0 = no limit). */
export interface QuotaStatus {
  bytesUsed: number;
  bytesLimit: number;
  messagesUsed: number;
  messagesLimit: number;
}

function malformed(what: string): VesperError {
  return new VesperError('VESPER_ACCOUNTD_SETTINGS_MALFORMED', what);
}

function headerLines(text: string): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line === '') continue;
    const m = /^([a-z-]+):[ \t]*(.*)$/.exec(line);
    if (m === null) throw malformed(`the line '${line.slice(0, 40)}' is not 'name: value'`);
    out.push({ name: m[1]!, value: m[2]!.trimEnd() });
  }
  return out;
}

function yesNo(name: string, value: string): boolean {
  if (value === 'yes') return true;
  if (value === 'no') return false;
  throw malformed(`${name} must be yes or no`);
}

/** Renders forwarding settings as `keep-copy:` and one `forward:` line per address. */
export function formatForwarding(settings: ForwardingSettings): string {
  const lines = [`keep-copy: ${settings.keepCopy ? 'yes' : 'no'}`];
  for (const address of settings.addresses) lines.push(`forward: ${address}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Parses the text of {@link formatForwarding}. Throws {@link VesperError}
 * `VESPER_ACCOUNTD_SETTINGS_MALFORMED` for an unknown, repeated or missing line.
 * Addresses are not validated here (the store does that).
 */
export function parseForwarding(text: string): ForwardingSettings {
  let keepCopy: boolean | undefined;
  const addresses: string[] = [];
  for (const { name, value } of headerLines(text)) {
    if (name === 'keep-copy') {
      if (keepCopy !== undefined) throw malformed('keep-copy is given twice');
      keepCopy = yesNo(name, value);
    } else if (name === 'forward') {
      addresses.push(value);
    } else {
      throw malformed(`unknown setting '${name}'`);
    }
  }
  if (keepCopy === undefined) throw malformed('keep-copy is missing');
  return { addresses, keepCopy };
}

/** Renders vacation settings as header lines, a blank line and the body. */
export function formatVacation(v: VacationSettings): string {
  return `enabled: ${v.enabled ? 'yes' : 'no'}\ndays: ${v.days}\nsubject: ${v.subject}\n\n${v.body}`;
}

/**
 * Parses the text of {@link formatVacation}: `enabled`, `days` and `subject`
 * lines (each exactly once), a blank line, then the body verbatim. Throws
 * {@link VesperError} `VESPER_ACCOUNTD_SETTINGS_MALFORMED`.
 */
export function parseVacation(text: string): VacationSettings {
  const normalized = text.replace(/\r\n/g, '\n');
  const split = normalized.indexOf('\n\n');
  const head = split < 0 ? normalized : normalized.slice(0, split);
  const body = split < 0 ? '' : normalized.slice(split + 2);
  const seen = new Map<string, string>();
  for (const { name, value } of headerLines(head)) {
    if (name !== 'enabled' && name !== 'days' && name !== 'subject') {
      throw malformed(`unknown setting '${name}'`);
    }
    if (seen.has(name)) throw malformed(`${name} is given twice`);
    seen.set(name, value);
  }
  const enabled = seen.get('enabled');
  const days = seen.get('days');
  const subject = seen.get('subject');
  if (enabled === undefined || days === undefined || subject === undefined) {
    throw malformed('enabled, days and subject are all required');
  }
  if (!/^\d{1,4}$/.test(days)) throw malformed('days must be a whole number');
  return { enabled: yesNo('enabled', enabled), days: Number(days), subject, body };
}

/** Renders the vacation log, one `TIME SENDER` line per entry. */
export function formatVacationLog(entries: readonly VacationLogEntry[]): string {
  return entries.map((e) => `${e.at} ${e.sender}\n`).join('');
}

/** Parses the text of {@link formatVacationLog}. Throws on a malformed line. */
export function parseVacationLog(text: string): VacationLogEntry[] {
  const out: VacationLogEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const m = /^(\S+) (\S+)$/.exec(line);
    if (m === null) throw malformed('a vacation log line is not TIME SENDER');
    out.push({ at: m[1]!, sender: m[2]! });
  }
  return out;
}
