/**
 * @module Reads configuration YAML into plain values, remembering the line of every key.
 */
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document, Node as YamlNode, YAMLMap, YAMLSeq } from 'yaml';
import type { ConfigProblem } from './config-error.js';
import { Origins } from './origins.js';

/** What {@link readSource} found in one piece of YAML. */
export interface ConfigSource {
  /** The document as plain values (maps have a null prototype); undefined when it could not be parsed. */
  value: unknown;
  /** The line of every key path and list item written in the text. */
  origins: Origins;
  /** Syntax problems; when there are any, `value` is undefined. */
  problems: ConfigProblem[];
}

/** A map read from YAML: no prototype, so a key named `__proto__` is only a key. */
export type RawMap = Record<string, unknown>;

/** True for a map produced by {@link readSource} or {@link readYamlValue}. */
export function isRawMap(value: unknown): value is RawMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses `text` (the contents of `file`) as one YAML 1.2 document. Syntax
 * errors, duplicate keys, non-scalar keys and recursive aliases are returned as
 * problems with their line; an empty document reads as undefined. Never throws.
 */
export function readSource(text: string, file: string): ConfigSource {
  return readYaml(text, { file, line: undefined }, (offset, lc) => lc.linePos(offset).line);
}

/**
 * Parses one `--config-option` value as YAML; every origin inside it is the
 * option itself (`--config-option:N`). Never throws.
 */
export function readYamlValue(text: string, optionIndex: number): ConfigSource {
  return readYaml(text, { file: '--config-option', line: optionIndex }, () => optionIndex);
}

function readYaml(
  text: string,
  at: { file: string; line: number | undefined },
  lineOf: (offset: number, lc: LineCounter) => number,
): ConfigSource {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const origins = new Origins(at);
  const problems: ConfigProblem[] = doc.errors.map((err) => ({
    file: at.file,
    line: lineOf(err.pos[0], lc),
    key: '',
    message: `invalid YAML: ${err.message}`,
  }));
  if (problems.length > 0) return { value: undefined, origins, problems };
  const reader = new Reader(doc, at.file, origins, problems, (offset) => lineOf(offset, lc));
  const value = doc.contents === null ? undefined : reader.read(doc.contents, []);
  return { value: problems.length > 0 ? undefined : value, origins, problems };
}

/** Turns YAML nodes into plain values, recording each key's line. */
class Reader {
  readonly #doc: Document;
  readonly #file: string;
  readonly #origins: Origins;
  readonly #problems: ConfigProblem[];
  readonly #lineOf: (offset: number) => number;
  readonly #resolving = new Set<YamlNode>();

  constructor(
    doc: Document,
    file: string,
    origins: Origins,
    problems: ConfigProblem[],
    lineOf: (offset: number) => number,
  ) {
    this.#doc = doc;
    this.#file = file;
    this.#origins = origins;
    this.#problems = problems;
    this.#lineOf = lineOf;
  }

  read(node: unknown, path: readonly string[]): unknown {
    if (isScalar(node)) return node.value;
    if (isAlias(node)) return this.#readAlias(node.resolve(this.#doc), node, path);
    if (!isMap(node) && !isSeq(node)) return null;
    // Collections being read are remembered so an alias to one of them (a
    // recursive document) is reported instead of read forever.
    this.#resolving.add(node);
    try {
      return this.#readCollection(node, path);
    } finally {
      this.#resolving.delete(node);
    }
  }

  #readCollection(node: YAMLMap | YAMLSeq, path: readonly string[]): unknown {
    if (isMap(node)) {
      const map: RawMap = Object.create(null) as RawMap;
      for (const pair of node.items) {
        if (
          !isScalar(pair.key) ||
          (pair.key.value !== null && typeof pair.key.value === 'object')
        ) {
          this.#problem(pair.key, path, 'keys must be plain words');
          continue;
        }
        const name = String(pair.key.value);
        const keyPath = [...path, name];
        this.#origins.set(keyPath.join('.'), { file: this.#file, line: this.#line(pair.key) });
        map[name] = pair.value === null ? null : this.read(pair.value, keyPath);
      }
      return map;
    }
    return node.items.map((item, i) => {
      const itemPath = [...path, String(i)];
      this.#origins.set(itemPath.join('.'), { file: this.#file, line: this.#line(item) });
      return this.read(item, itemPath);
    });
  }

  #readAlias(target: YamlNode | undefined, alias: unknown, path: readonly string[]): unknown {
    if (target === undefined || this.#resolving.has(target)) {
      this.#problem(
        alias,
        path,
        target === undefined ? 'unknown alias' : 'an alias may not refer to itself',
      );
      return null;
    }
    return this.read(target, path);
  }

  #line(node: unknown): number | undefined {
    const range = (node as { range?: readonly number[] } | null)?.range;
    return range?.[0] === undefined ? undefined : this.#lineOf(range[0]);
  }

  #problem(node: unknown, path: readonly string[], message: string): void {
    this.#problems.push({ file: this.#file, line: this.#line(node), key: path.join('.'), message });
  }
}
