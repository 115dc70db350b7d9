import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseAccountRecord } from '../../../src/accountd/store/account-record.js';
import { ROOT } from '../built.js';
import { makeStore, tempDirs } from '../helpers.js';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

/**
 * The store compiled on its own into a private directory: the child must not
 * import from `dist/`, which other test files may be rebuilding meanwhile.
 */
let storeModule = '';
const buildDir = mkdtempSync(join(tmpdir(), 'vesper-store-build-'));
beforeAll(() => {
  execFileSync(
    'npx',
    [
      'tsc',
      ...['--outDir', buildDir, '--rootDir', ROOT, '--module', 'nodenext'],
      ...['--moduleResolution', 'nodenext', '--target', 'es2023', '--types', 'node'],
      ...[
        '--ignoreConfig',
        '--skipLibCheck',
        '--strict',
        join(ROOT, 'src/accountd/store/account-store.ts'),
      ],
    ],
    { cwd: ROOT, stdio: 'pipe' },
  );
  writeFileSync(join(buildDir, 'package.json'), '{"type":"module"}\n');
  storeModule = pathToFileURL(join(buildDir, 'src/accountd/store/account-store.js')).href;
}, 120_000);
afterAll(() => rmSync(buildDir, { recursive: true, force: true }));

/** A writer that rewrites three records as fast as it can, with records of varying size. */
const writer = (): string => `
import { AccountStore } from ${JSON.stringify(storeModule)};
const [root] = process.argv.slice(2);
const store = new AccountStore({
  dir: root + '/accounts', mailDir: root + '/mail', quotaDefaults: { bytes: 0, messages: 0 },
  scrypt: { N: 1024, r: 8, p: 1, keylen: 32 },
});
await store.open();
let i = 0;
for (;;) {
  for (const name of ['alice', 'bob', 'carol']) {
    const body = 'v'.repeat(1000 + ((i * 7919) % 15000)) + ' ' + i;
    await store.setVacation(name, { enabled: true, subject: 'round ' + i, body, days: 1 + (i % 365) });
  }
  if (i === 0) process.stdout.write('ready\\n');
  i++;
}
`;

function runAndKill(script: string, root: string, afterMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, root], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.once('data', () => setTimeout(() => child.kill('SIGKILL'), afterMs));
    child.once('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`writer exited with ${code}: ${err}`));
    });
  });
}

describe('a writer killed with SIGKILL', () => {
  it('leaves every record parseable, old or new, never torn', async () => {
    const root = dirs.make();
    const store = await makeStore(root);
    for (const name of ['alice', 'bob', 'carol']) await store.create(name, 'secret-pw-1');
    const script = join(root, 'writer.mjs');
    writeFileSync(script, writer());
    for (const afterMs of [37, 101, 263]) {
      await runAndKill(script, root, afterMs);
      for (const name of ['alice', 'bob', 'carol']) {
        const text = readFileSync(join(root, 'accounts', `${name}.json`), 'utf8');
        const rec = parseAccountRecord(name, text);
        // Whole: the body's round number matches the subject's.
        const round = rec.vacation.subject.replace('round ', '');
        if (rec.vacation.enabled) expect(rec.vacation.body.endsWith(` ${round}`)).toBe(true);
      }
    }
    // The next writer takes over locks and removes the dead writer's temporary files.
    const reopened = await makeStore(root);
    await reopened.setFullName('alice', 'still writable');
    expect(readdirSync(join(root, 'accounts')).sort()).toEqual([
      'alice.json',
      'bob.json',
      'carol.json',
    ]);
  });
});
