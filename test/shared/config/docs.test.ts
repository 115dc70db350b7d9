import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fieldAt, knownKeys } from '../../../src/shared/config/known-keys.js';
import { CONFIG_SCHEMA } from '../../../src/shared/config/schema.js';

const root = join(import.meta.dirname, '..', '..', '..');

/** Maps documented as one value, with their keys in the row's unit column. */
const WHOLE = ['accountd.tls', 'session.direct'];

function isLeaf(key: string): boolean {
  const found = fieldAt(CONFIG_SCHEMA, key);
  return 'field' in found && found.field.names.length === 0;
}

const rows = knownKeys(CONFIG_SCHEMA).filter(
  (key) =>
    WHOLE.includes(key) || (isLeaf(key) && !WHOLE.some((whole) => key.startsWith(`${whole}.`))),
);

describe('docs/configuration.md', () => {
  const doc = readFileSync(join(root, 'docs', 'configuration.md'), 'utf8');

  it.each(rows)('has a row for %s', (key) => {
    expect(doc).toContain(`| \`${key}\` |`);
  });
});
