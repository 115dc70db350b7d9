/**
 * @module The error that lists every problem found in a configuration.
 */
import { VesperError } from '../errors/index.js';

/** One thing wrong with a configuration, located as precisely as it can be. */
export interface ConfigProblem {
  /** The file path as given, or `--config-option` for a command-line override. */
  file: string;
  /** The 1-based line in `file` (the option's position for an override); undefined when not known. */
  line: number | undefined;
  /** The dotted key path (`session.idle_time`, `frontend.listen.1.port`); empty for file-level problems. */
  key: string;
  /** What is wrong, as a sentence fragment an operator understands. */
  message: string;
}

/** Formats one problem as `file:line: key: message`, leaving out the parts that are unknown. */
export function formatProblem(problem: ConfigProblem): string {
  const where =
    problem.line === undefined ? problem.file : `${problem.file}:${String(problem.line)}`;
  return problem.key === ''
    ? `${where}: ${problem.message}`
    : `${where}: ${problem.key}: ${problem.message}`;
}

/**
 * Thrown when a configuration cannot be loaded: the file is missing or
 * unreadable, is not valid YAML, or has one or more invalid keys or values.
 * `problems` holds every problem found, not only the first; the message lists
 * them one per line in the order of {@link formatProblem}.
 */
export class ConfigError extends VesperError {
  /** Every problem found, in file order, then override order, then cross-key checks. */
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super('VESPER_CONFIG_INVALID', problems.map(formatProblem).join('\n'));
    this.problems = Object.freeze(problems.map((p) => Object.freeze({ ...p })));
  }
}
