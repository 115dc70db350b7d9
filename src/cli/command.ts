/**
 * @module The shape of one `vesper` sub-command, and the streams it talks to.
 */
import type { Readable, Writable } from 'node:stream';

/** The standard streams a command reads and writes; tests pass their own. */
export interface CliIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
}

/** One `vesper` sub-command. */
export interface Command {
  /** The word after `vesper`. */
  name: string;
  /** One line for `vesper --help`. */
  summary: string;
  /** The full usage text for `vesper NAME --help`. */
  usage: string;
  /**
   * Runs the command with the arguments after its name and resolves to the
   * process exit code (0 success, 1 failure, 2 usage or fatal error).
   */
  run(args: string[], io: CliIo): Promise<number>;
}
