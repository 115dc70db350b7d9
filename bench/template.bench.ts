/**
 * @module Template rendering throughput: a page that extends a base layout and
 * renders a 100-row table with escaped values, compiled once, rendered for
 * about three seconds.
 */
import { DictLoader } from '../src/web/index.js';
import type { Benchmark } from './run.js';

const TEMPLATES: Record<string, string> = {
  'base.html': `<!DOCTYPE html>
<html>
  <head>
    <meta charset="utf-8">
    <title>{% block title %}Vesper{% end %}</title>
    <link rel="stylesheet" href="{{ staticUrl('site.css') }}">
  </head>
  <body>
    <nav>
      {% for item of nav %}
        <a href="{{ item.href }}"{% if item.active %} class="active"{% end %}>{{ item.label }}</a>
      {% end %}
    </nav>
    <main>{% block body %}{% end %}</main>
    <footer>{% block footer %}Signed in as {{ user.name }}{% end %}</footer>
  </body>
</html>
`,
  'page.html': `{% extends "base.html" %}
{% block title %}{{ folder }} ({{ rows.length }}) - Vesper{% end %}
{% block body %}
  <h1>{{ folder }}</h1>
  <table>
    <tr><th>From</th><th>Subject</th><th>Date</th><th>Size</th></tr>
    {% for row of rows %}
      <tr class="{{ row.unread ? 'unread' : 'read' }}">
        <td>{{ row.from }}</td>
        <td><a href="/msg?folder={{ urlEscape(folder) }}&amp;id={{ row.id }}">{{ row.subject }}</a></td>
        <td>{{ row.date }}</td>
        <td>{% if row.size > 1024 %}{{ Math.round(row.size / 1024) }}K{% else %}{{ row.size }}{% end %}</td>
      </tr>
    {% end %}
  </table>
{% end %}
`,
};

const rows = Array.from({ length: 100 }, (_, i) => ({
  id: i,
  unread: i % 3 === 0,
  from: `Person ${i} <person${i}@example.org>`,
  subject: `Re: "quarterly" report & figures #${i} <draft>`,
  date: `2026-12-${String((i % 28) + 1).padStart(2, '0')} 10:${String(i % 60).padStart(2, '0')}`,
  size: (i * 7919) % 50000,
}));

const namespace = {
  folder: 'INBOX/Work & Play',
  rows,
  user: { name: 'Ada <ada@example.org>' },
  nav: [
    { href: '/inbox', label: 'Inbox', active: true },
    { href: '/compose', label: 'Compose', active: false },
    { href: '/logout', label: 'Sign out', active: false },
  ],
  staticUrl: (path: string) => `/static/${path}?v=abc123`,
};

const bench: Benchmark = async (report) => {
  const compileStart = process.hrtime.bigint();
  const loader = new DictLoader(TEMPLATES);
  const template = loader.load('page.html');
  const compileMs = Number(process.hrtime.bigint() - compileStart) / 1e6;
  const size = Buffer.byteLength(template.generate(namespace));

  // Warm up, then render for about three seconds, checking the clock every 100 renders.
  for (let i = 0; i < 200; i++) template.generate(namespace);
  const budgetNs = 3_000_000_000n;
  const start = process.hrtime.bigint();
  let renders = 0;
  let elapsed = 0n;
  while (elapsed < budgetNs) {
    for (let i = 0; i < 100; i++) template.generate(namespace);
    renders += 100;
    elapsed = process.hrtime.bigint() - start;
  }
  const seconds = Number(elapsed) / 1e9;
  report(`compile (extends + 100-row loop): ${compileMs.toFixed(1)} ms`);
  report(`page size: ${size} bytes`);
  report(
    `renders: ${Math.round(renders / seconds)} per second (${renders} in ${seconds.toFixed(2)} s, ` +
      `${((seconds / renders) * 1e6).toFixed(1)} µs each)`,
  );
  await Promise.resolve();
};

export default bench;
