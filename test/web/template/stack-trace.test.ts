import { describe, expect, it } from 'vitest';
import { isVesperError } from '../../../src/shared/errors/index.js';
import { HttpErrorLike } from './http-error-like.js';
import {
  DictLoader,
  TemplateRuntimeError,
  type Template,
} from '../../../src/web/template/index.js';

const boom = () => {
  throw new Error('boom');
};

function renderError(
  template: Template,
  namespace: Record<string, unknown> = {},
): TemplateRuntimeError {
  try {
    template.generate({ boom, ...namespace });
  } catch (err) {
    if (err instanceof TemplateRuntimeError) return err;
    throw err;
  }
  throw new Error('did not get the expected exception');
}

// Ported from Tornado's StackTraceTest: errors name the template file and line.
describe('errors thrown while rendering', () => {
  it('name the line of an expression', () => {
    const loader = new DictLoader({ 'test.html': 'one\ntwo{{ boom() }}\nthree\n' });
    const err = renderError(loader.load('test.html'));
    expect(err.message).toBe('test.html:2: boom');
    expect(err.code).toBe('VESPER_WEB_TEMPLATE_RUNTIME');
    expect(err.filename).toBe('test.html');
    expect(err.lineno).toBe(2);
    expect((err.cause as Error).message).toBe('boom');
  });

  it('name the line of a directive', () => {
    const loader = new DictLoader({ 'test.html': 'one\ntwo{% if boom() %}\nthree{% end %}\n' });
    expect(renderError(loader.load('test.html')).message).toBe('test.html:2: boom');
  });

  it('name the line of an elif, a while condition and a for iterable', () => {
    const loader = new DictLoader({
      'elif.html': '{% if false %}\n{% elif boom() %}{% end %}',
      'while.html': '\n\n{% while boom() %}{% end %}',
      'for.html': '\n{% for x of boom() %}{% end %}',
    });
    expect(renderError(loader.load('elif.html')).message).toBe('elif.html:2: boom');
    expect(renderError(loader.load('while.html')).message).toBe('while.html:3: boom');
    expect(renderError(loader.load('for.html')).message).toBe('for.html:2: boom');
  });

  it('name both templates when a module renders another template that fails', () => {
    // eslint-disable-next-line prefer-const
    let loader: DictLoader;
    const loadGenerate = (path: string) => loader.load(path).generate({ boom });
    loader = new DictLoader(
      { 'base.html': "{% module Template('sub.html') %}", 'sub.html': '{{ boom() }}' },
      { namespace: { _tt_modules: { Template: loadGenerate } } },
    );
    const err = renderError(loader.load('base.html'));
    expect(err.message).toBe('base.html:1: sub.html:1: boom');
  });

  it('name the included template and where it was included', () => {
    const loader = new DictLoader({
      'base.html': "{% include 'sub.html' %}",
      'sub.html': '{{ boom() }}',
    });
    const err = renderError(loader.load('base.html'));
    expect(err.message).toBe('sub.html:1 (via base.html:1): boom');
    expect(err.location).toBe('sub.html:1 (via base.html:1)');
    expect(err.filename).toBe('sub.html');
  });

  it('name the base template for an error in the base', () => {
    const loader = new DictLoader({
      'base.html': '{{ boom() }}',
      'sub.html': "{% extends 'base.html' %}",
    });
    expect(renderError(loader.load('sub.html')).message).toBe('base.html:1: boom');
  });

  it('name the child template and the base block for an error in a child block', () => {
    const loader = new DictLoader({
      'base.html': "{% block 'block' %}{% end %}",
      'sub.html': "\n{% extends 'base.html' %}\n{% block 'block' %}\n{{ boom() }}\n{% end %}\n",
    });
    expect(renderError(loader.load('sub.html')).message).toBe('sub.html:4 (via base.html:1): boom');
  });

  it('name every level of nested includes, innermost first', () => {
    const loader = new DictLoader({
      'a.html': "{% include 'b.html' %}",
      'b.html': "{% include 'c.html' %}",
      'c.html': '{{ boom() }}',
    });
    expect(renderError(loader.load('a.html')).message).toBe(
      'c.html:1 (via b.html:1, a.html:1): boom',
    );
  });

  it('name the line after a catch clause handled an earlier error', () => {
    const loader = new DictLoader({
      't.html': '{% try %}{{ boom() }}{% catch %}{% end %}\n\n{{ null.x }}',
    });
    expect(renderError(loader.load('t.html')).message).toMatch(/^t\.html:3: /);
  });

  it('name the apply tag when the apply function throws', () => {
    const loader = new DictLoader({ 't.html': '\n{% apply boom %}\nbody{{ 1 }}\n{% end %}' });
    expect(renderError(loader.load('t.html')).message).toBe('t.html:2: boom');
  });

  it('wrap thrown non-errors too', () => {
    const loader = new DictLoader({ 't.html': '{{ (() => { throw "plain"; })() }}' });
    expect(renderError(loader.load('t.html')).message).toBe('t.html:1: plain');
  });

  it('keep the HTTP status of an error a helper raised', () => {
    const loader = new DictLoader({ 't.html': '{{ deny() }}' });
    const deny = () => {
      throw new HttpErrorLike(403);
    };
    const err = renderError(loader.load('t.html'), { deny });
    expect(err.httpStatus).toBe(403);
    expect(isVesperError(err.cause, 'TEST_HTTP')).toBe(true);
  });
});
