import { describe, expect, it } from 'vitest';
import { DictLoader, Template } from '../../../src/web/template/index.js';

// Ported from Tornado's AutoEscapeTest.
const TEMPLATES: Record<string, string> = {
  'escaped.html': '{% autoescape xhtmlEscape %}{{ name }}',
  'unescaped.html': '{% autoescape None %}{{ name }}',
  'unescaped-null.html': '{% autoescape null %}{{ name }}',
  'default.html': '{{ name }}',
  'include.html':
    "escaped: {% include 'escaped.html' %}\n" +
    "unescaped: {% include 'unescaped.html' %}\n" +
    "default: {% include 'default.html' %}\n",
  'escaped_block.html': '{% autoescape xhtmlEscape %}{% block name %}base: {{ name }}{% end %}',
  'unescaped_block.html': '{% autoescape None %}{% block name %}base: {{ name }}{% end %}',
  // Extend a base template with a different autoescape policy, with and
  // without overriding the base's blocks.
  'escaped_extends_unescaped.html':
    '{% autoescape xhtmlEscape %}{% extends "unescaped_block.html" %}',
  'escaped_overrides_unescaped.html':
    '{% autoescape xhtmlEscape %}{% extends "unescaped_block.html" %}' +
    '{% block name %}extended: {{ name }}{% end %}',
  'unescaped_extends_escaped.html': '{% autoescape None %}{% extends "escaped_block.html" %}',
  'unescaped_overrides_escaped.html':
    '{% autoescape None %}{% extends "escaped_block.html" %}' +
    '{% block name %}extended: {{ name }}{% end %}',
  'raw_expression.html': '{% autoescape xhtmlEscape %}expr: {{ name }}\nraw: {% raw name %}',
};

describe('autoescape', () => {
  it('is off for every file without a directive when the loader turns it off', () => {
    const loader = new DictLoader(TEMPLATES, { autoescape: null });
    const name = 'Bobby <table>s';
    expect(loader.load('escaped.html').generate({ name })).toBe('Bobby &lt;table&gt;s');
    expect(loader.load('unescaped.html').generate({ name })).toBe('Bobby <table>s');
    expect(loader.load('default.html').generate({ name })).toBe('Bobby <table>s');
    expect(loader.load('include.html').generate({ name })).toBe(
      'escaped: Bobby &lt;table&gt;s\nunescaped: Bobby <table>s\ndefault: Bobby <table>s\n',
    );
  });

  it('is on by default, each included file keeping its own setting', () => {
    const loader = new DictLoader(TEMPLATES, { autoescape: 'xhtmlEscape' });
    const name = 'Bobby <table>s';
    expect(loader.load('escaped.html').generate({ name })).toBe('Bobby &lt;table&gt;s');
    expect(loader.load('unescaped.html').generate({ name })).toBe('Bobby <table>s');
    expect(loader.load('unescaped-null.html').generate({ name })).toBe('Bobby <table>s');
    expect(loader.load('default.html').generate({ name })).toBe('Bobby &lt;table&gt;s');
    expect(loader.load('include.html').generate({ name })).toBe(
      'escaped: Bobby &lt;table&gt;s\nunescaped: Bobby <table>s\ndefault: Bobby &lt;table&gt;s\n',
    );
    expect(new DictLoader(TEMPLATES).load('default.html').generate({ name })).toBe(
      'Bobby &lt;table&gt;s',
    );
  });

  it('applies in a block that is not extended', () => {
    const loader = new DictLoader(TEMPLATES);
    const name = '<script>';
    expect(loader.load('escaped_block.html').generate({ name })).toBe('base: &lt;script&gt;');
    expect(loader.load('unescaped_block.html').generate({ name })).toBe('base: <script>');
  });

  it('follows the file that defines a block’s body when extending', () => {
    const loader = new DictLoader(TEMPLATES);
    const render = (n: string) => loader.load(n).generate({ name: '<script>' });
    expect(render('escaped_extends_unescaped.html')).toBe('base: <script>');
    expect(render('escaped_overrides_unescaped.html')).toBe('extended: &lt;script&gt;');
    expect(render('unescaped_extends_escaped.html')).toBe('base: &lt;script&gt;');
    expect(render('unescaped_overrides_escaped.html')).toBe('extended: <script>');
  });

  it('does not apply to {% raw %}', () => {
    const loader = new DictLoader(TEMPLATES);
    expect(loader.load('raw_expression.html').generate({ name: '<>&"' })).toBe(
      'expr: &lt;&gt;&amp;&quot;\nraw: <>&"',
    );
  });

  it('calls a custom escape function from the namespace with the text of the value', () => {
    const loader = new DictLoader({ 'foo.py': '{% autoescape pyEscape %}s = {{ name }}\n' });
    const seen: unknown[] = [];
    const pyEscape = (s: unknown) => {
      seen.push(s);
      return JSON.stringify(s);
    };
    const render = (name: unknown) => loader.load('foo.py').generate({ pyEscape, name });
    expect(render('<html>')).toBe('s = "<html>"\n');
    expect(render("';process.exit()")).toBe(`s = "';process.exit()"\n`);
    expect(render(['not a string'])).toBe('s = "not a string"\n');
    expect(seen.every((s) => typeof s === 'string')).toBe(true);
  });

  it('accepts a Buffer from a custom escape function', () => {
    const t = new Template('{% autoescape up %}{{ x }}');
    expect(t.generate({ x: '\u00e9', up: (s: string) => Buffer.from(s.toUpperCase()) })).toBe(
      '\u00c9',
    );
  });

  it('takes the Template option over the loader’s and the default', () => {
    expect(new Template('{{ x }}', { autoescape: null }).generate({ x: '<' })).toBe('<');
    expect(new Template('{{ x }}').generate({ x: '<' })).toBe('&lt;');
    expect(new Template('{{ x }}').autoescape).toBe('xhtmlEscape');
    expect(new Template('{% autoescape None %}{{ x }}').autoescape).toBe(null);
  });

  it('applies the last directive of a file to the whole file, as Tornado does', () => {
    const t = new Template('{{ x }}{% autoescape None %}{{ x }}');
    expect(t.generate({ x: '<' })).toBe('<<');
  });

  it('passes {% apply %} output through untouched by autoescape and escapes inside it', () => {
    const t = new Template('{% apply wrap %}<i>{{ x }}</i>{% end %}');
    expect(t.generate({ x: '<', wrap: (s: string) => `<b>${s}</b>` })).toBe('<b><i>&lt;</i></b>');
  });

  it('writes {% module %} output unescaped', () => {
    const t = new Template('{% module X() %}');
    expect(t.generate({ _tt_modules: { X: () => '<x>' } })).toBe('<x>');
  });
});
