/**
 * @module Why the account pages cannot reach accountd for this session, and
 * which accountd client errors mean "the service is unavailable".
 */
import {
  AccountdProtocolError,
  AccountdRefusedError,
  CLIENT_ERROR_CODES,
} from '../../accountd/client/index.js';
import { VesperError } from '../../shared/errors/index.js';

/** Why account services are unavailable to this session. */
export type AccountServiceProblem =
  /** accountd cannot be reached or failed (down, timeout, broken reply); it may come back. */
  | 'unavailable'
  /** accountd refused the password this session logged in with (changed elsewhere); final for this session. */
  | 'rejected'
  /** accountd has locked the account for a while after failed logins. */
  | 'locked'
  /** The session was opened without a password (identity login), so it cannot log in to accountd. */
  | 'no-credential';

/** The stable codes of {@link AccountServiceError}, by problem. */
export const ACCOUNT_SERVICE_ERROR_CODES: Readonly<Record<AccountServiceProblem, string>> = {
  unavailable: 'VESPER_APP_ACCOUNT_UNAVAILABLE',
  rejected: 'VESPER_APP_ACCOUNT_LOGIN_REJECTED',
  locked: 'VESPER_APP_ACCOUNT_LOCKED',
  'no-credential': 'VESPER_APP_ACCOUNT_NO_CREDENTIAL',
};

/**
 * Account services cannot be used by this session right now; pages answer it
 * with status 503 and a friendly explanation, and the session keeps working.
 */
export class AccountServiceError extends VesperError {
  /** Which problem it is. */
  readonly problem: AccountServiceProblem;

  constructor(problem: AccountServiceProblem, message: string, cause?: unknown) {
    super(ACCOUNT_SERVICE_ERROR_CODES[problem], message, { httpStatus: 503, cause });
    this.problem = problem;
  }
}

const SERVICE_FAILURE_CODES: ReadonlySet<string> = new Set([
  CLIENT_ERROR_CODES.unavailable,
  CLIENT_ERROR_CODES.timeout,
  CLIENT_ERROR_CODES.connectionClosed,
  CLIENT_ERROR_CODES.protocol,
  CLIENT_ERROR_CODES.destroyed,
  'VESPER_ACCOUNTD_SETTINGS_MALFORMED',
]);

/**
 * True when `err` from an accountd client call means the service failed rather
 * than refused the request: unreachable, timed out, connection lost, a
 * malformed or `BAD` reply, or a `NO UNAVAILABLE`/`NO CORRUPT` reply.
 */
export function isServiceFailure(err: unknown): boolean {
  if (err instanceof AccountdProtocolError) return true;
  if (err instanceof AccountdRefusedError) {
    return err.reason === 'UNAVAILABLE' || err.reason === 'CORRUPT';
  }
  return err instanceof VesperError && SERVICE_FAILURE_CODES.has(err.code);
}
