/** @module Template whitespace modes: which are valid, the default by file name, and the filter. */

/**
 * How text between template tags is treated: `all` keeps it as it is,
 * `single` collapses runs of spaces and tabs to one space and whitespace
 * around a line break to one `\n`, `oneline` collapses all whitespace runs to
 * one space.
 */
export type WhitespaceMode = 'all' | 'single' | 'oneline';

/** True when `mode` names a {@link WhitespaceMode}. */
export function isWhitespaceMode(mode: unknown): mode is WhitespaceMode {
  return mode === 'all' || mode === 'single' || mode === 'oneline';
}

/** Tornado's default: `single` for names ending `.html` or `.js`, `all` otherwise. */
export function defaultWhitespace(name: string): WhitespaceMode {
  return name.endsWith('.html') || name.endsWith('.js') ? 'single' : 'all';
}

/** Applies a whitespace mode to a run of template text (Tornado's `filter_whitespace`). */
export function filterWhitespace(mode: WhitespaceMode, text: string): string {
  switch (mode) {
    case 'all':
      return text;
    case 'single':
      return text.replace(/[\t ]+/g, ' ').replace(/\s*\n\s*/g, '\n');
    case 'oneline':
      return text.replace(/\s+/g, ' ');
  }
}
