import { describe, expect, it } from 'vitest';
import { DictLoader, ParseError, Template } from '../../../src/web/template/index.js';

function parseError(source: string, name = 'foo.html'): ParseError {
  try {
    new Template(source, { name });
  } catch (err) {
    if (err instanceof ParseError) return err;
    throw err;
  }
  throw new Error('did not get the expected ParseError');
}

// Ported from Tornado's ParseErrorDetailTest, plus each message of the parser.
describe('ParseError', () => {
  it('names the file and line', () => {
    const loader = new DictLoader({ 'foo.html': '\n\n{{' });
    let caught: unknown;
    try {
      loader.load('foo.html');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ParseError);
    const err = caught as ParseError;
    expect(err.message).toBe('foo.html:3: Missing end expression }}');
    expect(err.filename).toBe('foo.html');
    expect(err.lineno).toBe(3);
    expect(err.reason).toBe('Missing end expression }}');
    expect(err.code).toBe('VESPER_WEB_TEMPLATE_PARSE');
  });

  it('can be constructed with a message only', () => {
    expect(new ParseError('asdf').message).toBe('<unknown>:0: asdf');
  });

  const cases: [string, string][] = [
    ['{% if x %}', 'foo.html:1: Missing {% end %} block for if'],
    ['{% for x of y %}\n{% if x %}{% end %}', 'foo.html:2: Missing {% end %} block for for'],
    ['a\n{% end %}', 'foo.html:2: Extra {% end %} block'],
    ['{% foo %}', "foo.html:1: unknown operator: 'foo'"],
    ['{% except %}', "foo.html:1: unknown operator: 'except' (use {% catch %} or {% catch e %})"],
    ['{% %}', 'foo.html:1: Empty block tag ({% %})'],
    ['{{ }}', 'foo.html:1: Empty expression'],
    ['{# x', 'foo.html:1: Missing end comment #}'],
    ['{% if', 'foo.html:1: Missing end block %}'],
    ['{% extends %}', 'foo.html:1: extends missing file path'],
    ['{% include "" %}', 'foo.html:1: include missing file path'],
    ['{% set %}', 'foo.html:1: set missing statement'],
    ['{% apply %}x{% end %}', 'foo.html:1: apply missing method name'],
    ['{% block %}x{% end %}', 'foo.html:1: block missing name'],
    ['{% else %}', 'foo.html:1: else outside {if, for, while, try} block'],
    [
      '{% for x of y %}{% elif z %}{% end %}',
      'foo.html:1: elif block cannot be attached to for block',
    ],
    [
      '{% if x %}{% else %}{% elif y %}{% end %}',
      'foo.html:1: elif block cannot follow else block',
    ],
    ['{% try %}x{% end %}', 'foo.html:1: try block needs a catch or finally block'],
    ['{% try %}{% else %}{% end %}', 'foo.html:1: else block cannot follow try block'],
    ['{% break %}', 'foo.html:1: break outside {for, while} block'],
    ['{% whitespace wide %}', 'foo.html:1: invalid whitespace mode wide'],
    [
      '{% for x in items %}{% end %}',
      'foo.html:1: for ... in is not supported: write {% for x of items %} (JavaScript for...of)',
    ],
    ['{% if x %}{% extends "a" %}{% end %}', 'foo.html:1: extends must be at the top level'],
    ['{% extends "base.html" %}', 'foo.html:1: {% extends %} block found, but no template loader'],
    ['\n{% include "x.html" %}', 'foo.html:2: {% include %} block found, but no template loader'],
  ];
  for (const [source, message] of cases) {
    it(`reports ${JSON.stringify(source)} as ${JSON.stringify(message)}`, () => {
      expect(parseError(source).message).toBe(message);
    });
  }

  it('names the tag that holds a JavaScript syntax error', () => {
    const err = parseError('one\ntwo\n{{ a + }}\n{{ b }}');
    expect(err.lineno).toBe(3);
    expect(err.message).toMatch(/^foo\.html:3: invalid JavaScript: /);
    expect(err.cause).toBeInstanceOf(SyntaxError);
    expect(parseError('\n{% set x = = 1 %}').lineno).toBe(2);
    expect(parseError('\n\n{% if ) %}{% end %}').lineno).toBe(3);
    expect(parseError('{% for (;; %}{% end %}').lineno).toBe(1);
    expect(parseError('\n{% try %}{% catch 1 %}{% end %}').lineno).toBe(2);
    expect(parseError('{% autoescape ) %}\n{{ x }}').lineno).toBe(2);
  });

  it('names the included file that holds a JavaScript syntax error', () => {
    const loader = new DictLoader({ 'a.html': '{% include "b.html" %}', 'b.html': '\n{{ ) }}' });
    let caught: unknown;
    try {
      loader.load('a.html');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ParseError);
    expect((caught as ParseError).filename).toBe('b.html');
    expect((caught as ParseError).lineno).toBe(2);
  });

  it('refuses to include a template that extends another', () => {
    const loader = new DictLoader({
      'a.html': '\n{% include "b.html" %}',
      'b.html': '{% extends "c.html" %}',
      'c.html': 'c',
    });
    expect(() => loader.load('a.html')).toThrow(
      'a.html:2: cannot include b.html: it uses {% extends %}',
    );
  });

  it('refuses templates that include or extend each other in a circle', () => {
    const loader = new DictLoader({
      'a.html': '{% include "b.html" %}',
      'b.html': '{% include "a.html" %}',
      'c.html': '{% extends "c.html" %}',
    });
    expect(() => loader.load('a.html')).toThrow(ParseError);
    expect(() => loader.load('a.html')).toThrow(/circular/);
    expect(() => loader.load('c.html')).toThrow(/circular/);
  });
});
