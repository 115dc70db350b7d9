/**
 * @module Runs a full garbage collection when the process was started with `--expose-gc`.
 */

/**
 * Runs two full (major) garbage collections through the `gc()` that
 * `--expose-gc` installs, so that V8 gives the memory of the start-up and of
 * finished requests back before the session sits idle. Does nothing when the
 * flag is absent (tests, another runner). Never throws. Call it only while no
 * request runs: it stops the one thread for a few milliseconds.
 */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') return;
  try {
    // The first collection frees the objects; pages it emptied are given back to
    // the system by the next one.
    gc();
    gc();
  } catch {
    // Only an optimisation.
  }
}
