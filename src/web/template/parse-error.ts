/** @module The error a template's syntax raises, naming its file and line. */
import { VesperError } from '../../shared/errors/index.js';

/**
 * Raised for template syntax errors (Tornado's `template.ParseError`). The
 * message reads `foo.html:3: Missing end expression }}`; `filename`, `lineno`
 * and `reason` (the message without its location) are there for programs.
 * Code `VESPER_WEB_TEMPLATE_PARSE`.
 */
export class ParseError extends VesperError {
  /** The template's name, as the loader knows it (`<string>` for an anonymous one). */
  readonly filename: string | undefined;
  /** The 1-based line, or 0 when no line applies. */
  readonly lineno: number;
  /** What is wrong, without the location. */
  readonly reason: string;

  constructor(reason: string, filename?: string, lineno = 0, options: { cause?: unknown } = {}) {
    super('VESPER_WEB_TEMPLATE_PARSE', `${filename ?? '<unknown>'}:${lineno}: ${reason}`, options);
    this.filename = filename;
    this.lineno = lineno;
    this.reason = reason;
  }
}
