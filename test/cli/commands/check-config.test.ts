import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../src/cli/command.js';
import { checkConfig, checkConfigCommand } from '../../../src/cli/commands/check-config.js';
import { COMMANDS } from '../../../src/cli/commands.js';

function io(): CliIo & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  return { stdin: new PassThrough(), stdout, stderr, out: () => out, err: () => err };
}

describe('vesper check-config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vesper-check-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is registered as a command', () => {
    expect(COMMANDS).toContain(checkConfigCommand);
  });

  it('prints the effective configuration and exits 0', () => {
    writeFileSync(join(dir, 'ok.yaml'), 'session:\n  timeout: 2h\n');
    const s = io();
    expect(
      checkConfig(['--config', 'ok.yaml', '--config-option', 'session.spares=3'], s, dir),
    ).toBe(0);
    expect(s.out()).toContain('\n  timeout: 2h\n');
    expect(s.out()).toContain('\n  spares: 3\n');
    expect(s.out()).toContain(`\n  socket_dir: ${join(dir, 'var', 'sockets')}\n`);
    expect(s.err()).toBe('');
  });

  it('prints every problem to stderr and exits 1', () => {
    writeFileSync(join(dir, 'bad.yaml'), 'session:\n  timeout: soon\n  key_bytes: 8\n');
    const s = io();
    expect(checkConfig(['--config=bad.yaml', '--config-option', 'nope=1'], s, dir)).toBe(1);
    expect(s.err()).toBe(
      [
        "bad.yaml:2: session.timeout: 'soon' is not a duration; write a whole number and one unit: 500ms, 30s, 10m, 4h, 7d, or 0",
        'bad.yaml:3: session.key_bytes: must be between 16 and 64, got 8',
        '--config-option:1: nope: unknown key',
        'vesper: the configuration has 3 problems',
        '',
      ].join('\n'),
    );
    expect(s.out()).toBe('');
  });

  it('exits 1 for a missing file', () => {
    const s = io();
    expect(checkConfig(['--config', 'missing.yaml'], s, dir)).toBe(1);
    expect(s.err()).toBe(
      'missing.yaml: cannot read the configuration file: no such file\nvesper: the configuration has 1 problem\n',
    );
  });

  it('exits 2 for a usage error', () => {
    const s = io();
    expect(checkConfig(['--config'], s, dir)).toBe(2);
    expect(s.err()).toMatch(
      /^vesper check-config: --config needs a value\n\nUsage: vesper check-config/,
    );
    const t = io();
    expect(checkConfig(['extra'], t, dir)).toBe(2);
    expect(t.err()).toMatch(/^vesper check-config: unexpected argument 'extra'\n/);
  });
});
