/**
 * @module The pool policy: from the process table's load, the configuration and the clock to one decision.
 *
 * Pure and synchronous: the master calls it from its loop and carries out
 * the decision. A child is *spare* when it accepts connections and had no
 * request in flight at its last report (a child still starting counts as
 * spare: it will be). The policy keeps the number of accepting children at
 * least `min_servers`, keeps at least `min_spare` spare children, grows by
 * 1, 2, 4 … up to 32 children a second while short, retires one spare child
 * a second while there are more than `2 × min_spare` spares, and never lets
 * the children of the current generation exceed `max_servers`.
 */

/** The policy's view of one child of the current generation. */
export interface PoolChild {
  /** The child's id in the process table. */
  readonly id: number;
  /** Its slot number; ties in retirement go to the highest slot. */
  readonly slot: number;
  /** False once it retires or drains: it no longer takes new connections. */
  readonly accepting: boolean;
  /** Requests in flight at the last report; null before the first report. */
  readonly inflight: number | null;
  /** Open connections at the last report; null before the first report. */
  readonly connections: number | null;
}

/** The configuration keys the policy reads. */
export interface PoolLimits {
  readonly min_servers: number;
  readonly min_spare: number;
  readonly max_servers: number;
}

/** What the policy remembers between calls; start from {@link INITIAL_POOL_STATE}. */
export interface PoolState {
  /** How many children the next growth step may start (1, 2, 4 … 32). */
  readonly step: number;
  /** When the policy last grew the pool for want of spares (ms). */
  readonly lastGrowAt: number;
  /** When the policy last retired a spare child (ms). */
  readonly lastRetireAt: number;
}

/** The state of a pool that has never grown or shrunk. */
export const INITIAL_POOL_STATE: PoolState = Object.freeze({
  step: 1,
  lastGrowAt: Number.NEGATIVE_INFINITY,
  lastRetireAt: Number.NEGATIVE_INFINITY,
});

/** The largest growth step: children started in one second. */
export const MAX_GROWTH_STEP = 32;

/** How often the pool may grow or shrink for want or excess of spares (ms). */
export const POLICY_PERIOD_MS = 1000;

/** One decision of the policy. */
export type PoolDecision =
  | { readonly action: 'spawn'; readonly count: number; readonly reason: 'minimum' | 'spare' }
  | { readonly action: 'retire'; readonly id: number }
  | { readonly action: 'none' };

/** A decision and the state to pass to the next call. */
export interface PoolOutcome {
  readonly decision: PoolDecision;
  readonly state: PoolState;
}

/** True when `child` counts as spare capacity. */
export function isSpare(child: PoolChild): boolean {
  return child.accepting && (child.inflight === null || child.inflight === 0);
}

/** The most spare children kept before one is retired each second. */
export function maxSpare(limits: PoolLimits): number {
  return Math.max(limits.min_spare * 2, limits.min_spare + 1);
}

/**
 * Decides what the master does now. `children` are the live children of
 * the current generation (accepting or not: a retiring child still counts
 * against `max_servers` until it exits). Minimum replacement
 * (`min_servers`) happens at once; growth and retirement at most once per
 * {@link POLICY_PERIOD_MS}.
 */
export function decidePool(
  children: readonly PoolChild[],
  limits: PoolLimits,
  state: PoolState,
  now: number,
): PoolOutcome {
  const room = Math.max(0, limits.max_servers - children.length);
  const accepting = children.filter((c) => c.accepting).length;
  if (accepting < limits.min_servers && room > 0) {
    const count = Math.min(limits.min_servers - accepting, room);
    return { decision: { action: 'spawn', count, reason: 'minimum' }, state };
  }
  const spares = children.filter(isSpare);
  const short = limits.min_spare - spares.length;
  if (short > 0) {
    if (room === 0 || now - state.lastGrowAt < POLICY_PERIOD_MS) {
      return { decision: { action: 'none' }, state };
    }
    const count = Math.min(state.step, short, room);
    return {
      decision: { action: 'spawn', count, reason: 'spare' },
      state: {
        ...state,
        step: Math.min(state.step * 2, MAX_GROWTH_STEP),
        lastGrowAt: now,
      },
    };
  }
  // Not short of spares: the next shortage grows from 1 again.
  const calm: PoolState = state.step === 1 ? state : { ...state, step: 1 };
  if (
    spares.length > maxSpare(limits) &&
    accepting > limits.min_servers &&
    now - state.lastRetireAt >= POLICY_PERIOD_MS
  ) {
    const victim = pickRetiree(spares);
    return { decision: { action: 'retire', id: victim.id }, state: { ...calm, lastRetireAt: now } };
  }
  return { decision: { action: 'none' }, state: calm };
}

/** The spare child to retire: the fewest open connections, then the highest slot. */
function pickRetiree(spares: readonly PoolChild[]): PoolChild {
  let best = spares[0]!;
  for (const c of spares) {
    const bc = best.connections ?? 0;
    const cc = c.connections ?? 0;
    if (cc < bc || (cc === bc && c.slot > best.slot)) best = c;
  }
  return best;
}
