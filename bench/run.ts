/**
 * @module `npm run bench`: runs every compiled `bench/*.bench.js` in turn (or
 * those an argument names: exactly when a benchmark has that name, so that
 * `session` is not also `many-sessions`, else every one whose name contains
 * it) and prints their figures.
 * Benchmarks talk to loopback only and bound themselves in time. Ctrl-C (or
 * SIGTERM) kills the gateways a benchmark started before exiting: they and
 * their session processes run detached and would otherwise outlive it.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { killAllGateways } from './lib/vesper-gateway.js';

/** What a benchmark module default-exports. */
export type Benchmark = (report: (line: string) => void) => Promise<void>;

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const all = readdirSync(here)
  .filter((f) => f.endsWith('.bench.js'))
  .map((f) => f.replace(/\.bench\.js$/, ''))
  .sort();
const chosen = new Set(
  filters.length === 0
    ? all
    : filters.flatMap((x) => (all.includes(x) ? [x] : all.filter((name) => name.includes(x)))),
);
const files = all.filter((name) => chosen.has(name)).map((name) => `${name}.bench.js`);

for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.once(signal, () => {
    process.stdout.write(`\n${signal}: stopping the gateways this run started\n`);
    killAllGateways();
    process.exit(code);
  });
}

for (const file of files) {
  const name = file.replace(/\.bench\.js$/, '');
  process.stdout.write(`\n## ${name}\n`);
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { default: Benchmark };
  await mod.default((line) => process.stdout.write(`${line}\n`));
}
