/** @module A VesperError carrying an HTTP status, standing in for `HttpError` in template tests. */
import { VesperError } from '../../../src/shared/errors/index.js';

/** An error with an `httpStatus`, as `HttpError` has. */
export class HttpErrorLike extends VesperError {
  constructor(status: number) {
    super('TEST_HTTP', `status ${status}`, { httpStatus: status });
  }
}
