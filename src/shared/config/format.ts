/**
 * @module Writes a loaded configuration back as YAML, in the units people write.
 */
import { stringify } from 'yaml';
import { CONFIG_SCHEMA } from './schema.js';
import type { VesperConfig } from './types.js';

/**
 * The configuration as a YAML document that {@link loadConfig} reads back to
 * the same values: durations (`30s`) and sizes (`16K`) in human form, paths
 * absolute, and the password of `redis.url` replaced by `***`.
 */
export function formatConfig(config: VesperConfig): string {
  return stringify(CONFIG_SCHEMA.format(config), { lineWidth: 0, nullStr: 'null' });
}
