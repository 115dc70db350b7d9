/**
 * @module The `jose` library, loaded on first use: only an OpenID login needs
 * it, and importing it up front cost every process that imports the framework
 * (each session process among them) a few MiB of private memory.
 */

import type * as JoseModule from 'jose';

type Jose = typeof JoseModule;

let loading: Promise<Jose> | undefined;

/**
 * Resolves to the `jose` module, importing it on the first call; later calls
 * share that import.
 */
export function loadJose(): Promise<Jose> {
  loading ??= import('jose');
  return loading;
}
