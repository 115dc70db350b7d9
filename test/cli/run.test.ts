import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliIo, Command } from '../../src/cli/command.js';
import { runCli } from '../../src/cli/run.js';

function io(): CliIo & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  return { stdin: new PassThrough(), stdout, stderr, out: () => out, err: () => err };
}

const echo: Command = {
  name: 'echo',
  summary: 'prints its arguments',
  usage: 'Usage: vesper echo ARGS...',
  run: (args, { stdout }) => {
    stdout.write(args.join(' '));
    return Promise.resolve(0);
  },
};

describe('runCli', () => {
  it('lists the commands for --help and exits 0', async () => {
    const s = io();
    expect(await runCli(['--help'], s, [echo])).toBe(0);
    expect(s.out()).toContain('echo  prints its arguments');
  });

  it('exits 2 with help on stdout when no command is given', async () => {
    const s = io();
    expect(await runCli([], s, [echo])).toBe(2);
    expect(s.out()).toContain('Usage: vesper COMMAND');
  });

  it('refuses an unknown command with exit 2', async () => {
    const s = io();
    expect(await runCli(['frobnicate'], s, [echo])).toBe(2);
    expect(s.err()).toContain("unknown command 'frobnicate'");
  });

  it("prints a command's usage for COMMAND --help", async () => {
    const s = io();
    expect(await runCli(['echo', '--help'], s, [echo])).toBe(0);
    expect(s.out()).toBe('Usage: vesper echo ARGS...\n');
  });

  it('passes the remaining arguments to the command', async () => {
    const s = io();
    expect(await runCli(['echo', 'a', 'b'], s, [echo])).toBe(0);
    expect(s.out()).toBe('a b');
  });
});
