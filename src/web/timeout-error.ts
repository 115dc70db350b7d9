/**
 * @module TimeoutError: an operation given a deadline did not finish in time
 * (Tornado's `tornado.util.TimeoutError`).
 */
import { VesperError } from '../shared/errors/index.js';

/**
 * Thrown (as a rejection) when an operation with a deadline does not finish in
 * time, e.g. `IOLoop.runSync(fn, timeoutSeconds)`. Code `VESPER_WEB_TIMEOUT`.
 */
export class TimeoutError extends VesperError {
  /** The deadline that passed, in seconds. */
  readonly timeoutSeconds: number;

  constructor(timeoutSeconds: number, message = `Operation timed out after ${timeoutSeconds} s`) {
    super('VESPER_WEB_TIMEOUT', message);
    this.timeoutSeconds = timeoutSeconds;
  }
}
