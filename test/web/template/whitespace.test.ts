import { describe, expect, it } from 'vitest';
import { isVesperError } from '../../../src/shared/errors/index.js';
import {
  defaultWhitespace,
  DictLoader,
  filterWhitespace,
  Template,
  type WhitespaceMode,
} from '../../../src/web/template/index.js';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

// Ported from Tornado's AutoEscapeTest whitespace cases.
describe('whitespace modes', () => {
  it('allows whitespace inside tags to keep it out of the output', () => {
    const loader = new DictLoader({
      'foo.txt': '{% for i of items\n  %}{% if i > 0 %}, {% end %}{#\n  #}{{i\n  }}{% end\n%}',
    });
    expect(loader.load('foo.txt').generate({ items: range(5) })).toBe('0, 1, 2, 3, 4');
  });

  it('defaults by file name, each included file keeping its own mode', () => {
    const loader = new DictLoader({
      'foo.html': '   \n\t\n asdf\t   ',
      'bar.js': ' \n\n\n\t qwer     ',
      'baz.txt': '\t    zxcv\n\n',
      'include.html': '  {% include baz.txt %} \n ',
      'include.txt': '\t\t{% include foo.html %}    ',
    });
    expect(loader.load('foo.html').generate()).toBe('\nasdf ');
    expect(loader.load('bar.js').generate()).toBe('\nqwer ');
    expect(loader.load('baz.txt').generate()).toBe('\t    zxcv\n\n');
    expect(loader.load('include.html').generate()).toBe(' \t    zxcv\n\n\n');
    expect(loader.load('include.txt').generate()).toBe('\t\t\nasdf     ');
  });

  it('takes the loader’s mode over the file name', () => {
    const templates = { 'foo.html': '\t\tfoo\n\n', 'bar.txt': '\t\tbar\n\n' };
    const cases: [WhitespaceMode, string, string][] = [
      ['all', '\t\tfoo\n\n', '\t\tbar\n\n'],
      ['single', ' foo\n', ' bar\n'],
      ['oneline', ' foo ', ' bar '],
    ];
    for (const [whitespace, foo, bar] of cases) {
      const loader = new DictLoader(templates, { whitespace });
      expect(loader.load('foo.html').generate()).toBe(foo);
      expect(loader.load('bar.txt').generate()).toBe(bar);
    }
  });

  it('changes mode for the rest of the file with {% whitespace %}', () => {
    const loader = new DictLoader({
      'foo.html':
        '{% whitespace oneline %}\n    {% for i of range(3) %}\n        {{ i }}\n    {% end %}\n' +
        '{% whitespace all %}\n    pre\tformatted\n',
    });
    expect(loader.load('foo.html').generate({ range })).toBe('  0  1  2  \n    pre\tformatted\n');
  });

  it('leaves text containing <pre> alone', () => {
    const t = new Template('<pre>\n   a\n\n</pre>', { name: 'p.html' });
    expect(t.generate()).toBe('<pre>\n   a\n\n</pre>');
  });

  it('takes the Template option over the loader and the name', () => {
    const t = new Template('  a  \n\n', { name: 'x.html', whitespace: 'all' });
    expect(t.generate()).toBe('  a  \n\n');
  });

  it('refuses an unknown mode given as an option', () => {
    const bad = 'wide' as WhitespaceMode;
    for (const make of [
      () => new Template('x', { whitespace: bad }),
      () => new DictLoader({}, { whitespace: bad }),
    ]) {
      let caught: unknown;
      try {
        make();
      } catch (err) {
        caught = err;
      }
      expect(isVesperError(caught, 'VESPER_WEB_TEMPLATE_INVALID_OPTION')).toBe(true);
    }
  });

  it('filters text as Tornado’s filter_whitespace does', () => {
    expect(filterWhitespace('all', ' a \n\n b ')).toBe(' a \n\n b ');
    expect(filterWhitespace('single', ' a \t \n\n b ')).toBe(' a\nb ');
    expect(filterWhitespace('oneline', ' a \t \n\n b ')).toBe(' a b ');
    expect(defaultWhitespace('a.html')).toBe('single');
    expect(defaultWhitespace('a.js')).toBe('single');
    expect(defaultWhitespace('a.txt')).toBe('all');
    expect(defaultWhitespace('<string>')).toBe('all');
  });
});
