/**
 * @module The error a template raises when its code throws while rendering,
 * naming the template file and line the way Tornado's tracebacks do.
 */
import { VesperError } from '../../shared/errors/index.js';

/** Where in the templates a generated statement came from. */
export interface TemplateLocation {
  /** The template that holds the statement. */
  readonly filename: string;
  /** Its 1-based line in that template. */
  readonly lineno: number;
  /**
   * `sub.html:4`, or `sub.html:4 (via base.html:1)` when the statement reached
   * the output through `{% include %}` or a block of an `{% extends %}` chain
   * (innermost first, as in Tornado's generated-code comments).
   */
  readonly text: string;
}

/**
 * Thrown by `Template.generate` when an expression or statement of the
 * template throws. The message is `base.html:3: <the original message>`; the
 * original error is `cause`, and an `httpStatus` it carries (an `HttpError`
 * raised from a template helper) is kept. Code `VESPER_WEB_TEMPLATE_RUNTIME`.
 */
export class TemplateRuntimeError extends VesperError {
  /** The template file whose code threw. */
  readonly filename: string;
  /** The line in that file. */
  readonly lineno: number;
  /** The full location, with the include/extends chain. */
  readonly location: string;

  constructor(location: TemplateLocation, cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    const httpStatus = cause instanceof VesperError ? cause.httpStatus : undefined;
    super('VESPER_WEB_TEMPLATE_RUNTIME', `${location.text}: ${detail}`, { cause, httpStatus });
    this.filename = location.filename;
    this.lineno = location.lineno;
    this.location = location.text;
  }
}
