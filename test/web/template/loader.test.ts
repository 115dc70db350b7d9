import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isVesperError } from '../../../src/shared/errors/index.js';
import { DictLoader, Loader, ParseError } from '../../../src/web/template/index.js';

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('did not throw');
}

describe('Loader', () => {
  let root: string;
  let outside: string;

  beforeAll(() => {
    outside = mkdtempSync(join(tmpdir(), 'vesper-tpl-'));
    root = join(outside, 'templates');
    mkdirSync(join(root, 'sub', 'deeper'), { recursive: true });
    writeFileSync(join(outside, 'secret.html'), 'SECRET');
    writeFileSync(join(root, 'utf8.html'), Buffer.from('H\u00e9llo\n', 'utf8'));
    writeFileSync(join(root, 'base.html'), '<h1>{% block title %}base{% end %}</h1>');
    writeFileSync(
      join(root, 'sub', 'page.html'),
      '{% extends "../base.html" %}{% block title %}{% include "part.html" %}{% end %}',
    );
    writeFileSync(join(root, 'sub', 'part.html'), 'part {{ who }}');
    writeFileSync(join(root, 'sub', 'rooted.html'), '{% include "/utf8.html" %}');
    writeFileSync(join(root, 'sub', 'deeper', 'up.html'), '{% include "../part.html" %}');
    writeFileSync(join(root, 'sub', 'escape.html'), '{% include "../../secret.html" %}');
    writeFileSync(join(root, 'changing.html'), 'one');
  });

  afterAll(() => {
    rmSync(outside, { recursive: true, force: true });
  });

  it('reads UTF-8 files', () => {
    const loader = new Loader(root);
    expect(loader.load('utf8.html').generate().trim()).toBe('H\u00e9llo');
  });

  it('resolves extends and include relative to the template that names them', () => {
    const loader = new Loader(root);
    expect(loader.load('sub/page.html').generate({ who: '<me>' })).toBe('<h1>part &lt;me&gt;</h1>');
    expect(loader.load('sub/deeper/up.html').generate({ who: 'x' })).toBe('part x');
  });

  it('treats a leading slash as the template root', () => {
    const loader = new Loader(root);
    expect(loader.load('sub/rooted.html').generate().trim()).toBe('H\u00e9llo');
    expect(loader.resolvePath('/utf8.html')).toBe('utf8.html');
    expect(loader.resolvePath('part.html', 'sub/page.html')).toBe('sub/part.html');
  });

  it('compiles a template once and serves it from the cache until reset', () => {
    const loader = new Loader(root);
    const first = loader.load('changing.html');
    writeFileSync(join(root, 'changing.html'), 'two');
    expect(loader.load('changing.html')).toBe(first);
    expect(loader.load('changing.html').generate()).toBe('one');
    loader.reset();
    expect(loader.load('changing.html')).not.toBe(first);
    expect(loader.load('changing.html').generate()).toBe('two');
  });

  it('refuses names that leave the root', () => {
    const loader = new Loader(root);
    for (const name of ['../secret.html', '/../secret.html', 'sub/../../secret.html']) {
      expect(
        isVesperError(
          errorOf(() => loader.load(name)),
          'VESPER_WEB_TEMPLATE_PATH',
        ),
      ).toBe(true);
    }
    expect(
      isVesperError(
        errorOf(() => loader.load('sub/escape.html')),
        'VESPER_WEB_TEMPLATE_PATH',
      ),
    ).toBe(true);
  });

  it('reports a missing template with a stable code', () => {
    const loader = new Loader(root);
    const err = errorOf(() => loader.load('nope.html'));
    expect(isVesperError(err, 'VESPER_WEB_TEMPLATE_NOT_FOUND')).toBe(true);
    expect((err as Error).message).toBe('template nope.html not found');
  });

  it('does not cache a template that failed to parse', () => {
    writeFileSync(join(root, 'broken.html'), '{% if x %}');
    const loader = new Loader(root);
    expect(() => loader.load('broken.html')).toThrow(ParseError);
    writeFileSync(join(root, 'broken.html'), '{% if x %}yes{% end %}');
    expect(loader.load('broken.html').generate({ x: true })).toBe('yes');
  });

  it('hands its options to its templates', () => {
    const loader = new Loader(root, {
      autoescape: null,
      whitespace: 'oneline',
      namespace: { who: 'namespace' },
    });
    expect(loader.load('sub/part.html').generate()).toBe('part namespace');
    expect(loader.load('sub/part.html').autoescape).toBe(null);
    expect(loader.autoescape).toBe(null);
    expect(loader.whitespace).toBe('oneline');
  });
});

describe('DictLoader', () => {
  it('reports a missing template with a stable code', () => {
    const loader = new DictLoader({ 'a.html': '{% include "b.html" %}' });
    expect(
      isVesperError(
        errorOf(() => loader.load('a.html')),
        'VESPER_WEB_TEMPLATE_NOT_FOUND',
      ),
    ).toBe(true);
    expect(
      isVesperError(
        errorOf(() => loader.load('toString')),
        'VESPER_WEB_TEMPLATE_NOT_FOUND',
      ),
    ).toBe(true);
  });

  it('resolves relative names with posix rules and keeps absolute ones', () => {
    const loader = new DictLoader({});
    expect(loader.resolvePath('../b/3.html', 'a/2.html')).toBe('b/3.html');
    expect(loader.resolvePath('x.html', '<string>')).toBe('x.html');
    expect(loader.resolvePath('/x.html', 'a/b.html')).toBe('/x.html');
    expect(loader.resolvePath('x.html')).toBe('x.html');
  });

  it('is not affected by later changes to the object it was given', () => {
    const dict: Record<string, string> = { 'a.html': 'a' };
    const loader = new DictLoader(dict);
    dict['a.html'] = 'changed';
    expect(loader.load('a.html').generate()).toBe('a');
  });

  it('recompiles after reset', () => {
    const loader = new DictLoader({ 'a.html': 'a' });
    const first = loader.load('a.html');
    expect(loader.load('a.html')).toBe(first);
    loader.reset();
    expect(loader.load('a.html')).not.toBe(first);
  });
});
