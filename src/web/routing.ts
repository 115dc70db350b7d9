/**
 * @module URL routing: `URLSpec` (a path pattern, the handler class it routes
 * to, its kwargs and an optional name for `reverseUrl`) and the matching of a
 * raw, still percent-encoded request path against it, as Tornado's `PathMatches`.
 */
import { VesperError } from '../shared/errors/index.js';
import { urlEscape } from './escape.js';

/** The groups a path pattern captured, percent-decoded to bytes (undefined when unmatched). */
export interface PathMatch {
  /** Positional groups, when the pattern has no named group. */
  args: (Buffer | undefined)[];
  /** Named groups (`(?<name>...)` or Python's `(?P<name>...)`), in pattern order. */
  kwargs: Record<string, Buffer | undefined>;
}

const HEX = /^[0-9a-fA-F]{2}$/;

/**
 * Percent-decodes `s` to bytes as Python's `unquote_to_bytes`: `%XX` becomes the
 * byte, a malformed escape stays as it is, `+` stays `+`.
 */
export function percentDecodeToBytes(s: string): Buffer {
  if (!s.includes('%')) return Buffer.from(s, 'utf8');
  const raw = Buffer.from(s, 'utf8');
  const out = Buffer.allocUnsafe(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (b === 0x25 && i + 2 < raw.length) {
      const hex = raw.toString('latin1', i + 1, i + 3);
      if (HEX.test(hex)) {
        out[n++] = parseInt(hex, 16);
        i += 2;
        continue;
      }
    }
    out[n++] = b;
  }
  return out.subarray(0, n);
}

/**
 * Turns a Tornado-style pattern (Python syntax accepted for named groups) into
 * the source of a JavaScript regex: `$` appended unless present, anchored at the
 * start as Python's `re.match` is.
 */
function patternSource(pattern: string): string {
  let src = pattern.replace(/\(\?P</g, '(?<');
  if (!src.endsWith('$')) src += '$';
  return src;
}

/** Counts the capturing groups of a regex source. */
function groupCount(source: string): number {
  return new RegExp(`${source}|`).exec('')!.length - 1;
}

/** Undoes regex escapes (`\.` → `.`); null when an escape is not a literal (`\d`). */
function reUnescape(s: string): string | null {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = s[i + 1];
    if (next === undefined || /[A-Za-z0-9]/.test(next)) return null;
    out += next;
    i++;
  }
  return out;
}

/**
 * A rule of the application: a path pattern, the class that handles it, the
 * kwargs given to its `initialize`, and an optional name (Tornado's `URLSpec`).
 * The pattern is matched on the raw path, anchored at both ends; groups are all
 * named (→ `pathKwargs`) or all positional (→ `pathArgs`).
 */
export class URLSpec<H = unknown> {
  /** The compiled pattern, anchored at the start and the end. */
  readonly regex: RegExp;
  /** The pattern as given (after `$` was appended). */
  readonly pattern: string;
  /** The handler class. */
  readonly handlerClass: H;
  /** The kwargs passed to the handler's `initialize`. */
  readonly kwargs: Record<string, unknown>;
  /** The name for `reverseUrl`, if any. */
  readonly name: string | undefined;
  readonly #groupCount: number;
  readonly #named: string[];
  readonly #reversePieces: string[] | null;

  /**
   * @throws VesperError `VESPER_WEB_BAD_ROUTE` when the pattern is not a valid
   * regex or mixes named and positional groups.
   */
  constructor(
    pattern: string | RegExp,
    handlerClass: H,
    kwargs: Record<string, unknown> = {},
    name?: string,
  ) {
    const src = patternSource(typeof pattern === 'string' ? pattern : pattern.source);
    this.pattern = src;
    try {
      this.regex = new RegExp(`^(?:${src})`, typeof pattern === 'string' ? '' : pattern.flags);
    } catch (err) {
      throw new VesperError('VESPER_WEB_BAD_ROUTE', `Invalid route pattern ${src}.`, {
        cause: err,
      });
    }
    this.handlerClass = handlerClass;
    this.kwargs = kwargs;
    this.name = name;
    this.#groupCount = groupCount(src);
    this.#named = [...src.matchAll(/\(\?<([A-Za-z_$][\w$]*)>/g)].map((m) => m[1]!);
    if (this.#named.length > 0 && this.#named.length !== this.#groupCount) {
      throw new VesperError(
        'VESPER_WEB_BAD_ROUTE',
        `Route pattern ${src} mixes named and positional groups.`,
      );
    }
    this.#reversePieces = this.#findGroups();
  }

  /** Tornado's `_find_groups`: the literal pieces between groups, or null if not reversible. */
  #findGroups(): string[] | null {
    let pattern = this.pattern;
    if (pattern.startsWith('^')) pattern = pattern.slice(1);
    if (pattern.endsWith('$')) pattern = pattern.slice(0, -1);
    if (this.#groupCount !== pattern.split('(').length - 1) return null;
    const pieces: string[] = [];
    const fragments = pattern.split('(');
    for (let i = 0; i < fragments.length; i++) {
      const fragment = fragments[i]!;
      if (i > 0) {
        const close = fragment.indexOf(')');
        if (close < 0) return null;
        const rest = reUnescape(fragment.slice(close + 1));
        if (rest === null) return null;
        pieces.push(rest);
      } else {
        const lit = reUnescape(fragment);
        if (lit === null) return null;
        pieces.push(lit);
      }
    }
    return pieces;
  }

  /**
   * Matches a raw request path; the groups come back percent-decoded to bytes.
   * Returns null when the path does not match.
   */
  match(path: string): PathMatch | null {
    const m = this.regex.exec(path);
    if (m === null) return null;
    if (this.#named.length > 0) {
      const kwargs: Record<string, Buffer | undefined> = {};
      for (const name of this.#named) {
        const v = m.groups?.[name];
        kwargs[name] = v === undefined ? undefined : percentDecodeToBytes(v);
      }
      return { args: [], kwargs };
    }
    const args: (Buffer | undefined)[] = [];
    for (let i = 1; i < m.length; i++) {
      const v = m[i];
      args.push(v === undefined ? undefined : percentDecodeToBytes(v));
    }
    return { args, kwargs: {} };
  }

  /**
   * Builds the path for the given group values (percent-encoded, `/` kept).
   * @throws VesperError `VESPER_WEB_CANNOT_REVERSE` when the pattern is too
   * complex to reverse or the number of arguments is wrong.
   */
  reverse(...args: (string | number | Buffer)[]): string {
    const pieces = this.#reversePieces;
    if (pieces === null) {
      throw new VesperError(
        'VESPER_WEB_CANNOT_REVERSE',
        `Cannot reverse url regex ${this.pattern}.`,
      );
    }
    if (args.length !== this.#groupCount) {
      throw new VesperError(
        'VESPER_WEB_CANNOT_REVERSE',
        `Reversing ${this.pattern} needs ${this.#groupCount} arguments, got ${args.length}.`,
      );
    }
    let out = pieces[0]!;
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      out += urlEscape(typeof a === 'number' ? String(a) : a, false) + pieces[i + 1]!;
    }
    return out;
  }

  toString(): string {
    return `URLSpec(${this.pattern}${this.name !== undefined ? `, name=${this.name}` : ''})`;
  }
}

/** Shorthand for `new URLSpec(...)` (Tornado's `url`). */
export function url<H>(
  pattern: string | RegExp,
  handlerClass: H,
  kwargs?: Record<string, unknown>,
  name?: string,
): URLSpec<H> {
  return new URLSpec(pattern, handlerClass, kwargs, name);
}

/**
 * Matches a host against a host pattern as Tornado's `HostMatches`: `$`
 * appended, anchored at the start, compared with the lowercased host name.
 */
export class HostMatcher {
  readonly regex: RegExp;

  constructor(pattern: string | RegExp) {
    const src = patternSource(typeof pattern === 'string' ? pattern : pattern.source);
    this.regex = new RegExp(`^(?:${src})`, typeof pattern === 'string' ? '' : pattern.flags);
  }

  matches(hostName: string): boolean {
    return this.regex.test(hostName);
  }
}
