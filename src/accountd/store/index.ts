/**
 * @module The account store: records, validation, hashing and quota.
 */
export {
  AccountStore,
  type AccountStoreOptions,
  type NewAccount,
  type AccountListing,
} from './account-store.js';
export { AccountStoreError, STORE_ERROR_CODES, type StoreErrorCode } from './store-errors.js';
export { isValidAccountName, assertValidAccountName } from './account-name.js';
export { passwordProblem, assertPasswordPolicy, MAX_PASSWORD_LENGTH } from './password-policy.js';
export {
  hashPassword,
  verifyPassword,
  DEFAULT_SCRYPT,
  type ScryptParams,
  type PasswordHash,
} from './password-hash.js';
export { isValidMailAddress } from './mail-address.js';
export { scanMaildir, type MaildirUsage } from './maildir-quota.js';
export {
  parseAccountRecord,
  serializeAccountRecord,
  validateForwarding,
  validateVacation,
  validateFullName,
  RECORD_VERSION,
  type AccountRecord,
} from './account-record.js';
