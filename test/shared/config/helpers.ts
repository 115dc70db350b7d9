/**
 * @module Test helpers: load a configuration from text and collect its problems as printed lines.
 */
import { ConfigError, loadConfigText } from '../../../src/shared/config/index.js';

/** The lines of the ConfigError loading `text` as `vesper.yaml` from `/srv/vesper` throws; [] when it loads. */
export function problemsOf(text: string, options: string[] = []): string[] {
  try {
    loadConfigText(text, { file: 'vesper.yaml', cwd: '/srv/vesper', options });
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.message.split('\n');
  }
}

/** Loads `text` as `vesper.yaml` from `/srv/vesper`. */
export function load(text: string, options: string[] = []): ReturnType<typeof loadConfigText> {
  return loadConfigText(text, { file: 'vesper.yaml', cwd: '/srv/vesper', options });
}
