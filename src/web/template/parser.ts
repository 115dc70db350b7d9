/**
 * @module The template parser: turns a template's source into a node tree,
 * raising `ParseError`s with Tornado's wording and the file and line.
 */
import type { TemplateReader } from './reader.js';
import type { Clause, ClauseKeyword, ParsedFile, TemplateNode } from './nodes.js';
import { isWhitespaceMode } from './whitespace.js';

/** Intermediate tags and the blocks each may continue (Tornado's `intermediate_blocks`). */
const INTERMEDIATE: ReadonlyMap<string, readonly string[]> = new Map([
  ['else', ['if', 'for', 'while', 'try']],
  ['elif', ['if']],
  ['catch', ['try']],
  ['finally', ['try']],
]);

/** Which clause may follow which, per block operator. */
const NEXT_CLAUSE: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  if: { if: ['elif', 'else'], elif: ['elif', 'else'], else: [] },
  for: { for: ['else'], else: [] },
  while: { while: ['else'], else: [] },
  try: { try: ['catch', 'finally'], catch: ['else', 'finally'], else: ['finally'], finally: [] },
};

/** Operators from Python templates that have no meaning here, with what to use instead. */
const PYTHON_ONLY: Readonly<Record<string, string>> = {
  except: 'use {% catch %} or {% catch e %}',
  import: 'put what the template needs into its namespace',
  from: 'put what the template needs into its namespace',
};

interface Terminator {
  readonly operator: string;
  readonly argument: string;
  readonly line: number;
}

interface ParsedBody {
  readonly body: TemplateNode[];
  readonly end: Terminator | undefined;
}

/** Python's `str.strip(chars)`: removes any of `chars` from both ends. */
function stripChars(s: string, chars: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && chars.includes(s[start]!)) start++;
  while (end > start && chars.includes(s[end - 1]!)) end--;
  return s.slice(start, end);
}

function quotedName(suffix: string): string {
  return stripChars(stripChars(suffix, '"'), "'");
}

/**
 * Parses a whole template into `file.body`.
 *
 * @throws ParseError for any syntax error, naming `file.name` and the line.
 */
export function parseTemplate(reader: TemplateReader, file: ParsedFile): void {
  const { body } = parseBody(reader, file, undefined, false);
  file.body.push(...body);
}

/**
 * Parses nodes until the end of input or, inside a block, until `{% end %}` or
 * an intermediate tag (`else`, `elif`, `catch`, `finally`), which is returned
 * for the caller to continue with.
 */
function parseBody(
  reader: TemplateReader,
  file: ParsedFile,
  inBlock: string | undefined,
  inLoop: boolean,
): ParsedBody {
  const body: TemplateNode[] = [];
  for (;;) {
    // Find the next tag: `{{`, `{%` or `{#`. With more than two braces in a
    // row the innermost pair opens the tag (handy for LaTeX).
    let curly = 0;
    for (;;) {
      curly = reader.find('{', curly);
      if (curly === -1 || curly + 1 === reader.remaining()) {
        if (inBlock !== undefined) reader.raiseParseError(`Missing {% end %} block for ${inBlock}`);
        body.push({
          kind: 'text',
          value: reader.consume(),
          line: reader.line,
          whitespace: reader.whitespace,
        });
        return { body, end: undefined };
      }
      const next = reader.at(curly + 1);
      if (next !== '{' && next !== '%' && next !== '#') {
        curly += 1;
        continue;
      }
      if (curly + 2 < reader.remaining() && next === '{' && reader.at(curly + 2) === '{') {
        curly += 1;
        continue;
      }
      break;
    }

    if (curly > 0) {
      const line = reader.line;
      body.push({
        kind: 'text',
        value: reader.consume(curly),
        line,
        whitespace: reader.whitespace,
      });
    }

    const startBrace = reader.consume(2);
    const line = reader.line;

    // `{{!`, `{%!` and `{#!` output the braces literally (for client-side templates).
    if (reader.remaining() > 0 && reader.at(0) === '!') {
      reader.consume(1);
      body.push({ kind: 'text', value: startBrace, line, whitespace: reader.whitespace });
      continue;
    }

    if (startBrace === '{#') {
      const end = reader.find('#}');
      if (end === -1) reader.raiseParseError('Missing end comment #}');
      reader.consume(end + 2);
      continue;
    }

    if (startBrace === '{{') {
      const end = reader.find('}}');
      if (end === -1) reader.raiseParseError('Missing end expression }}');
      const contents = reader.consume(end).trim();
      reader.consume(2);
      if (!contents) reader.raiseParseError('Empty expression');
      body.push({ kind: 'expression', code: contents, line, mode: 'escaped' });
      continue;
    }

    // startBrace is `{%`.
    const end = reader.find('%}');
    if (end === -1) reader.raiseParseError('Missing end block %}');
    const contents = reader.consume(end).trim();
    reader.consume(2);
    if (!contents) reader.raiseParseError('Empty block tag ({% %})');

    const space = contents.search(/\s/);
    const operator = space === -1 ? contents : contents.slice(0, space);
    const suffix = space === -1 ? '' : contents.slice(space + 1).trim();

    const parents = INTERMEDIATE.get(operator);
    if (parents !== undefined) {
      if (inBlock === undefined) {
        reader.raiseParseError(`${operator} outside {${parents.join(', ')}} block`);
      }
      if (!parents.includes(inBlock)) {
        reader.raiseParseError(`${operator} block cannot be attached to ${inBlock} block`);
      }
      return { body, end: { operator, argument: suffix, line } };
    }

    switch (operator) {
      case 'end':
        if (inBlock === undefined) reader.raiseParseError('Extra {% end %} block');
        return { body, end: { operator, argument: suffix, line } };

      case 'comment':
        continue;

      case 'extends': {
        if (inBlock !== undefined) reader.raiseParseError('extends must be at the top level');
        const name = quotedName(suffix);
        if (!name) reader.raiseParseError('extends missing file path');
        body.push({ kind: 'extends', name, line });
        continue;
      }

      case 'include': {
        const name = quotedName(suffix);
        if (!name) reader.raiseParseError('include missing file path');
        body.push({ kind: 'include', name, from: reader.name, line });
        continue;
      }

      case 'set':
        if (!suffix) reader.raiseParseError('set missing statement');
        body.push({ kind: 'set', code: suffix, line });
        continue;

      case 'autoescape':
        if (!suffix) reader.raiseParseError('autoescape missing function name');
        // Tornado's `None`, and JavaScript's `null`, turn escaping off.
        file.autoescape = suffix === 'None' || suffix === 'null' ? null : suffix;
        continue;

      case 'whitespace':
        if (!isWhitespaceMode(suffix)) reader.raiseParseError(`invalid whitespace mode ${suffix}`);
        reader.whitespace = suffix;
        continue;

      case 'raw':
        if (!suffix) reader.raiseParseError('raw missing expression');
        body.push({ kind: 'expression', code: suffix, line, mode: 'raw' });
        continue;

      case 'module':
        if (!suffix) reader.raiseParseError('module missing expression');
        body.push({ kind: 'expression', code: suffix, line, mode: 'module' });
        continue;

      case 'apply': {
        // An apply body becomes a nested function, so a loop around it does
        // not make break or continue legal inside it.
        const inner = parseBody(reader, file, operator, false);
        if (!suffix) reader.raiseParseError('apply missing method name');
        body.push({ kind: 'apply', fn: suffix, body: inner.body, line });
        continue;
      }

      case 'block': {
        const inner = parseBody(reader, file, operator, inLoop);
        if (!suffix) reader.raiseParseError('block missing name');
        body.push({ kind: 'block', name: suffix, body: inner.body, file, line });
        continue;
      }

      case 'if':
      case 'for':
      case 'while':
      case 'try':
        body.push({
          kind: 'control',
          line,
          clauses: parseClauses(reader, file, operator, suffix, line, inLoop),
        });
        continue;

      case 'break':
      case 'continue':
        if (!inLoop) reader.raiseParseError(`${operator} outside {for, while} block`);
        body.push({ kind: operator, line });
        continue;

      default: {
        const hint = PYTHON_ONLY[operator];
        reader.raiseParseError(`unknown operator: '${operator}'${hint ? ` (${hint})` : ''}`);
      }
    }
  }
}

/** Parses the clauses of an `if`/`for`/`while`/`try` block up to its `{% end %}`. */
function parseClauses(
  reader: TemplateReader,
  file: ParsedFile,
  operator: 'if' | 'for' | 'while' | 'try',
  argument: string,
  line: number,
  inLoop: boolean,
): Clause[] {
  const clauses: Clause[] = [];
  let keyword: ClauseKeyword = operator;
  let current: Terminator = { operator, argument, line };
  for (;;) {
    checkClauseArgument(reader, keyword, current);
    // A loop's own body is in a loop; its else clause is not (as in Python).
    const bodyInLoop = keyword === 'for' || keyword === 'while' ? true : inLoop;
    const { body, end } = parseBody(reader, file, operator, bodyInLoop);
    clauses.push({ keyword, argument: current.argument, line: current.line, body });
    if (end === undefined || end.operator === 'end') break;
    const allowed = NEXT_CLAUSE[operator]?.[keyword] ?? [];
    if (!allowed.includes(end.operator)) {
      reader.raiseParseError(`${end.operator} block cannot follow ${keyword} block`);
    }
    keyword = end.operator as ClauseKeyword;
    current = end;
  }
  if (operator === 'try' && clauses.length === 1) {
    reader.raiseParseError('try block needs a catch or finally block');
  }
  return clauses;
}

function checkClauseArgument(
  reader: TemplateReader,
  keyword: ClauseKeyword,
  clause: Terminator,
): void {
  switch (keyword) {
    case 'if':
    case 'elif':
    case 'while':
      if (!clause.argument) reader.raiseParseError(`${keyword} missing condition`);
      return;
    case 'for':
      if (parseForHeader(clause.argument) === undefined) {
        reader.raiseParseError(
          /\sin\s/.test(clause.argument)
            ? `for ... in is not supported: write {% for x of items %} (JavaScript for...of)`
            : `for needs "x of items" or a parenthesised JavaScript for header`,
        );
      }
      return;
    case 'else':
    case 'try':
    case 'finally':
      if (clause.argument) reader.raiseParseError(`${keyword} takes no argument`);
      return;
    case 'catch':
      return;
  }
}

/** A `{% for %}` header: verbatim `(…)`, or a binding and an iterable around `of`. */
export type ForHeader =
  { readonly verbatim: string } | { readonly binding: string; readonly iterable: string };

/**
 * Splits a `{% for %}` header: `x of items`, `[k, v] of Object.entries(o)` and
 * `const x of items` iterate with `for…of` (a bare binding is declared with
 * `let`, so `{% set %}` may reassign it, as in Python); a header in parentheses is a
 * JavaScript `for` header used as written. Returns `undefined` for anything else.
 */
export function parseForHeader(argument: string): ForHeader | undefined {
  if (argument.startsWith('(')) return { verbatim: argument };
  const m = /^([\s\S]+?)\s+of\s+([\s\S]+)$/.exec(argument);
  if (m === null) return undefined;
  const binding = /^(?:const|let|var)\s/.test(m[1]!) ? m[1]! : `let ${m[1]!}`;
  return { binding, iterable: m[2]! };
}
