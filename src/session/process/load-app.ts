/**
 * @module Finds the session application factory that `session.app` names.
 */
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { VesperError } from '../../shared/errors/index.js';
import type { SessionAppFactory } from '../app.js';

/**
 * Imports the factory named by `session.app`: `account` is the reference
 * application (`src/apps/account`); an absolute path names any module (tests,
 * third-party applications). The module's default export is used when it is a
 * function, else its only exported function.
 * @throws VesperError `VESPER_SESSION_APP_UNKNOWN` for another name, a module
 *   that cannot be loaded or one without a single factory function.
 */
export async function loadAppFactory(app: string): Promise<SessionAppFactory> {
  let specifier: string;
  if (app === 'account') specifier = '../../apps/account/index.js';
  else if (isAbsolute(app)) specifier = pathToFileURL(app).href;
  else {
    throw new VesperError(
      'VESPER_SESSION_APP_UNKNOWN',
      `session.app must be "account" or an absolute module path, not ${JSON.stringify(app)}.`,
    );
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch (err) {
    throw new VesperError(
      'VESPER_SESSION_APP_UNKNOWN',
      `Cannot load the session application ${app}.`,
      {
        cause: err,
      },
    );
  }
  if (typeof mod.default === 'function') return mod.default as SessionAppFactory;
  const fns = Object.values(mod).filter((v) => typeof v === 'function');
  if (fns.length === 1) return fns[0] as SessionAppFactory;
  throw new VesperError(
    'VESPER_SESSION_APP_UNKNOWN',
    `The session application ${app} must export its factory as the default export or as its only function.`,
  );
}
