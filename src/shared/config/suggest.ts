/**
 * @module Finds the known key an unknown one was probably meant to be.
 */

/** Edit distance counting an adjacent transposition (`idel` → `idle`) as one edit. */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => rows[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] ?? [];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1);
      row[j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * The candidate closest to `name`, when it is close enough to be a likely typo
 * (at most one edit per four characters, and at least one); undefined otherwise.
 * Candidates are compared by their last dotted segment, so a key written in the
 * wrong section (`frontend.idle_time`) finds `session.idle_time`.
 */
export function nearestKey(name: string, candidates: readonly string[]): string | undefined {
  const limit = Math.max(1, Math.floor(name.length / 4));
  let best: { key: string; distance: number } | undefined;
  for (const key of candidates) {
    const distance = editDistance(name, key.slice(key.lastIndexOf('.') + 1));
    if (distance <= limit && (best === undefined || distance < best.distance))
      best = { key, distance };
  }
  return best?.key;
}
