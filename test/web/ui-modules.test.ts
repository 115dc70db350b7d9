import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Application } from '../../src/web/application.js';
import { RequestHandler } from '../../src/web/request-handler.js';
import { DictLoader } from '../../src/web/template/index.js';
import { startTestServer, type TestServer } from '../../src/web/testing.js';
import { UIModule } from '../../src/web/ui-module.js';

class Entry extends UIModule {
  override render(title?: unknown): string {
    return `<li>${String(title)} for ${String(this.currentUser)}</li>`;
  }

  override embeddedJavascript(): string {
    return 'var entries = true;';
  }

  override javascriptFiles(): string[] {
    return ['https://cdn.example.com/a.js', '/local/b.js', 'https://cdn.example.com/a.js'];
  }

  override embeddedCss(): string {
    return 'li { color: red }';
  }

  override cssFiles(): string {
    return '/css/entry.css';
  }

  override htmlHead(): string {
    return '<meta name="entry">';
  }

  override htmlBody(): string {
    return '<div id="entry-footer"></div>';
  }
}

const templates: Record<string, string> = {
  'page.html':
    '<html><head><title>{{ title }}</title></head><body>{% for t of items %}{% module Entry(t) %}{% end %}</body></html>',
  'ns.html':
    '{{ currentUser }}|{{ shout("hi") }}|{{ handler.request.path }}|{{ request.method }}|{{ reverseUrl("named") }}|{% raw xhtmlEscape("<&>") %}|{{ typeof xsrfFormHtml }}',
  'outer.html':
    '<html><head></head><body>{% module Template("inner.html", {who: "you"}) %}{% module Template("inner.html", {who: "me"}) %}</body></html>',
  'inner.html':
    '{{ setResources({embeddedJavascript: "inner()", cssFiles: "/inner.css"}) }}<p>{{ who }}</p>',
  'escaped.html': '{{ value }}',
  'links.html': '{% module linkify("see http://example.com") %}|{% module xsrfFormHtml() %}',
};

class PageHandler extends RequestHandler {
  override getCurrentUser(): unknown {
    return 'ann';
  }

  override get(): Promise<void> {
    const name = this.getArgument('t');
    if (name === 'page.html') return this.render(name, { title: 'T', items: ['one', 'two'] });
    if (name === 'escaped.html') return this.render(name, { value: '<b>' });
    return this.render(name);
  }
}

class NamedHandler extends RequestHandler {}

describe('templates and UI modules', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer(
      new Application(
        [
          ['/page', PageHandler],
          ['/named', NamedHandler, {}, 'named'],
        ],
        {
          templateLoader: new DictLoader(templates),
          uiModules: { Entry },
          uiMethods: {
            shout: (handler: RequestHandler, text: unknown) =>
              `${String(text).toUpperCase()}@${handler.request.path}`,
          },
          staticPath: '/nonexistent-static-dir',
          cookieSecret: 'x',
        },
      ),
    );
  });

  afterAll(() => server.close());

  const page = async (t: string): Promise<string> =>
    (await server.fetch(`/page?t=${encodeURIComponent(t)}`)).text();

  it('calls a UI module once per use and inserts its resources into head and body', async () => {
    const html = await page('page.html');
    expect(
      html.startsWith(
        '<html><head><title>T</title>' +
          '<link href="/css/entry.css" type="text/css" rel="stylesheet"/>\n' +
          '<style type="text/css">\nli { color: red }\n</style>\n' +
          '<meta name="entry">\n' +
          '</head><body><li>one for ann</li><li>two for ann</li>' +
          '<script src="https://cdn.example.com/a.js" type="text/javascript"></script>',
      ),
    ).toBe(true);
  });

  it('links relative module files through staticUrl and absolute ones as they are, once each', async () => {
    const html = await page('page.html');
    const scripts = [...html.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]);
    expect(scripts).toEqual(['https://cdn.example.com/a.js', '/local/b.js']);
    expect(html).toContain(
      '<script type="text/javascript">\n//<![CDATA[\nvar entries = true;\n//]]>\n</script>\n',
    );
    expect(html.endsWith('<div id="entry-footer"></div>\n</body></html>')).toBe(true);
  });

  it('gives templates the handler namespace and UI methods bound to the handler', async () => {
    expect(await page('ns.html')).toBe('ann|HI@/page|/page|GET|/named|&lt;&amp;&gt;|function');
  });

  it('autoescapes template output by default', async () => {
    expect(await page('escaped.html')).toBe('&lt;b&gt;');
  });

  it('renders the built-in Template module with its declared resources', async () => {
    const html = await page('outer.html');
    expect(html).toBe(
      '<html><head><link href="/inner.css" type="text/css" rel="stylesheet"/>\n</head><body>' +
        '<p>you</p><p>me</p>' +
        '<script type="text/javascript">\n//<![CDATA[\ninner()\n//]]>\n</script>\n</body></html>',
    );
  });

  it('offers the linkify and xsrfFormHtml modules', async () => {
    const html = await page('links.html');
    expect(html).toMatch(
      /^see <a href="http:\/\/example\.com">http:\/\/example\.com<\/a>\|<input type="hidden" name="_xsrf" value="2\|[0-9a-f]+\|[0-9a-f]+\|\d+"\/>$/,
    );
  });
});

describe('template loaders from templatePath', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vesper-tpl-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  class FileHandler extends RequestHandler {
    override get(): Promise<void> {
      return this.render('t.html', { x: 1 });
    }
  }

  it('caches compiled templates unless compiledTemplateCache is false', async () => {
    writeFileSync(join(dir, 't.html'), 'v1 {{ x }}');
    const cached = await startTestServer(
      new Application([['/', FileHandler]], { templatePath: dir }),
    );
    const fresh = await startTestServer(
      new Application([['/', FileHandler]], { templatePath: dir, compiledTemplateCache: false }),
    );
    try {
      expect(await (await cached.fetch('/')).text()).toBe('v1 1');
      expect(await (await fresh.fetch('/')).text()).toBe('v1 1');
      writeFileSync(join(dir, 't.html'), 'v2 {{ x }}');
      expect(await (await cached.fetch('/')).text()).toBe('v1 1');
      expect(await (await fresh.fetch('/')).text()).toBe('v2 1');
    } finally {
      await cached.close();
      await fresh.close();
    }
  });
});
