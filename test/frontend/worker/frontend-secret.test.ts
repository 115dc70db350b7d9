import { chmodSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  frontendSecretPath,
  loadFrontendSecret,
  rotateFrontendSecret,
} from '../../../src/frontend/worker/index.js';
import { isVesperError } from '../../../src/shared/errors/index.js';
import { removeDir, tempDir, testConfig } from './helpers.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) removeDir(d);
});

function config(): ReturnType<typeof testConfig> {
  const d = tempDir();
  dirs.push(d);
  return testConfig(d);
}

describe('the frontend secret', () => {
  it('is made once (0600, in a 0700 directory, no temporary file left) and read back the same by every caller', () => {
    const c = config();
    const first = loadFrontendSecret(c);
    expect(first.length).toBe(32);
    expect(loadFrontendSecret(c).equals(first)).toBe(true);
    expect(statSync(frontendSecretPath(c)).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(frontendSecretPath(c))).mode & 0o777).toBe(0o700);
    expect(readdirSync(dirname(frontendSecretPath(c)))).toEqual(['cookie-secret']);
  });

  it('changes when rotated', () => {
    const c = config();
    const first = loadFrontendSecret(c);
    rotateFrontendSecret(c);
    expect(loadFrontendSecret(c).equals(first)).toBe(false);
  });

  it('refuses a malformed secret file and a world-writable directory', () => {
    const c = config();
    mkdirSync(dirname(frontendSecretPath(c)), { recursive: true, mode: 0o700 });
    writeFileSync(frontendSecretPath(c), 'short', { mode: 0o600 });
    expect(() => loadFrontendSecret(c)).toThrow(
      expect.objectContaining({ code: 'VESPER_FRONTEND_SECRET' }),
    );
    const open = config();
    mkdirSync(join(open.paths.var, 'frontend'), { mode: 0o700 });
    chmodSync(join(open.paths.var, 'frontend'), 0o777);
    let error: unknown;
    try {
      loadFrontendSecret(open);
    } catch (err) {
      error = err;
    }
    expect(isVesperError(error, 'VESPER_FRONTEND_UNSAFE_DIRECTORY')).toBe(true);
  });
});
