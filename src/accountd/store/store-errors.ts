/**
 * @module The stable error codes of the account store.
 */
import { VesperError } from '../../shared/errors/index.js';

/** Every code an {@link AccountStoreError} may carry. */
export const STORE_ERROR_CODES = {
  noSuchUser: 'VESPER_ACCOUNTD_NO_SUCH_USER',
  userExists: 'VESPER_ACCOUNTD_USER_EXISTS',
  invalidName: 'VESPER_ACCOUNTD_INVALID_NAME',
  weakPassword: 'VESPER_ACCOUNTD_WEAK_PASSWORD',
  invalidValue: 'VESPER_ACCOUNTD_INVALID_VALUE',
  recordCorrupt: 'VESPER_ACCOUNTD_RECORD_CORRUPT',
  lockTimeout: 'VESPER_ACCOUNTD_LOCK_TIMEOUT',
  unsafeDirectory: 'VESPER_ACCOUNTD_UNSAFE_DIRECTORY',
} as const;

/** One of {@link STORE_ERROR_CODES}. */
export type StoreErrorCode = (typeof STORE_ERROR_CODES)[keyof typeof STORE_ERROR_CODES];

/** An error of the account store: a refused operation or an unreadable record. */
export class AccountStoreError extends VesperError {
  declare readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
  }
}
