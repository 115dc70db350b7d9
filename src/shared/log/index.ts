/**
 * @module Structured logging for every Vesper program: pino, to stdout or to a
 * file under `paths.var`, with credentials, session keys, cookies and tokens
 * redacted before a line is written.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino, type Logger, type LoggerOptions, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths that never reach a log. pino's redaction replaces their values with
 * `[redacted]`; the list covers the field names every Vesper program uses for
 * secrets, at the top level and one object down.
 */
export const REDACT_PATHS: readonly string[] = [
  'password',
  'newPassword',
  'oldPassword',
  'credential',
  'secret',
  'key',
  'sessionKey',
  'token',
  'wsToken',
  'accessToken',
  'refreshToken',
  'idToken',
  'cookie',
  'authorization',
  'headers.cookie',
  'headers.authorization',
  'headers["set-cookie"]',
  'headers["sec-websocket-protocol"]',
  '*.password',
  '*.newPassword',
  '*.oldPassword',
  '*.credential',
  '*.secret',
  '*.sessionKey',
  '*.token',
  '*.wsToken',
  '*.accessToken',
  '*.refreshToken',
  '*.idToken',
  '*.cookie',
  '*.authorization',
  'req.headers.cookie',
  'req.headers.authorization',
];

/** Where and how a program logs. */
export interface LogOptions {
  /** Program name, bound to every line as `name`. */
  name: string;
  /** pino level; `silent` disables logging. Default `info`. */
  level?: string;
  /** A file to append to instead of stdout; its directory is created 0700. */
  file?: string;
  /** A stream to write to instead (tests). */
  stream?: DestinationStream;
}

/**
 * Creates the logger of one program. Lines are JSON, one per event, with
 * `time`, `level`, `name`, `pid` and a `msg` an operator can read.
 */
export function createLogger(options: LogOptions): Logger {
  const pinoOptions: LoggerOptions = {
    name: options.name,
    level: options.level ?? 'info',
    redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
  };
  if (options.stream !== undefined) return pino(pinoOptions, options.stream);
  if (options.file !== undefined) {
    mkdirSync(dirname(options.file), { recursive: true, mode: 0o700 });
    return pino(pinoOptions, pino.destination({ dest: options.file, mkdir: false, sync: false }));
  }
  return pino(pinoOptions, pino.destination({ fd: 1, sync: false }));
}

/** A logger that writes nothing, for libraries used without one. */
export const silentLogger: Logger = pino({ level: 'silent' });
