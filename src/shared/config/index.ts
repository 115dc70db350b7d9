/**
 * @module The configuration layer's public entry: load, check, print and type Vesper's configuration.
 */
export { parseConfigArgs } from './args.js';
export type { ConfigArgs } from './args.js';
export { ConfigError, formatProblem } from './config-error.js';
export type { ConfigProblem } from './config-error.js';
export { formatDuration, MAX_TIMER_MS, parseDuration } from './duration.js';
export { formatConfig } from './format.js';
export { DEFAULT_CONFIG_FILE, defaultConfig, loadConfig, loadConfigText } from './load.js';
export type { LoadConfigOptions } from './load.js';
export { formatSize, parseSize } from './size.js';
export type * from './types.js';
