/**
 * @module Valid account names: ASCII letters, digits, `.`, `_` and `-`, at
 * most 64 characters, not starting with `.` or `-`.
 */
import { AccountStoreError, STORE_ERROR_CODES } from './store-errors.js';

const NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;

/** True when `name` is a valid account name (also safe as a file name). */
export function isValidAccountName(name: string): boolean {
  return NAME.test(name);
}

/**
 * Returns `name` when it is a valid account name; throws
 * {@link AccountStoreError} `VESPER_ACCOUNTD_INVALID_NAME` saying why not.
 */
export function assertValidAccountName(name: string): string {
  if (isValidAccountName(name)) return name;
  const shown = JSON.stringify(name.slice(0, 80));
  let why = 'only ASCII letters, digits, ".", "_" and "-" are allowed';
  if (name === '') why = 'it is empty';
  else if (name.length > 64) why = 'it is longer than 64 characters';
  else if (name.startsWith('.') || name.startsWith('-')) why = 'it starts with "." or "-"';
  throw new AccountStoreError(
    STORE_ERROR_CODES.invalidName,
    `${shown} is not a valid account name: ${why}`,
  );
}
