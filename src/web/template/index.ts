/** @module The template engine's public names (Tornado's `tornado.template`). */
export {
  Template,
  DEFAULT_NAMESPACE,
  DEFAULT_AUTOESCAPE,
  type TemplateOptions,
} from './template.js';
export { BaseLoader, Loader, DictLoader, type LoaderOptions } from './loader.js';
export { ParseError } from './parse-error.js';
export { TemplateRuntimeError, type TemplateLocation } from './runtime-error.js';
export {
  filterWhitespace,
  defaultWhitespace,
  isWhitespaceMode,
  type WhitespaceMode,
} from './whitespace.js';
