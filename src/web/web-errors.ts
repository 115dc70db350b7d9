/**
 * @module The exceptions a request handler raises to end a request: `HttpError`
 * (an error page with a status), `MissingArgumentError` (400) and `Finish` (end
 * the request normally from anywhere).
 */
import { STATUS_CODES } from 'node:http';
import { format } from 'node:util';
import { VesperError } from '../shared/errors/index.js';

/** Options of {@link HttpError}. */
export interface HttpErrorOptions {
  /** The reason phrase shown in the status line and the error page. */
  reason?: string;
  /** `%s`-style arguments substituted into the log message. */
  args?: unknown[];
  /** The underlying error. */
  cause?: unknown;
}

/** The reason phrase of a status code, or `Unknown` (Tornado's `httputil.responses`). */
export function reasonPhrase(statusCode: number): string {
  return STATUS_CODES[statusCode] ?? 'Unknown';
}

/**
 * An exception that makes the handler answer with an error page (Tornado's
 * `HTTPError`). `logMessage` goes to the log (never to the page); `reason` is the
 * phrase in the status line and the page. Its code is `VESPER_WEB_HTTP_<status>`.
 */
export class HttpError extends VesperError {
  /** The HTTP status to answer with. */
  readonly statusCode: number;
  /** The message for the log (with `args` already substituted), or undefined. */
  readonly logMessage: string | undefined;
  /** A reason phrase overriding the standard one, or undefined. */
  readonly reason: string | undefined;

  constructor(statusCode = 500, logMessage?: string, options: HttpErrorOptions = {}) {
    const resolvedLog =
      logMessage !== undefined && options.args !== undefined && options.args.length > 0
        ? format(logMessage, ...options.args)
        : logMessage;
    const phrase = options.reason ?? reasonPhrase(statusCode);
    const message =
      `HTTP ${statusCode}: ${phrase}` + (resolvedLog !== undefined ? ` (${resolvedLog})` : '');
    super(`VESPER_WEB_HTTP_${statusCode}`, message, {
      httpStatus: statusCode,
      cause: options.cause,
    });
    this.statusCode = statusCode;
    this.logMessage = resolvedLog;
    this.reason = options.reason;
  }
}

/**
 * Raised by `getArgument` when a required argument is missing: a 400 whose log
 * message is `Missing argument <name>`.
 */
export class MissingArgumentError extends HttpError {
  /** The name of the missing argument. */
  readonly argName: string;

  constructor(argName: string) {
    super(400, `Missing argument ${argName}`);
    this.argName = argName;
  }
}

/**
 * Thrown to end the request without an error page: the handler calls `finish()`
 * (with `chunk` if given) unless it already finished (Tornado's `Finish`).
 */
export class Finish extends Error {
  /** What to pass to `finish()`. */
  readonly chunk: string | Buffer | Record<string, unknown> | undefined;

  constructor(chunk?: string | Buffer | Record<string, unknown>) {
    super('Finish');
    this.name = 'Finish';
    this.chunk = chunk;
  }
}
