/**
 * @module Template loaders (Tornado's `BaseLoader`, `Loader`, `DictLoader`):
 * resolve names relative to the including template, compile each template
 * once and cache it until `reset()`.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join, posix, relative, resolve } from 'node:path';
import { VesperError } from '../../shared/errors/index.js';
import { ParseError } from './parse-error.js';
import { DEFAULT_AUTOESCAPE, Template } from './template.js';
import { isWhitespaceMode, type WhitespaceMode } from './whitespace.js';

/** Options every loader takes. */
export interface LoaderOptions {
  /** The autoescape function's name for templates of this loader, or `null`; default `'xhtmlEscape'`. */
  autoescape?: string | null;
  /** The whitespace mode for all templates of this loader; default by file name. */
  whitespace?: WhitespaceMode;
  /** Names added to the namespace of every render. */
  namespace?: Record<string, unknown>;
}

/**
 * Base class of template loaders. `load` compiles a template the first time it
 * is asked for and returns the cached one afterwards; `reset` empties the
 * cache. Subclasses implement {@link resolvePath} and {@link createTemplate}.
 */
export abstract class BaseLoader {
  /** The autoescape setting templates of this loader start with. */
  readonly autoescape: string | null;
  /** The whitespace mode for this loader's templates, if set. */
  readonly whitespace: WhitespaceMode | undefined;
  /** Names added to every render's namespace. */
  readonly namespace: Readonly<Record<string, unknown>>;
  readonly #templates = new Map<string, Template>();
  readonly #loading = new Set<string>();

  /** @throws VesperError `VESPER_WEB_TEMPLATE_INVALID_OPTION` for an unknown whitespace mode. */
  constructor(options: LoaderOptions = {}) {
    if (options.whitespace !== undefined && !isWhitespaceMode(options.whitespace)) {
      throw new VesperError(
        'VESPER_WEB_TEMPLATE_INVALID_OPTION',
        `invalid whitespace mode ${String(options.whitespace)}`,
      );
    }
    this.autoescape = options.autoescape === undefined ? DEFAULT_AUTOESCAPE : options.autoescape;
    this.whitespace = options.whitespace;
    this.namespace = { ...options.namespace };
  }

  /** Forgets every compiled template, so the next `load` reads and compiles again. */
  reset(): void {
    this.#templates.clear();
  }

  /** Turns a name, possibly relative to the template `parentPath`, into the name it is cached under. */
  abstract resolvePath(name: string, parentPath?: string): string;

  /** Reads and compiles the template with this resolved name. */
  protected abstract createTemplate(name: string): Template;

  /**
   * Returns the compiled template `name` (relative to `parentPath` when given).
   *
   * @throws ParseError for a syntax error, or when templates include or
   *   extend each other in a circle.
   * @throws VesperError `VESPER_WEB_TEMPLATE_NOT_FOUND` when there is no such
   *   template, `VESPER_WEB_TEMPLATE_PATH` when the name leaves the root.
   */
  load(name: string, parentPath?: string): Template {
    const resolved = this.resolvePath(name, parentPath);
    const cached = this.#templates.get(resolved);
    if (cached !== undefined) return cached;
    if (this.#loading.has(resolved)) {
      throw new ParseError(
        `circular {% extends %} or {% include %} of ${resolved}`,
        parentPath ?? resolved,
      );
    }
    this.#loading.add(resolved);
    try {
      const template = this.createTemplate(resolved);
      this.#templates.set(resolved, template);
      return template;
    } finally {
      this.#loading.delete(resolved);
    }
  }
}

/** Tornado's rule: relative to the parent unless either name is absolute or the parent is `<…>`. */
function relativeToParent(name: string, parentPath: string | undefined): boolean {
  return (
    parentPath !== undefined &&
    parentPath !== '' &&
    !parentPath.startsWith('<') &&
    !parentPath.startsWith('/') &&
    !name.startsWith('/')
  );
}

function escapesRoot(name: string): boolean {
  return name === '..' || name.startsWith('../');
}

/**
 * Loads templates from files under one root directory. Names are `/`-separated
 * and relative to the root (a leading `/` means "from the root" rather than
 * "from the including template"); a name that would leave the root is
 * refused.
 */
export class Loader extends BaseLoader {
  /** The absolute root directory. */
  readonly root: string;

  constructor(root: string, options: LoaderOptions = {}) {
    super(options);
    this.root = resolve(root);
  }

  override resolvePath(name: string, parentPath?: string): string {
    if (relativeToParent(name, parentPath)) {
      const candidate = posix.normalize(posix.join(posix.dirname(parentPath!), name));
      if (!escapesRoot(candidate)) return candidate;
    }
    return posix.normalize(name.replace(/^\/+/, ''));
  }

  protected override createTemplate(name: string): Template {
    const path = join(this.root, name);
    const rel = relative(this.root, path);
    if (escapesRoot(rel.split('\\').join('/')) || isAbsolute(rel) || name.includes('\0')) {
      throw new VesperError(
        'VESPER_WEB_TEMPLATE_PATH',
        `template ${name} is outside the template root`,
      );
    }
    let source: Buffer;
    try {
      source = readFileSync(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') {
        throw new VesperError('VESPER_WEB_TEMPLATE_NOT_FOUND', `template ${name} not found`, {
          cause: err,
        });
      }
      throw err;
    }
    return new Template(source, { name, loader: this });
  }
}

/** Loads templates from an object of name → source (tests, embedded templates). */
export class DictLoader extends BaseLoader {
  readonly #dict: Readonly<Record<string, string>>;

  constructor(dict: Readonly<Record<string, string>>, options: LoaderOptions = {}) {
    super(options);
    this.#dict = { ...dict };
  }

  override resolvePath(name: string, parentPath?: string): string {
    if (relativeToParent(name, parentPath)) {
      return posix.normalize(posix.join(posix.dirname(parentPath!), name));
    }
    return name;
  }

  protected override createTemplate(name: string): Template {
    if (!Object.hasOwn(this.#dict, name)) {
      throw new VesperError('VESPER_WEB_TEMPLATE_NOT_FOUND', `template ${name} not found`);
    }
    return new Template(this.#dict[name]!, { name, loader: this });
  }
}
