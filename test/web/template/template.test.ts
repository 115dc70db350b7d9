import { describe, expect, it } from 'vitest';
import { DictLoader, ParseError, Template } from '../../../src/web/template/index.js';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

// Ported from Tornado's template_test.py TemplateTest, with JavaScript expressions.
describe('Template', () => {
  it('substitutes a variable from the namespace', () => {
    expect(new Template('Hello {{ name }}!').generate({ name: 'Ben' })).toBe('Hello Ben!');
  });

  it('decodes a Buffer value as UTF-8', () => {
    const t = new Template('Hello {{ name }}!');
    expect(t.generate({ name: Buffer.from('B\u00e9n', 'utf8') })).toBe('Hello B\u00e9n!');
  });

  it('evaluates JavaScript expressions', () => {
    expect(new Template('2 + 2 = {{ 2 + 2 }}').generate()).toBe('2 + 2 = 4');
    expect(new Template('{{ [1, 2, 3].map((x) => x * 2).join("-") }}').generate()).toBe('2-4-6');
    expect(new Template('{{ Math.max(a, 7) }}').generate({ a: 3 })).toBe('7');
  });

  it('renders null and undefined as nothing and other values with String()', () => {
    const t = new Template('[{{ a }}|{{ b }}|{{ c }}|{{ d }}|{{ e }}]');
    expect(t.generate({ a: null, b: undefined, c: 0, d: false, e: [1, 2] })).toBe(
      '[||0|false|1,2]',
    );
  });

  it('drops comments', () => {
    expect(new Template('Hello{# TODO i18n #} {{ name }}!').generate({ name: 'Ben' })).toBe(
      'Hello Ben!',
    );
  });

  it('includes another template', () => {
    const loader = new DictLoader({
      'index.html': '{% include "header.html" %}\nbody text',
      'header.html': 'header text',
    });
    expect(loader.load('index.html').generate()).toBe('header text\nbody text');
  });

  it('lets an included template see and set the includer’s variables', () => {
    const loader = new DictLoader({
      'index.html': '{% set x = 1 %}{% include "inc.html" %}{{ x }} {{ y }}',
      'inc.html': '[{{ x }}]{% set x = x + 1 %}{% set y = "set in include" %}',
    });
    expect(loader.load('index.html').generate()).toBe('[1]2 set in include');
  });

  it('extends a base template, the child’s blocks replacing the base’s', () => {
    const loader = new DictLoader({
      'base.html':
        '<title>{% block title %}default title{% end %}</title>\n' +
        '<body>{% block body %}default body{% end %}</body>\n',
      'page.html':
        '{% extends "base.html" %}\n' +
        '{% block title %}page title{% end %}\n' +
        '{% block body %}page body{% end %}\n',
    });
    expect(loader.load('page.html').generate()).toBe(
      '<title>page title</title>\n<body>page body</body>\n',
    );
  });

  it('resolves the most-derived block through a chain of extends and ignores text outside blocks', () => {
    const loader = new DictLoader({
      'base.html': '{% block a %}A0{% end %}/{% block b %}B0{% end %}/{% block c %}C0{% end %}',
      'mid.html':
        '{% extends "base.html" %}ignored{% block b %}B1{% end %}{% block c %}C1{% end %}',
      'leaf.html': '{% extends "mid.html" %}{% block c %}C2 {{ v }}{% end %}',
    });
    expect(loader.load('leaf.html').generate({ v: 'x' })).toBe('A0/B1/C2 x');
    expect(loader.load('mid.html').generate()).toBe('A0/B1/C1');
  });

  it('loads relative to the including template', () => {
    const loader = new DictLoader({
      'a/1.html': "{% include '2.html' %}",
      'a/2.html': "{% include '../b/3.html' %}",
      'b/3.html': 'ok',
    });
    expect(loader.load('a/1.html').generate()).toBe('ok');
  });

  it('parses {{!, {%! and {#! as literal braces', () => {
    expect(() => new Template('{{')).toThrow(ParseError);
    expect(() => new Template('{%')).toThrow(ParseError);
    expect(new Template('{{!').generate()).toBe('{{');
    expect(new Template('{%!').generate()).toBe('{%');
    expect(new Template('{#!').generate()).toBe('{#');
    expect(new Template("{{ 'expr' }} {{!jquery expr}}").generate()).toBe('expr {{jquery expr}}');
  });

  it('uses the innermost pair of a run of braces', () => {
    expect(new Template('\\frac{{{ a }}}{2}').generate({ a: 1 })).toBe('\\frac{1}{2}');
  });

  it('handles non-ASCII template text and literals', () => {
    expect(new Template('\u00e9').generate()).toBe('\u00e9');
    expect(new Template('{{ "\u00e9" }}').generate()).toBe('\u00e9');
    expect(new Template(Buffer.from('{{ "\u00e9" }}', 'utf8')).generate()).toBe('\u00e9');
  });

  it('sees the loader’s namespace', () => {
    const loader = new DictLoader(
      { 'test.html': '{{ inc(5) }}' },
      { namespace: { inc: (x: number) => x + 1 } },
    );
    expect(loader.load('test.html').generate()).toBe('6');
  });

  it('lets render arguments override the loader and default namespaces', () => {
    const loader = new DictLoader(
      { 't.html': '{{ a }} {{ escape }}' },
      { namespace: { a: 'loader' } },
    );
    expect(loader.load('t.html').generate({ a: 'render', escape: 'mine' })).toBe('render mine');
  });

  it('provides the escaping functions by default', () => {
    const t = new Template(
      '{% autoescape null %}{{ escape("<") }} {{ xhtmlEscape("&") }} {{ urlEscape("a b") }} ' +
        '{{ jsonEncode({ a: "</" }) }} {{ squeeze(" a  b ") }} {{ linkify("x http://a.com") }}',
    );
    expect(t.generate()).toBe(
      '&lt; &amp; a+b {"a":"<\\/"} a b x <a href="http://a.com">http://a.com</a>',
    );
  });

  it('applies a function to the body of {% apply %}', () => {
    const upper = (s: string) => s.toUpperCase();
    expect(new Template('{% apply upper %}foo{% end %}').generate({ upper })).toBe('FOO');
    expect(new Template('{% apply upper %}foo \u00e9{% end %}').generate({ upper })).toBe(
      'FOO \u00c9',
    );
  });

  it('accepts a Buffer from an apply function', () => {
    const upper = (s: string) => Buffer.from(s.toUpperCase(), 'utf8');
    expect(new Template('{% apply upper %}foo \u00e9{% end %}').generate({ upper })).toBe(
      'FOO \u00c9',
    );
  });

  it('nests apply blocks', () => {
    const t = new Template('{% apply wrap %}a{% apply upper %}b{{ x }}{% end %}c{% end %}');
    const wrap = (s: string) => `[${s}]`;
    const upper = (s: string) => s.toUpperCase();
    expect(t.generate({ wrap, upper, x: 'y' })).toBe('[aBYc]');
  });

  it('chooses a branch with if, elif and else', () => {
    const t = new Template('{% if x > 4 %}yes{% elif x > 2 %}maybe{% else %}no{% end %}');
    expect(t.generate({ x: 5 })).toBe('yes');
    expect(t.generate({ x: 3 })).toBe('maybe');
    expect(t.generate({ x: 1 })).toBe('no');
  });

  it('allows empty branches', () => {
    expect(new Template('{% if true %}{% else %}{% end %}').generate()).toBe('');
  });

  it('runs try, catch, else and finally like Python’s try statement', () => {
    const t = new Template(
      '{% try %}\ntry{% set y = check(x) %}\n{% catch %}-catch\n{% else %}-else\n{% finally %}-finally\n{% end %}',
    );
    const check = (x: number) => {
      if (x === 0) throw new Error('zero');
      return 1 / x;
    };
    expect(t.generate({ x: 1, check })).toBe('\ntry\n-else\n-finally\n');
    expect(t.generate({ x: 0, check })).toBe('\ntry-catch\n-finally\n');
  });

  it('binds the caught error with {% catch e %}', () => {
    const t = new Template('{% try %}{{ boom() }}{% catch e %}caught {{ e.message }}{% end %}');
    const boom = () => {
      throw new Error('<bang>');
    };
    expect(t.generate({ boom })).toBe('caught &lt;bang&gt;');
  });

  it('runs finally without catch and lets the error through', () => {
    const t = new Template('{% try %}{{ f() }}{% finally %}{% set done.value = true %}{% end %}');
    const done = { value: false };
    expect(() => t.generate({ f: (): unknown => JSON.parse('{'), done })).toThrow(/<string>:1/);
    expect(done.value).toBe(true);
  });

  it('drops {% comment %} tags', () => {
    expect(new Template('{% comment blah blah %}foo').generate()).toBe('foo');
  });

  it('supports break and continue in for loops', () => {
    const t = new Template(
      '{% for i of range(10) %}\n' +
        '    {% if i == 2 %}\n        {% continue %}\n    {% end %}\n' +
        '    {{ i }}\n' +
        '    {% if i == 6 %}\n        {% break %}\n    {% end %}\n' +
        '{% end %}',
    );
    expect(t.generate({ range }).split(/\s+/).join('')).toBe('013456');
  });

  it('supports while loops with break', () => {
    const t = new Template(
      '{% set i = 0 %}{% while true %}{{ i }}{% set i += 1 %}{% if i > 3 %}{% break %}{% end %}{% end %}',
    );
    expect(t.generate()).toBe('0123');
  });

  it('runs a loop’s else clause only when the loop was not broken, as Python does', () => {
    const t = new Template(
      '{% for x of items %}{{ x }}{% if x == stop %}{% break %}{% end %}{% else %}[done]{% end %}',
    );
    expect(t.generate({ items: [1, 2, 3], stop: 9 })).toBe('123[done]');
    expect(t.generate({ items: [1, 2, 3], stop: 2 })).toBe('12');
    expect(t.generate({ items: [], stop: 2 })).toBe('[done]');
  });

  it('destructures in for…of and takes a parenthesised JavaScript for header', () => {
    const o = { a: 1, b: 2 };
    expect(
      new Template('{% for [k, v] of Object.entries(o) %}{{ k }}={{ v }};{% end %}').generate({
        o,
      }),
    ).toBe('a=1;b=2;');
    expect(
      new Template('{% for (const [k, v] of Object.entries(o)) %}{{ k }}{{ v }}{% end %}').generate(
        { o },
      ),
    ).toBe('a1b2');
    expect(new Template('{% for (let i = 0; i < 3; i++) %}{{ i }}{% end %}').generate()).toBe(
      '012',
    );
  });

  it('keeps {% set %} variables local to the render', () => {
    const t = new Template('{% set x = 1 %}{% if true %}{% set x = x + 1 %}{% end %}{{ x }}');
    const ns: Record<string, unknown> = { x: 10 };
    expect(t.generate(ns)).toBe('2');
    expect(ns).toEqual({ x: 10 });
    expect(new Template('{% set [a, b] = pair %}{{ b }}{{ a }}').generate({ pair: [1, 2] })).toBe(
      '21',
    );
  });

  it('lets {% set %} reassign a loop or catch binding instead of redeclaring it', () => {
    expect(
      new Template('{% for x of [1, 2] %}{% set x = x * 10 %}{{ x }},{% end %}').generate(),
    ).toBe('10,20,');
    expect(
      new Template('{% for [k, v] of pairs %}{% set v = v + 1 %}{{ k }}{{ v }}{% end %}').generate({
        pairs: [['a', 1]],
      }),
    ).toBe('a2');
    expect(
      new Template(
        '{% for (let i = 0; i < 5; i++) %}{{ i }}{% set i = i + 1 %}{% end %}',
      ).generate(),
    ).toBe('024');
    expect(
      new Template(
        '{% try %}{{ f() }}{% catch e %}{% set e = "replaced" %}{{ e }}{% end %}',
      ).generate({
        f: () => {
          throw new Error('x');
        },
      }),
    ).toBe('replaced');
  });

  it('assigns to a property with {% set %}', () => {
    const o = { n: 1 };
    expect(new Template('{% set o.n = 5 %}{{ o.n }}').generate({ o })).toBe('5');
    expect(o.n).toBe(5);
  });

  it('outputs a {% raw %} expression unescaped', () => {
    expect(new Template('{% raw x %}|{{ x }}').generate({ x: '<b>' })).toBe('<b>|&lt;b&gt;');
  });

  it('writes {% module %} output from _tt_modules unescaped', () => {
    const _tt_modules = { Hello: (who: string) => `<b>${who}</b>` };
    expect(new Template('{% module Hello("you") %}').generate({ _tt_modules })).toBe('<b>you</b>');
  });

  it('refuses break and continue outside a loop, and inside apply within a loop', () => {
    expect(() => new Template('{% break %}')).toThrow(ParseError);
    expect(() => new Template('{% continue %}')).toThrow(ParseError);
    expect(
      () => new Template('{% for i of [] %}{% apply foo %}{% break %}{% end %}{% end %}'),
    ).toThrow(ParseError);
    expect(() => new Template('{% for i of [] %}{% else %}{% break %}{% end %}')).toThrow(
      ParseError,
    );
  });

  it('loads a template with a non-ASCII name', () => {
    const loader = new DictLoader({ 't\u00e9st.html': 'hello' });
    expect(loader.load('t\u00e9st.html').generate()).toBe('hello');
  });

  it('throws ReferenceError (wrapped) for a name that is not in the namespace', () => {
    const t = new Template('{{ missing }}', { name: 'm.html' });
    expect(() => t.generate()).toThrow('m.html:1: missing is not defined');
  });

  it('gives the same result whatever the order or extra keys of the namespace', () => {
    const t = new Template('{{ a }}{{ b }}');
    for (let i = 0; i < 50; i++) {
      expect(t.generate({ [`unused${i}`]: i, b: 2, a: 1 })).toBe('12');
      expect(t.generate({ a: 1, b: 2 })).toBe('12');
    }
  });

  it('lets globals through when the namespace does not shadow them', () => {
    expect(new Template('{{ JSON.stringify([1]) }}').generate()).toBe('[1]');
    expect(new Template('{{ JSON }}').generate({ JSON: 'shadowed' })).toBe('shadowed');
  });

  it('ignores namespace keys that are not identifiers or are reserved', () => {
    const t = new Template('{{ ok }}');
    expect(t.generate({ ok: 1, 'not-an-id': 2, class: 3, _tt_out: 4 })).toBe('1');
  });

  it('generates code with a name:line comment on each line', () => {
    const t = new Template('a\n{{ b }}', { name: 'x.html' });
    expect(t.code).toContain('// x.html:2');
  });
});
