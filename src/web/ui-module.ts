/**
 * @module UI modules: reusable page components a template calls with
 * `{% module Name(...) %}`, which may also contribute JavaScript, CSS and
 * `<head>`/`<body>` fragments to the page (Tornado's `UIModule`), and the
 * built-in `Template` module.
 */
import { VesperError } from '../shared/errors/index.js';
import { linkify } from './escape.js';
import type { HTTPServerRequest } from './http-server-request.js';
import type { RequestHandler } from './request-handler.js';

/** What a UI module's extra-resource hooks may return for files. */
export type ResourceFiles = string | string[] | null | undefined;

/**
 * Base class of a UI module. One instance is made per handler and module name,
 * on first use; `render` is called for every `{% module %}` call, and after the
 * page is rendered the resource hooks are collected from every module used.
 */
export class UIModule {
  /** The handler rendering the page. */
  readonly handler: RequestHandler;
  /** The request. */
  readonly request: HTTPServerRequest;

  constructor(handler: RequestHandler) {
    this.handler = handler;
    this.request = handler.request;
  }

  /** The handler's current user. */
  get currentUser(): unknown {
    return this.handler.currentUser;
  }

  /**
   * Returns the HTML of one call.
   * @throws VesperError `VESPER_WEB_NOT_IMPLEMENTED` unless overridden.
   */
  render(..._args: unknown[]): string {
    throw new VesperError(
      'VESPER_WEB_NOT_IMPLEMENTED',
      `${this.constructor.name}.render() is not implemented.`,
    );
  }

  /** JavaScript put inline at the end of `<body>`. */
  embeddedJavascript(): string | null | undefined {
    return null;
  }

  /** Script URLs (relative ones go through `staticUrl`) linked before `</body>`. */
  javascriptFiles(): ResourceFiles {
    return null;
  }

  /** CSS put inline before `</head>`. */
  embeddedCss(): string | null | undefined {
    return null;
  }

  /** Stylesheet URLs (relative ones go through `staticUrl`) linked before `</head>`. */
  cssFiles(): ResourceFiles {
    return null;
  }

  /** HTML put at the end of `<head>`. */
  htmlHead(): string | null | undefined {
    return null;
  }

  /** HTML put at the end of `<body>`. */
  htmlBody(): string | null | undefined {
    return null;
  }

  /** Renders a template with the handler's namespace. */
  renderString(path: string, kwargs: Record<string, unknown> = {}): string {
    return this.handler.renderString(path, kwargs);
  }
}

/** A UI module class. */
export type UIModuleClass = new (handler: RequestHandler) => UIModule;

/** What a template rendered by the `Template` module may declare with `setResources`. */
export interface TemplateResources {
  embeddedJavascript?: string;
  javascriptFiles?: string | string[];
  embeddedCss?: string;
  cssFiles?: string | string[];
  htmlHead?: string;
  htmlBody?: string;
}

/**
 * The built-in `Template` module: `{% module Template("item.html", {x: 1}) %}`
 * renders another template with the handler's namespace plus the given
 * kwargs and a `setResources({...})` function through which the template
 * declares the JS/CSS it needs (Tornado's `TemplateModule`).
 */
export class TemplateModule extends UIModule {
  readonly #resourceList: TemplateResources[] = [];
  readonly #resourceByPath = new Map<string, string>();

  override render(path?: unknown, kwargs?: unknown): string {
    if (typeof path !== 'string') {
      throw new VesperError('VESPER_WEB_BAD_MODULE_CALL', 'Template() needs a template name.');
    }
    const setResources = (resources: TemplateResources): string => {
      const key = JSON.stringify(resources);
      const seen = this.#resourceByPath.get(path);
      if (seen === undefined) {
        this.#resourceList.push(resources);
        this.#resourceByPath.set(path, key);
      } else if (seen !== key) {
        throw new VesperError(
          'VESPER_WEB_BAD_MODULE_CALL',
          'setResources called with different resources for the same template.',
        );
      }
      return '';
    };
    return this.renderString(path, {
      ...((kwargs ?? {}) as Record<string, unknown>),
      setResources,
    });
  }

  #strings(key: 'embeddedJavascript' | 'embeddedCss' | 'htmlHead' | 'htmlBody'): string[] {
    const out: string[] = [];
    for (const r of this.#resourceList) {
      const v = r[key];
      if (v !== undefined) out.push(v);
    }
    return out;
  }

  #files(key: 'javascriptFiles' | 'cssFiles'): string[] {
    const out: string[] = [];
    for (const r of this.#resourceList) {
      const v = r[key];
      if (typeof v === 'string') out.push(v);
      else if (v !== undefined) out.push(...v);
    }
    return out;
  }

  override embeddedJavascript(): string {
    return this.#strings('embeddedJavascript').join('\n');
  }

  override javascriptFiles(): string[] {
    return this.#files('javascriptFiles');
  }

  override embeddedCss(): string {
    return this.#strings('embeddedCss').join('\n');
  }

  override cssFiles(): string[] {
    return this.#files('cssFiles');
  }

  override htmlHead(): string {
    return this.#strings('htmlHead').join('');
  }

  override htmlBody(): string {
    return this.#strings('htmlBody').join('');
  }
}

/** The built-in `linkify` module: `{% module linkify(text) %}`. */
export class LinkifyModule extends UIModule {
  override render(text?: unknown, options?: unknown): string {
    return linkify(typeof text === 'string' ? text : '', options ?? {});
  }
}

/** The built-in `xsrfFormHtml` module: `{% module xsrfFormHtml() %}`. */
export class XsrfFormHtmlModule extends UIModule {
  override render(): string {
    return this.handler.xsrfFormHtml();
  }
}
