/**
 * @module The on-disk account record (`accounts/<name>.json`, version 1):
 * its schema, a strict parser, and the validation of every user-settable field.
 */
import type {
  ForwardingSettings,
  VacationLogEntry,
  VacationSettings,
} from '../protocol/settings-text.js';
import { isValidAccountName } from './account-name.js';
import { isValidMailAddress } from './mail-address.js';
import { scryptParamsProblem, type PasswordHash } from './password-hash.js';
import { AccountStoreError, STORE_ERROR_CODES } from './store-errors.js';

/** The record format version this code writes and reads. */
export const RECORD_VERSION = 1;

/** Most forwarding addresses per account. */
export const MAX_FORWARD_ADDRESSES = 20;
/** Longest full name, in characters. */
export const MAX_FULL_NAME = 200;
/** Longest vacation subject, in characters. */
export const MAX_VACATION_SUBJECT = 200;
/** Longest vacation body, in characters. */
export const MAX_VACATION_BODY = 16_000;
/** Most entries kept in the vacation log (the oldest go first). */
export const MAX_VACATION_LOG = 1000;

/** One account, as stored. */
export interface AccountRecord {
  version: typeof RECORD_VERSION;
  name: string;
  password: PasswordHash;
  fullName: string;
  /** Limits; 0 means no limit. */
  quota: { bytes: number; messages: number };
  forwarding: ForwardingSettings;
  vacation: VacationSettings;
  vacationLog: VacationLogEntry[];
  /** ISO 8601 times. */
  created: string;
  updated: string;
}

/** The vacation settings of a new account. */
export const DEFAULT_VACATION: VacationSettings = {
  enabled: false,
  subject: '',
  body: '',
  days: 7,
};

function invalid(message: string): AccountStoreError {
  return new AccountStoreError(STORE_ERROR_CODES.invalidValue, message);
}

// Control characters (Cc): a name or subject is one line of visible text.
const CONTROL = /\p{Cc}/u;

/** Throws {@link AccountStoreError} `VESPER_ACCOUNTD_INVALID_VALUE` for an unacceptable full name. */
export function validateFullName(fullName: string): string {
  if ([...fullName].length > MAX_FULL_NAME) {
    throw invalid(`the full name must be at most ${MAX_FULL_NAME} characters`);
  }
  if (CONTROL.test(fullName)) throw invalid('the full name must not contain control characters');
  return fullName;
}

/** Throws {@link AccountStoreError} `VESPER_ACCOUNTD_INVALID_VALUE` for an unacceptable quota limit. */
export function validateQuotaLimit(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw invalid(`${what} must be a whole number, 0 for no limit`);
  }
  return value;
}

/**
 * Validates forwarding settings for user `name`: every address well-formed
 * and listed once, at most {@link MAX_FORWARD_ADDRESSES}, mail kept when there
 * is nowhere else for it to go, and no forwarding to oneself (user `name` at
 * one of `localDomains`) without keeping a copy, which would loop or lose mail.
 * Returns the settings with addresses trimmed; throws {@link AccountStoreError}
 * `VESPER_ACCOUNTD_INVALID_VALUE`.
 */
export function validateForwarding(
  name: string,
  settings: ForwardingSettings,
  localDomains: readonly string[],
): ForwardingSettings {
  const addresses = settings.addresses.map((a) => a.trim());
  if (addresses.length > MAX_FORWARD_ADDRESSES) {
    throw invalid(`at most ${MAX_FORWARD_ADDRESSES} forwarding addresses are allowed`);
  }
  const seen = new Set<string>();
  for (const address of addresses) {
    if (!isValidMailAddress(address)) {
      throw invalid(`${JSON.stringify(address.slice(0, 100))} is not a valid mail address`);
    }
    const key = address.toLowerCase();
    if (seen.has(key)) throw invalid(`${address} is listed twice`);
    seen.add(key);
  }
  if (addresses.length === 0 && !settings.keepCopy) {
    throw invalid('with no forwarding address, mail must be kept');
  }
  const self = new Set(localDomains.map((d) => `${name}@${d}`.toLowerCase()));
  if (!settings.keepCopy && addresses.some((a) => self.has(a.toLowerCase()))) {
    throw invalid('forwarding to oneself without keeping a copy would lose mail');
  }
  return { addresses, keepCopy: settings.keepCopy };
}

/** Validates vacation settings; throws {@link AccountStoreError} `VESPER_ACCOUNTD_INVALID_VALUE`. */
export function validateVacation(v: VacationSettings): VacationSettings {
  if (!Number.isInteger(v.days) || v.days < 1 || v.days > 365) {
    throw invalid('days between replies must be 1..365');
  }
  if ([...v.subject].length > MAX_VACATION_SUBJECT) {
    throw invalid(`the subject must be at most ${MAX_VACATION_SUBJECT} characters`);
  }
  if (CONTROL.test(v.subject)) throw invalid('the subject must be one line of text');
  if ([...v.body].length > MAX_VACATION_BODY) {
    throw invalid(`the message must be at most ${MAX_VACATION_BODY} characters`);
  }
  if (v.enabled && v.subject.trim() === '' && v.body.trim() === '') {
    throw invalid('an enabled vacation message needs a subject or a message');
  }
  return { enabled: v.enabled, subject: v.subject, body: v.body, days: v.days };
}

/** Serialises a record for disk (stable key order, trailing newline). */
export function serializeAccountRecord(record: AccountRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function field<T>(obj: Json, key: string, check: (v: unknown) => v is T, path: string): T {
  const v = obj[key];
  if (!check(v)) throw new Error(`${path}${key} is missing or has the wrong type`);
  return v;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isArray = (v: unknown): v is unknown[] => Array.isArray(v);

/**
 * Parses the text of a record file for account `name`. Throws
 * {@link AccountStoreError} `VESPER_ACCOUNTD_RECORD_CORRUPT` naming the first
 * problem (bad JSON, wrong version, missing or mistyped field, wrong name).
 */
export function parseAccountRecord(name: string, text: string): AccountRecord {
  try {
    const obj: unknown = JSON.parse(text);
    if (!isObject(obj)) throw new Error('the file is not a JSON object');
    if (obj.version !== RECORD_VERSION)
      throw new Error(`version ${String(obj.version)} is unknown`);
    const recName = field(obj, 'name', isString, '');
    if (recName !== name || !isValidAccountName(recName)) {
      throw new Error(`the record names ${JSON.stringify(recName)}`);
    }
    const pw = field(obj, 'password', isObject, '');
    const password: PasswordHash = {
      algorithm: 'scrypt',
      N: field(pw, 'N', isCount, 'password.'),
      r: field(pw, 'r', isCount, 'password.'),
      p: field(pw, 'p', isCount, 'password.'),
      keylen: field(pw, 'keylen', isCount, 'password.'),
      salt: field(pw, 'salt', isString, 'password.'),
      hash: field(pw, 'hash', isString, 'password.'),
    };
    if (pw.algorithm !== 'scrypt') throw new Error('password.algorithm is not scrypt');
    const paramsProblem = scryptParamsProblem(password);
    if (paramsProblem !== undefined) throw new Error(`password: ${paramsProblem}`);
    const quota = field(obj, 'quota', isObject, '');
    const fwd = field(obj, 'forwarding', isObject, '');
    const vac = field(obj, 'vacation', isObject, '');
    const log = field(obj, 'vacationLog', isArray, '').map((e, i) => {
      if (!isObject(e)) throw new Error(`vacationLog[${i}] is not an object`);
      return {
        sender: field(e, 'sender', isString, `vacationLog[${i}].`),
        at: field(e, 'at', isString, `vacationLog[${i}].`),
      };
    });
    const addresses = field(fwd, 'addresses', isArray, 'forwarding.');
    if (!addresses.every(isString)) throw new Error('forwarding.addresses holds a non-string');
    return {
      version: RECORD_VERSION,
      name: recName,
      password,
      fullName: field(obj, 'fullName', isString, ''),
      quota: {
        bytes: field(quota, 'bytes', isCount, 'quota.'),
        messages: field(quota, 'messages', isCount, 'quota.'),
      },
      forwarding: { addresses, keepCopy: field(fwd, 'keepCopy', isBool, 'forwarding.') },
      vacation: {
        enabled: field(vac, 'enabled', isBool, 'vacation.'),
        subject: field(vac, 'subject', isString, 'vacation.'),
        body: field(vac, 'body', isString, 'vacation.'),
        days: field(vac, 'days', isCount, 'vacation.'),
      },
      vacationLog: log,
      created: field(obj, 'created', isString, ''),
      updated: field(obj, 'updated', isString, ''),
    };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new AccountStoreError(
      STORE_ERROR_CODES.recordCorrupt,
      `the record of account ${name} cannot be read: ${why}`,
      { cause: err },
    );
  }
}
