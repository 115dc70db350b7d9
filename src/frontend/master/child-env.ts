/**
 * @module The minimal, explicit environment every child of the master gets.
 */

/** The only variables passed on to children (no `NODE_EXTRA_CA_CERTS`, no secrets, no `NODE_OPTIONS`). */
export const CHILD_ENV_KEYS: readonly string[] = Object.freeze(['PATH', 'NODE_ENV', 'TZ', 'LANG']);

/**
 * The environment of a spawned child: the {@link CHILD_ENV_KEYS} that are set
 * in `source`, then `extra`.
 */
export function minimalEnv(
  source: NodeJS.ProcessEnv,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of CHILD_ENV_KEYS) {
    const value = source[key];
    if (value !== undefined) env[key] = value;
  }
  return { ...env, ...extra };
}

/**
 * The `env` argument of `cluster.fork()`, which merges it over the master's
 * own environment: every variable of `source` outside the minimal set is
 * given as `undefined`, which `child_process` leaves out, so the worker sees
 * exactly {@link minimalEnv}.
 */
export function clusterEnv(
  source: NodeJS.ProcessEnv,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string | undefined> {
  const masked: Record<string, string | undefined> = {};
  for (const key of Object.keys(source)) masked[key] = undefined;
  return { ...masked, ...minimalEnv(source, extra) };
}
