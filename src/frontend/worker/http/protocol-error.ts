/**
 * @module The error a client's malformed or oversized request raises in the worker's HTTP layer.
 */
import { VesperError } from '../../../shared/errors/index.js';

/**
 * A request the worker refuses before it reaches any route: the status to
 * answer (400, 413, 414, 431, 501, 505) and a stable code for the log. The
 * connection is always closed after the answer (DESIGN.md §8: nothing
 * pipelined behind a refused request is read).
 */
export class ProtocolError extends VesperError {
  /** The HTTP status the client is answered with. */
  readonly status: number;

  constructor(status: number, code: string, message: string) {
    super(code, message, { httpStatus: status });
    this.status = status;
  }
}

/** A 400 with `code` (`VESPER_FRONTEND_...`). */
export function badRequest(code: string, message: string): ProtocolError {
  return new ProtocolError(400, code, message);
}
