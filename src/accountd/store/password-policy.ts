/**
 * @module The password policy: at least 8 characters, at least one letter and
 * one character that is not a letter, and not the user name.
 */
import { AccountStoreError, STORE_ERROR_CODES } from './store-errors.js';

/** The longest password accepted (characters), so hashing stays bounded. */
export const MAX_PASSWORD_LENGTH = 1024;

/** Why `password` is not acceptable for `user`, or undefined when it is. */
export function passwordProblem(password: string, user: string): string | undefined {
  const chars = [...password];
  if (chars.length < 8) return 'the password must be at least 8 characters long';
  if (chars.length > MAX_PASSWORD_LENGTH) {
    return `the password must be at most ${MAX_PASSWORD_LENGTH} characters long`;
  }
  const letter = /\p{L}/u;
  if (!chars.some((c) => letter.test(c))) return 'the password must contain a letter';
  if (chars.every((c) => letter.test(c))) {
    return 'the password must contain a character that is not a letter';
  }
  if (password.toLowerCase() === user.toLowerCase()) {
    return 'the password must not be the user name';
  }
  return undefined;
}

/** Throws {@link AccountStoreError} `VESPER_ACCOUNTD_WEAK_PASSWORD` when the policy is broken. */
export function assertPasswordPolicy(password: string, user: string): void {
  const problem = passwordProblem(password, user);
  if (problem !== undefined) throw new AccountStoreError(STORE_ERROR_CODES.weakPassword, problem);
}
