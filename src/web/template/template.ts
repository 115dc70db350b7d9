/**
 * @module The compiled template (Tornado's `template.Template`): parsed and
 * turned into JavaScript once, then rendered with `generate(namespace)`.
 */
import { VesperError } from '../../shared/errors/index.js';
import { jsonEncode, linkify, squeeze, urlEscape, xhtmlEscape } from '../escape.js';
import { generateCode, type SyntaxCheck } from './codegen.js';
import type { BaseLoader } from './loader.js';
import type { ParsedFile } from './nodes.js';
import { ParseError } from './parse-error.js';
import { parseTemplate } from './parser.js';
import { TemplateReader } from './reader.js';
import { TemplateRuntimeError, type TemplateLocation } from './runtime-error.js';
import { defaultWhitespace, isWhitespaceMode, type WhitespaceMode } from './whitespace.js';

/** Options of {@link Template}. */
export interface TemplateOptions {
  /** The name used in errors and to resolve relative `extends`/`include`; default `<string>`. */
  name?: string;
  /** Where `{% extends %}` and `{% include %}` find other templates. */
  loader?: BaseLoader;
  /**
   * The namespace function `{{ }}` output goes through, or `null` for none.
   * Default: the loader's, else `'xhtmlEscape'`.
   */
  autoescape?: string | null;
  /** Default: the loader's, else by file name (see `defaultWhitespace`). */
  whitespace?: WhitespaceMode;
}

/** The names every template sees (Tornado's default namespace, without `datetime`). */
export const DEFAULT_NAMESPACE: Readonly<Record<string, unknown>> = Object.freeze({
  escape: xhtmlEscape,
  xhtmlEscape,
  urlEscape,
  jsonEncode,
  squeeze,
  linkify,
});

/** The default autoescape function's name. */
export const DEFAULT_AUTOESCAPE = 'xhtmlEscape';

type Compiled = (
  namespace: Record<string, unknown>,
  toText: (value: unknown) => string,
  fail: (error: unknown, position: number) => Error,
) => string;

/** Distinct namespace key sets compiled per template before the oldest is dropped. */
const MAX_COMPILED = 32;

// Names that cannot be declared as variables in strict code, or that the
// generated code uses itself.
const RESERVED = new Set(
  (
    'break case catch class const continue debugger default delete do else enum export extends ' +
    'false finally for function if import in instanceof new null return super switch this throw ' +
    'true try typeof var void while with yield let static implements interface package private ' +
    'protected public await arguments eval undefined NaN Infinity'
  ).split(' '),
);
const IDENTIFIER_RE = /[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*/gu;

function isNamespaceName(name: string): boolean {
  return (
    !RESERVED.has(name) &&
    (!name.startsWith('_tt_') || name === '_tt_modules') &&
    new RegExp(`^(?:${IDENTIFIER_RE.source})$`, 'u').test(name)
  );
}

/** How `{{ }}` turns a value into text: `null`/`undefined` give `''`, bytes are UTF-8. */
function toText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  if (value instanceof Uint8Array) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
  }
  // String() is the point: numbers, booleans, arrays and objects with their own
  // toString render as JavaScript prints them, as Python's str() does there.
  // eslint-disable-next-line @typescript-eslint/no-base-to-string
  return String(value);
}

/**
 * A compiled template. The source is parsed and turned into one JavaScript
 * function body at construction (so syntax errors surface then, as
 * `ParseError`s naming the file and line); `extends` and `include` are
 * resolved through the loader at that time too.
 *
 * Expressions are JavaScript, evaluated with the namespace's names as
 * variables: the function is compiled with `var { a, b } = namespace` for the
 * namespace keys the template's code mentions, and cached per such key set
 * (at most 32 per template), so names the template never uses cost nothing.
 * A name that is neither in the namespace nor a global throws a
 * `ReferenceError` when evaluated.
 */
export class Template {
  /** The name given at construction. */
  readonly name: string;
  /** The loader given at construction. */
  readonly loader: BaseLoader | undefined;
  /** Names the loader adds to every render's namespace. */
  readonly namespace: Readonly<Record<string, unknown>>;
  /** The parsed file (used when other templates extend or include this one). */
  readonly file: ParsedFile;
  /** The generated function body, with a `// name:line` comment per line. */
  readonly code: string;
  readonly #locations: readonly TemplateLocation[];
  readonly #identifiers: ReadonlySet<string>;
  readonly #compiled = new Map<string, Compiled>();
  readonly #fail = (error: unknown, position: number): Error =>
    new TemplateRuntimeError(
      this.#locations[position] ?? { filename: this.name, lineno: 0, text: `${this.name}:0` },
      error,
    );

  /**
   * Parses and compiles `source`.
   *
   * @throws ParseError for a syntax error in the template language or in a
   *   JavaScript expression, naming the file and line.
   * @throws VesperError `VESPER_WEB_TEMPLATE_INVALID_OPTION` for an unknown whitespace mode.
   * @throws VesperError `VESPER_WEB_TEMPLATE_NOT_FOUND` when an extended or
   *   included template does not exist.
   */
  constructor(source: string | Buffer, options: TemplateOptions = {}) {
    this.name = options.name ?? '<string>';
    this.loader = options.loader;
    this.namespace = this.loader?.namespace ?? {};
    const whitespace =
      options.whitespace ?? this.loader?.whitespace ?? defaultWhitespace(this.name);
    if (!isWhitespaceMode(whitespace)) {
      throw new VesperError(
        'VESPER_WEB_TEMPLATE_INVALID_OPTION',
        `invalid whitespace mode ${String(whitespace)}`,
      );
    }
    const autoescape =
      options.autoescape !== undefined
        ? options.autoescape
        : this.loader !== undefined
          ? this.loader.autoescape
          : DEFAULT_AUTOESCAPE;
    const text = typeof source === 'string' ? source : source.toString('utf8');
    this.file = { name: this.name, autoescape, body: [] };
    parseTemplate(new TemplateReader(this.name, text, whitespace), this.file);
    const generated = generateCode(this.file, this.loader);
    this.code = generated.code;
    this.#locations = generated.locations;
    const identifiers = new Set<string>();
    for (const [token] of this.code.matchAll(IDENTIFIER_RE)) {
      if (isNamespaceName(token)) identifiers.add(token);
    }
    this.#identifiers = identifiers;
    try {
      this.#compiled.set('', this.#compile([]));
    } catch (err) {
      throw this.#locateSyntaxError(err, generated.checks);
    }
  }

  /** The autoescape function in force for this file (after its `{% autoescape %}`). */
  get autoescape(): string | null {
    return this.file.autoescape;
  }

  /**
   * Renders the template. The namespace is {@link DEFAULT_NAMESPACE}, then the
   * loader's namespace, then `namespace`, later names winning. Synchronous.
   *
   * @throws TemplateRuntimeError when the template's code throws; its message
   *   names the template file and line, its `cause` is the original error.
   */
  generate(namespace: Readonly<Record<string, unknown>> = {}): string {
    const ns: Record<string, unknown> = { ...DEFAULT_NAMESPACE, ...this.namespace, ...namespace };
    const keys: string[] = [];
    for (const key of Object.keys(ns)) if (this.#identifiers.has(key)) keys.push(key);
    keys.sort();
    const signature = keys.join(',');
    let compiled = this.#compiled.get(signature);
    if (compiled === undefined) {
      compiled = this.#compile(keys);
      if (this.#compiled.size >= MAX_COMPILED) {
        const oldest = this.#compiled.keys().next().value;
        if (oldest !== undefined) this.#compiled.delete(oldest);
      }
      this.#compiled.set(signature, compiled);
    }
    return compiled(ns, toText, this.#fail);
  }

  #compile(keys: readonly string[]): Compiled {
    const declare = keys.length > 0 ? `var { ${keys.join(', ')} } = _tt_ns;\n` : '';
    const sourceUrl = this.name.replace(/[^\w./-]/g, '_');
    const source =
      `'use strict';\n${declare}let _tt_p = 0;\nlet _tt_out = '';\ntry {\n${this.code}\n` +
      `} catch (_tt_e) {\n  throw _tt_fail(_tt_e, _tt_p);\n}\nreturn _tt_out;\n` +
      `//# sourceURL=${sourceUrl}.generated.js\n`;
    // Compiling generated code is what a template engine is for; the code is
    // the template author's, never a request's.
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    return new Function('_tt_ns', '_tt_s', '_tt_fail', source) as Compiled;
  }

  /** Finds which tag holds a JavaScript syntax error by compiling each snippet alone. */
  #locateSyntaxError(err: unknown, checks: readonly SyntaxCheck[]): unknown {
    if (!(err instanceof SyntaxError)) return err;
    for (const check of checks) {
      try {
        // eslint-disable-next-line @typescript-eslint/no-implied-eval
        new Function(`'use strict';\n${check.snippet}`);
      } catch (inner) {
        if (inner instanceof SyntaxError) {
          const { filename, lineno } = check.location;
          return new ParseError(`invalid JavaScript: ${inner.message}`, filename, lineno, {
            cause: inner,
          });
        }
      }
    }
    return new ParseError(`invalid JavaScript: ${err.message}`, this.name, 0, { cause: err });
  }
}
