/**
 * @module Code generation: turns a template's node tree (with its `extends`
 * ancestors, blocks and includes inlined) into the body of one JavaScript
 * function, plus the line map that names the template file and line of every
 * statement.
 */
import { ParseError } from './parse-error.js';
import { parseForHeader } from './parser.js';
import type { TemplateLocation } from './runtime-error.js';
import type {
  ApplyNode,
  BlockNode,
  Clause,
  ControlNode,
  ExpressionNode,
  ParsedFile,
  TemplateNode,
} from './nodes.js';
import { filterWhitespace } from './whitespace.js';

/** What code generation needs from a loader: templates by name, already parsed. */
export interface TemplateSource {
  load(name: string, parentPath?: string): { readonly file: ParsedFile };
}

/** A snippet compiled on its own to find which tag holds a JavaScript syntax error. */
export interface SyntaxCheck {
  readonly snippet: string;
  readonly location: TemplateLocation;
}

/** The generated function body and what goes with it. */
export interface GeneratedCode {
  /**
   * Statements appending to `_tt_out` and setting `_tt_p` to the index in
   * `locations` of the statement about to run. Each line ends with a
   * `// name.html:LINE (via parent.html:LINE)` comment, as in Tornado.
   */
  readonly code: string;
  /** The line map: `_tt_p` values to template locations. */
  readonly locations: readonly TemplateLocation[];
  /** One snippet per expression or statement, in order. */
  readonly checks: readonly SyntaxCheck[];
}

interface LoopFrame {
  /** Set by `{% break %}` when the loop has an else clause. */
  readonly flag: string | undefined;
}

/**
 * Generates the code of a template: its ancestors are loaded through
 * `loader`, named blocks are merged with the most-derived definition winning,
 * and rendering starts from the root ancestor.
 *
 * @throws ParseError when `extends` or `include` is used without a loader,
 *   when an included template itself extends another, or from loading them.
 */
export function generateCode(file: ParsedFile, loader: TemplateSource | undefined): GeneratedCode {
  const ancestors = getAncestors(file, loader).reverse();
  const namedBlocks = new Map<string, BlockNode>();
  for (const ancestor of ancestors) findNamedBlocks(ancestor.body, ancestor, loader, namedBlocks);
  const writer = new CodeWriter(ancestors[0]!, namedBlocks, loader);
  writer.nodes(ancestors[0]!.body);
  return writer.result();
}

function getAncestors(file: ParsedFile, loader: TemplateSource | undefined): ParsedFile[] {
  const ancestors = [file];
  for (const node of file.body) {
    if (node.kind !== 'extends') continue;
    if (loader === undefined) {
      throw new ParseError(
        '{% extends %} block found, but no template loader',
        file.name,
        node.line,
      );
    }
    ancestors.push(...getAncestors(loader.load(node.name, file.name).file, loader));
  }
  return ancestors;
}

function loadIncluded(
  node: { readonly name: string; readonly from: string; readonly line: number },
  loader: TemplateSource | undefined,
): ParsedFile {
  if (loader === undefined) {
    throw new ParseError('{% include %} block found, but no template loader', node.from, node.line);
  }
  const included = loader.load(node.name, node.from).file;
  if (included.body.some((n) => n.kind === 'extends')) {
    // Tornado fails obscurely here (tornadoweb/tornado#1521); say what is wrong.
    throw new ParseError(
      `cannot include ${included.name}: it uses {% extends %}`,
      node.from,
      node.line,
    );
  }
  return included;
}

function findNamedBlocks(
  nodes: readonly TemplateNode[],
  file: ParsedFile,
  loader: TemplateSource | undefined,
  named: Map<string, BlockNode>,
): void {
  for (const node of nodes) {
    switch (node.kind) {
      case 'block':
        named.set(node.name, node);
        findNamedBlocks(node.body, file, loader, named);
        break;
      case 'control':
        for (const clause of node.clauses) findNamedBlocks(clause.body, file, loader, named);
        break;
      case 'apply':
        findNamedBlocks(node.body, file, loader, named);
        break;
      case 'include': {
        const included = loadIncluded(node, loader);
        findNamedBlocks(included.body, included, loader, named);
        break;
      }
      case 'text':
      case 'expression':
      case 'set':
      case 'break':
      case 'continue':
      case 'extends':
        break;
    }
  }
}

/** Wraps user code in parentheses; a trailing `// comment` in it cannot swallow ours. */
function paren(code: string): string {
  return code.includes('//') ? `(${code}\n)` : `(${code})`;
}

const IDENTIFIER = String.raw`[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*`;
const SET_DECLARES = new RegExp(`^(?:(${IDENTIFIER})\\s*=(?!=)|[[{])`, 'u');

/**
 * `{% set x = 1 %}` declares `x` with `var` (function-scoped, like a Python
 * local, so it is seen after the `if` or `for` that set it) unless `x` is a
 * loop or catch binding in scope, which it then assigns; `{% set o.a = 1 %}`
 * and `{% set i += 1 %}` are used as written.
 */
function setStatement(code: string, lexical: ReadonlySet<string>): string {
  const m = SET_DECLARES.exec(code);
  if (m === null) return code;
  return m[1] !== undefined && lexical.has(m[1]) ? code : `var ${code}`;
}

/** The names a binding pattern (`x`, `[k, v]`, `{ a, b }`) may declare; a superset is fine. */
function bindingNames(pattern: string): string[] {
  return [...pattern.matchAll(new RegExp(IDENTIFIER, 'gu'))]
    .map(([name]) => name)
    .filter((name) => name !== 'const' && name !== 'let' && name !== 'var');
}

class CodeWriter {
  readonly #lines: string[] = [];
  readonly #locations: TemplateLocation[] = [];
  readonly #locationIndex = new Map<string, number>();
  readonly #checks: SyntaxCheck[] = [];
  readonly #namedBlocks: ReadonlyMap<string, BlockNode>;
  readonly #loader: TemplateSource | undefined;
  readonly #includeStack: { file: ParsedFile; line: number }[] = [];
  #loops: LoopFrame[] = [];
  readonly #lexical: string[][] = [];
  #current: ParsedFile;
  #indent = 0;
  #counter = 0;

  constructor(
    root: ParsedFile,
    namedBlocks: ReadonlyMap<string, BlockNode>,
    loader: TemplateSource | undefined,
  ) {
    this.#current = root;
    this.#namedBlocks = namedBlocks;
    this.#loader = loader;
  }

  result(): GeneratedCode {
    return { code: this.#lines.join('\n'), locations: this.#locations, checks: this.#checks };
  }

  nodes(nodes: readonly TemplateNode[]): void {
    for (const node of nodes) this.#node(node);
  }

  #node(node: TemplateNode): void {
    switch (node.kind) {
      case 'text': {
        // The `<pre>` heuristic is Tornado's: such text keeps its whitespace.
        const value = node.value.includes('<pre>')
          ? node.value
          : filterWhitespace(node.whitespace, node.value);
        if (value) this.#write(`_tt_out += ${JSON.stringify(value)};`, node.line);
        return;
      }
      case 'expression':
        this.#expression(node);
        return;
      case 'set': {
        const statement = setStatement(node.code, new Set(this.#lexical.flat()));
        this.#check(`${statement};`, node.line);
        this.#write(`${this.#pos(node.line)} ${statement};`, node.line);
        return;
      }
      case 'break': {
        const flag = this.#loops.at(-1)?.flag;
        this.#write(flag === undefined ? 'break;' : `${flag} = true; break;`, node.line);
        return;
      }
      case 'continue':
        this.#write('continue;', node.line);
        return;
      case 'control':
        this.#control(node);
        return;
      case 'apply':
        this.#apply(node);
        return;
      case 'block': {
        const block = this.#namedBlocks.get(node.name) ?? node;
        this.#within(block.file, node.line, () => this.nodes(block.body));
        return;
      }
      case 'include': {
        const included = loadIncluded(node, this.#loader);
        this.#within(included, node.line, () => this.nodes(included.body));
        return;
      }
      case 'extends':
        return;
    }
  }

  #expression(node: ExpressionNode): void {
    const code = node.mode === 'module' ? `_tt_modules.${node.code}` : node.code;
    const escape = node.mode === 'escaped' ? this.#current.autoescape : null;
    const value = escape === null ? paren(code) : `${escape}(_tt_s(${paren(code)}))`;
    this.#check(`return ${value};`, node.line);
    this.#write(`${this.#pos(node.line)} _tt_out += _tt_s(${value});`, node.line);
  }

  #control(node: ControlNode): void {
    const first = node.clauses[0]!;
    switch (first.keyword) {
      case 'if':
        this.#if(node.clauses);
        return;
      case 'for':
      case 'while':
        this.#loop(node.clauses);
        return;
      case 'try':
        this.#try(node.clauses);
        return;
      case 'elif':
      case 'else':
      case 'catch':
      case 'finally':
        throw new Error(`unreachable: a control block cannot start with ${first.keyword}`);
    }
  }

  #if(clauses: readonly Clause[]): void {
    for (const clause of clauses) {
      const line = clause.line;
      if (clause.keyword === 'else') {
        this.#write('} else {', line);
      } else {
        this.#check(`return ${paren(clause.argument)};`, line);
        const test = `(${this.#pos(line, ',')} ${paren(clause.argument)})`;
        if (clause.keyword === 'if') this.#write(`if ${test} {`, line);
        else this.#write(`} else if ${test} {`, line);
      }
      this.#indented(() => this.nodes(clause.body));
    }
    this.#write('}', clauses[0]!.line);
  }

  #loop(clauses: readonly Clause[]): void {
    const [loop, otherwise] = clauses as [Clause, Clause | undefined];
    const line = loop.line;
    const flag = otherwise === undefined ? undefined : `_tt_b${this.#counter++}`;
    if (flag !== undefined) {
      this.#write('{', line);
      this.#indent++;
      this.#write(`let ${flag} = false;`, line);
    }
    let header: string;
    let names: string[] = [];
    if (loop.keyword === 'while') {
      this.#check(`return ${paren(loop.argument)};`, line);
      header = `while (${this.#pos(line, ',')} ${paren(loop.argument)}) {`;
    } else {
      const parsed = parseForHeader(loop.argument)!;
      if ('verbatim' in parsed) {
        this.#check(`for ${parsed.verbatim} {}`, line);
        this.#write(this.#pos(line), line);
        header = `for ${parsed.verbatim} {`;
        const declared = /^\(\s*(?:const|let)\s+([\s\S]*?)(?:\s+(?:of|in)\s|=|;)/.exec(
          parsed.verbatim,
        );
        if (declared !== null) names = bindingNames(declared[1]!);
      } else {
        this.#check(`for (${parsed.binding} of []) {} return ${paren(parsed.iterable)};`, line);
        header = `for (${parsed.binding} of (${this.#pos(line, ',')} ${paren(parsed.iterable)})) {`;
        names = bindingNames(parsed.binding);
      }
    }
    this.#write(header, line);
    this.#loops.push({ flag });
    this.#lexical.push(names);
    this.#indented(() => this.nodes(loop.body));
    this.#lexical.pop();
    this.#loops.pop();
    this.#write('}', line);
    if (otherwise !== undefined && flag !== undefined) {
      this.#write(`if (!${flag}) {`, otherwise.line);
      this.#indented(() => this.nodes(otherwise.body));
      this.#write('}', otherwise.line);
      this.#indent--;
      this.#write('}', line);
    }
  }

  #try(clauses: readonly Clause[]): void {
    const body = clauses[0]!;
    const caught = clauses.find((c) => c.keyword === 'catch');
    const otherwise = clauses.find((c) => c.keyword === 'else');
    const final = clauses.find((c) => c.keyword === 'finally');
    const line = body.line;
    // Python's try/else: the else body runs when the try body finished
    // without an exception, outside the catch, but before finally.
    const flag = otherwise === undefined ? undefined : `_tt_t${this.#counter++}`;
    const outer = otherwise !== undefined && final !== undefined;
    if (flag !== undefined) {
      this.#write('{', line);
      this.#indent++;
      this.#write(`let ${flag} = false;`, line);
    }
    if (outer) {
      this.#write('try {', line);
      this.#indent++;
    }
    this.#write('try {', line);
    this.#indented(() => {
      this.nodes(body.body);
      if (flag !== undefined) this.#write(`${flag} = true;`, line);
    });
    if (caught !== undefined) {
      const arg = caught.argument;
      const binding = arg === '' ? '' : arg.startsWith('(') ? ` ${arg}` : ` (${arg})`;
      this.#check(`try {} catch${binding} {}`, caught.line);
      this.#write(`} catch${binding} {`, caught.line);
      this.#lexical.push(bindingNames(arg));
      this.#indented(() => this.nodes(caught.body));
      this.#lexical.pop();
    }
    if (final !== undefined && !outer) {
      this.#write('} finally {', final.line);
      this.#indented(() => this.nodes(final.body));
    }
    this.#write('}', line);
    if (otherwise !== undefined && flag !== undefined) {
      this.#write(`if (${flag}) {`, otherwise.line);
      this.#indented(() => this.nodes(otherwise.body));
      this.#write('}', otherwise.line);
    }
    if (outer) {
      this.#indent--;
      this.#write('} finally {', final.line);
      this.#indented(() => this.nodes(final.body));
      this.#write('}', final.line);
    }
    if (flag !== undefined) {
      this.#indent--;
      this.#write('}', line);
    }
  }

  #apply(node: ApplyNode): void {
    const result = `_tt_a${this.#counter++}`;
    this.#check(`return ${paren(node.fn)};`, node.line);
    // The body renders in a nested function with its own output, so a loop
    // outside it is not a loop inside it (the parser already refused
    // break/continue there).
    this.#write(`${this.#pos(node.line)} const ${result} = (() => {`, node.line);
    const loops = this.#loops;
    this.#loops = [];
    this.#indented(() => {
      this.#write("let _tt_out = '';", node.line);
      this.nodes(node.body);
      this.#write('return _tt_out;', node.line);
    });
    this.#loops = loops;
    this.#write('})();', node.line);
    this.#write(
      `${this.#pos(node.line)} _tt_out += _tt_s(${paren(node.fn)}(${result}));`,
      node.line,
    );
  }

  #within(file: ParsedFile, line: number, body: () => void): void {
    this.#includeStack.push({ file: this.#current, line });
    this.#current = file;
    try {
      body();
    } finally {
      this.#current = this.#includeStack.pop()!.file;
    }
  }

  #indented(body: () => void): void {
    this.#indent++;
    body();
    this.#indent--;
  }

  #location(line: number): TemplateLocation {
    let text = `${this.#current.name}:${line}`;
    if (this.#includeStack.length > 0) {
      const via = this.#includeStack.map((e) => `${e.file.name}:${e.line}`).reverse();
      text += ` (via ${via.join(', ')})`;
    }
    return { filename: this.#current.name, lineno: line, text };
  }

  /** The statement recording that the code of `line` is about to run. */
  #pos(line: number, end = ';'): string {
    const location = this.#location(line);
    let index = this.#locationIndex.get(location.text);
    if (index === undefined) {
      index = this.#locations.length;
      this.#locations.push(location);
      this.#locationIndex.set(location.text, index);
    }
    return `_tt_p = ${index}${end}`;
  }

  #check(snippet: string, line: number): void {
    this.#checks.push({ snippet, location: this.#location(line) });
  }

  #write(code: string, line: number): void {
    const indent = '  '.repeat(this.#indent);
    this.#lines.push(`${indent}${code}  // ${this.#location(line).text}`);
  }
}
