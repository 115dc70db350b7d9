/**
 * @module What the account admin commands share: loading the configuration
 * from their arguments, reading a password without echo or from stdin, and
 * turning store errors into messages and exit codes.
 */
import type { ReadStream } from 'node:tty';
import type { AccountStore } from '../../accountd/store/account-store.js';
import { AccountStoreError } from '../../accountd/store/store-errors.js';
import { openAccountStore } from '../../accountd/store-from-config.js';
import { loadConfig, parseConfigArgs, type VesperConfig } from '../../shared/config/index.js';
import { isVesperError, VesperError } from '../../shared/errors/index.js';
import type { CliIo } from '../command.js';

/** Exit codes of the admin commands. */
export const EXIT = { ok: 0, refused: 1, usage: 2 } as const;

/** A usage error: exit 2 with the message and a pointer to `--help`. */
export class UsageError extends VesperError {
  constructor(message: string) {
    super('VESPER_CLI_USAGE', message);
  }
}

/** The configuration and remaining arguments of a command line. Throws `ConfigError` or {@link UsageError}. */
export function configFromArgs(args: string[]): { config: VesperConfig; rest: string[] } {
  const parsed = parseConfigArgs(args);
  const config = loadConfig({ file: parsed.file, options: parsed.options });
  return { config, rest: parsed.rest };
}

/** The store of `config`. */
export function storeOf(config: VesperConfig): Promise<AccountStore> {
  return openAccountStore(config);
}

/**
 * Splits `args` into flags (`--name VALUE`, `--name=VALUE`, or a bare switch
 * listed in `switches`) and positional arguments. Throws {@link UsageError}
 * for an unknown flag or a missing value.
 */
export function parseFlags(
  args: string[],
  valued: readonly string[],
  switches: readonly string[],
): { flags: Map<string, string>; positional: string[] } {
  const flags = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--') || arg === '--') {
      if (arg === '--') positional.push(...args.slice(i + 1));
      else positional.push(arg);
      if (arg === '--') break;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg : arg.slice(0, eq);
    if (switches.includes(name)) {
      if (eq >= 0) throw new UsageError(`${name} takes no value`);
      flags.set(name, '');
    } else if (valued.includes(name)) {
      const value = eq >= 0 ? arg.slice(eq + 1) : args[++i];
      if (value === undefined) throw new UsageError(`${name} needs a value`);
      flags.set(name, value);
    } else {
      throw new UsageError(`unknown option ${name}`);
    }
  }
  return { flags, positional };
}

/** The one positional NAME of a command. Throws {@link UsageError}. */
export function oneName(positional: string[]): string {
  if (positional.length !== 1) {
    throw new UsageError(positional.length === 0 ? 'NAME is missing' : 'give exactly one NAME');
  }
  return positional[0]!;
}

async function readAll(stream: NodeJS.ReadableStream, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buf.length;
    if (size > limit) throw new UsageError(`the password on stdin is longer than ${limit} bytes`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads one line from a terminal with echo off; rejects on Ctrl-C or Ctrl-D. */
function promptHidden(io: CliIo, tty: ReadStream, prompt: string): Promise<string> {
  io.stderr.write(prompt);
  tty.setRawMode(true);
  tty.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (err: Error | undefined): void => {
      tty.off('data', onData);
      tty.setRawMode(false);
      tty.pause();
      io.stderr.write('\n');
      if (err === undefined) resolve(value);
      else reject(err);
    };
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish(undefined);
        if (ch === '\u0003' || ch === '\u0004') return finish(new UsageError('cancelled'));
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else value += ch;
      }
    };
    tty.on('data', onData);
  });
}

/**
 * The new password for `user`: the first line of stdin with
 * `--password-stdin`, else asked twice on the terminal without echo. Never
 * from the command line. Throws {@link UsageError} when stdin is not a
 * terminal and `--password-stdin` was not given, or the two entries differ.
 */
export async function readNewPassword(
  io: CliIo,
  fromStdin: boolean,
  user: string,
): Promise<string> {
  if (fromStdin) {
    const text = await readAll(io.stdin, 64 * 1024);
    const line = text.split('\n')[0] ?? '';
    return line.endsWith('\r') ? line.slice(0, -1) : line;
  }
  const tty = io.stdin as ReadStream;
  if (tty.isTTY !== true) {
    throw new UsageError('stdin is not a terminal: give the password with --password-stdin');
  }
  const first = await promptHidden(io, tty, `New password for ${user}: `);
  const second = await promptHidden(io, tty, 'Again: ');
  if (first !== second) throw new UsageError('the two passwords differ');
  return first;
}

/**
 * Runs an admin command body and maps its errors to exit codes: store
 * refusals exit 1, usage and configuration errors exit 2; the message goes to
 * stderr prefixed with `vesper NAME:`.
 */
export async function runAdmin(
  name: string,
  io: CliIo,
  body: () => Promise<number>,
): Promise<number> {
  try {
    return await body();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof UsageError || isVesperError(err, 'VESPER_CONFIG_USAGE')) {
      io.stderr.write(`vesper ${name}: ${message}\nRun 'vesper ${name} --help' for usage.\n`);
      return EXIT.usage;
    }
    if (isVesperError(err, 'VESPER_CONFIG_INVALID')) {
      io.stderr.write(`vesper ${name}: the configuration is invalid:\n${message}\n`);
      return EXIT.usage;
    }
    if (err instanceof AccountStoreError) {
      io.stderr.write(`vesper ${name}: ${message}\n`);
      return EXIT.refused;
    }
    io.stderr.write(`vesper ${name}: ${message}\n`);
    return EXIT.refused;
  }
}
