/**
 * @module The errors an IOStream fails its reads and writes with (Tornado's
 * `StreamClosedError`, `UnsatisfiableReadError`, `StreamBufferFullError`).
 */
import { VesperError } from '../shared/errors/index.js';

/**
 * The stream is closed, so the read or write cannot complete. `realError` (also
 * the standard `cause`) holds what closed it when that was an error: the
 * `ECONNRESET` or `ECONNREFUSED` system error, a TLS failure, or the
 * {@link UnsatisfiableReadError} / {@link StreamBufferFullError} that made the
 * stream close itself. It is `undefined` after an orderly close.
 */
export class StreamClosedError extends VesperError {
  /** The error that closed the stream, if any (Tornado's `real_error`). */
  readonly realError: Error | undefined;

  constructor(realError?: Error, message?: string) {
    super(
      'VESPER_WEB_STREAM_CLOSED',
      message ??
        (realError === undefined ? 'Stream is closed' : `Stream is closed: ${realError.message}`),
      realError === undefined ? {} : { cause: realError },
    );
    this.realError = realError;
  }
}

/**
 * A `readUntil` or `readUntilRegex` cannot be satisfied: the delimiter was not
 * found within `maxBytes`. The stream closes itself when this happens, as
 * Tornado's does, because the rest of the input can no longer be framed.
 */
export class UnsatisfiableReadError extends VesperError {
  constructor(message: string) {
    super('VESPER_WEB_STREAM_UNSATISFIABLE_READ', message);
  }
}

/**
 * A buffer limit was reached: the read buffer grew past `maxBufferSize` while a
 * read was waiting for more (the stream closes), or a write would take the
 * write buffer past `maxWriteBufferSize` (the write is refused, the stream stays
 * open).
 */
export class StreamBufferFullError extends VesperError {
  constructor(message: string) {
    super('VESPER_WEB_STREAM_BUFFER_FULL', message);
  }
}
