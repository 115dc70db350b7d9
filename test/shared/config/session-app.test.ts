/**
 * `session.app`: a built-in application's name or an absolute module path,
 * as src/session/process/load-app.ts accepts them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/shared/config/index.js';

describe('session.app', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vesper-config-app-'));
  writeFileSync(join(dir, 'vesper.yaml'), 'paths:\n  var: run\n');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const load = (value: string): string =>
    loadConfig({ file: join(dir, 'vesper.yaml'), options: [`session.app=${value}`], cwd: dir })
      .session.app;

  it('accepts the name of a built-in application', () => {
    expect(load('account')).toBe('account');
  });

  it('accepts an absolute path to a .js or .mjs module', () => {
    expect(load('/opt/apps/bench-session-app.js')).toBe('/opt/apps/bench-session-app.js');
    expect(load('/opt/apps/app.mjs')).toBe('/opt/apps/app.mjs');
  });

  it.each(['apps/app.js', '/opt/apps/app.ts', '/opt/apps/', 'Account'])(
    'refuses %s with the key named',
    (value) => {
      let error: unknown = null;
      try {
        load(value);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.map((p) => p.key)).toEqual(['session.app']);
    },
  );
});
