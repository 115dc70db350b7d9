/**
 * @module Where each configuration value came from: a file line or a `--config-option`.
 */

/** The place one value was written. */
export interface Origin {
  /** The file path as given, or `--config-option`. */
  file: string;
  /** The 1-based line (the option's position for an override), or undefined when not known. */
  line: number | undefined;
}

/**
 * The origin of every dotted key path that was written somewhere. A path that
 * was not written itself (a default, or a missing required key) takes the
 * origin of its nearest written ancestor, so a problem is reported where the
 * operator can act on it.
 */
export class Origins {
  readonly #byPath = new Map<string, Origin>();
  readonly #fallback: Origin;

  /** `fallback` is the origin of paths with no written ancestor (the file itself). */
  constructor(fallback: Origin) {
    this.#fallback = fallback;
  }

  /** Records that `path` was written at `origin`. */
  set(path: string, origin: Origin): void {
    this.#byPath.set(path, origin);
  }

  /** Records that `path` and everything under it was (re)written at `origin`, forgetting older origins below it. */
  replace(path: string, origin: Origin): void {
    for (const known of [...this.#byPath.keys()]) {
      if (known === path || known.startsWith(`${path}.`)) this.#byPath.delete(known);
    }
    this.#byPath.set(path, origin);
  }

  /** True when `path` itself was written (not merely an ancestor). */
  has(path: string): boolean {
    return this.#byPath.has(path);
  }

  /** The origin of `path`, or of its nearest written ancestor, or the fallback. */
  of(path: string): Origin {
    for (let p = path; ;) {
      const found = this.#byPath.get(p);
      if (found !== undefined) return found;
      const dot = p.lastIndexOf('.');
      if (dot < 0) return this.#byPath.get('') ?? this.#fallback;
      p = p.slice(0, dot);
    }
  }
}
