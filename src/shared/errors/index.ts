/**
 * @module The one base error of Vesper: a stable `code`, an optional HTTP status or
 * WebSocket close code, and the `cause` that led to it.
 */

/** Options accepted by {@link VesperError}. */
export interface VesperErrorOptions {
  /** The HTTP status a handler should answer with when this error reaches it. */
  httpStatus?: number;
  /** The WebSocket close code that goes with this error. */
  closeCode?: number;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * Base class of every error Vesper throws on purpose. `code` is stable and meant
 * for programs (`VESPER_CONFIG_INVALID`); `message` is meant for people.
 * Errors cross process boundaries as {@link VesperError.toJSON}'s `{code, message}`.
 */
export class VesperError extends Error {
  readonly code: string;
  readonly httpStatus: number | undefined;
  readonly closeCode: number | undefined;

  constructor(code: string, message: string, options: VesperErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.httpStatus = options.httpStatus;
    this.closeCode = options.closeCode;
  }

  /** The form in which this error crosses a process boundary. */
  toJSON(): { code: string; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** True when `err` is a {@link VesperError}, optionally with the given code. */
export function isVesperError(err: unknown, code?: string): err is VesperError {
  return err instanceof VesperError && (code === undefined || err.code === code);
}
