/**
 * @module `npm run bench`: runs every compiled `bench/*.bench.js` in turn (or
 * those whose name contains one of the arguments) and prints their figures.
 * Benchmarks talk to loopback only and bound themselves in time.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** What a benchmark module default-exports. */
export type Benchmark = (report: (line: string) => void) => Promise<void>;

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

for (const file of files) {
  const name = file.replace(/\.bench\.js$/, '');
  process.stdout.write(`\n## ${name}\n`);
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { default: Benchmark };
  await mod.default((line) => process.stdout.write(`${line}\n`));
}
