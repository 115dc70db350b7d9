/**
 * @module Checks across keys: values each valid alone that cannot work together.
 */
import { formatDuration } from './duration.js';
import type { ListenConfig, PortRangeConfig, VesperConfig } from './types.js';

/**
 * Receives one problem about several keys. `keys[0]` names the problem; the
 * report is placed at the first of `keys` written in the file or an option.
 */
export type CrossProblem = (keys: readonly string[], message: string) => void;

/** One TCP listener of any program, for the same-address check. */
interface Bound {
  key: string;
  host: string;
  port: number;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

function sameAddress(a: Bound, b: Bound): boolean {
  return a.port === b.port && (a.host === b.host || WILDCARDS.has(a.host) || WILDCARDS.has(b.host));
}

function range(r: PortRangeConfig): string {
  return `${String(r.first)}-${String(r.first + r.count - 1)}`;
}

/**
 * Reports every impossible combination in `config` through `report`:
 * session timers out of order, overlapping `session.direct` ranges or ports
 * bound twice, more spare or starting frontend children than `max_servers`,
 * Redis tokens without `redis.url`, half a TLS key pair, TLS redirect or
 * requirement without a TLS listener, and local-only accountd options with an
 * external accountd. Never throws.
 */
export function checkCombinations(config: VesperConfig, report: CrossProblem): void {
  const { frontend, session, tls, accountd, redis } = config;

  if (session.idle_time > 0 && session.idle_time >= session.timeout) {
    report(
      ['session.idle_time', 'session.timeout'],
      `must be shorter than session.timeout (${formatDuration(session.timeout)}), got ${formatDuration(session.idle_time)}; use 0 to never go dormant`,
    );
  }
  if (session.timeout_compose > 0 && session.timeout_compose < session.timeout) {
    report(
      ['session.timeout_compose', 'session.timeout'],
      `must be 0 (same as session.timeout) or at least session.timeout (${formatDuration(session.timeout)}), got ${formatDuration(session.timeout_compose)}`,
    );
  }
  if (session.spares > session.max_sessions) {
    report(
      ['session.spares', 'session.max_sessions'],
      `must not exceed session.max_sessions (${String(session.max_sessions)}), got ${String(session.spares)}`,
    );
  }
  if (session.token_store === 'redis' && redis.url === null) {
    report(['session.token_store', 'redis.url'], 'is redis, so redis.url must be set');
  }

  if (frontend.min_spare > frontend.max_servers) {
    report(
      ['frontend.min_spare', 'frontend.max_servers'],
      `must not exceed frontend.max_servers (${String(frontend.max_servers)}), got ${String(frontend.min_spare)}`,
    );
  }
  if (frontend.min_servers > frontend.max_servers) {
    report(
      ['frontend.min_servers', 'frontend.max_servers'],
      `must not exceed frontend.max_servers (${String(frontend.max_servers)}), got ${String(frontend.min_servers)}`,
    );
  }

  if ((tls.cert === null) !== (tls.key === null)) {
    const [set, unset] = tls.cert === null ? ['tls.key', 'tls.cert'] : ['tls.cert', 'tls.key'];
    report([set, unset], `is set but ${unset} is not; set both, or neither for a self-signed pair`);
  }
  const hasTls = frontend.listen.some((l: ListenConfig) => l.tls);
  for (const key of ['redirect', 'required'] as const) {
    if (tls[key] && !hasTls) {
      report(
        [`tls.${key}`, 'frontend.listen'],
        'is true but no listener in frontend.listen has tls: true',
      );
    }
  }

  if (accountd.server !== null) {
    if (accountd.tls !== null) {
      report(
        ['accountd.tls', 'accountd.server'],
        'configures a local account server, but accountd.server says it runs elsewhere',
      );
    }
    if (accountd.demo_users) {
      report(
        ['accountd.demo_users', 'accountd.server'],
        'needs the local account server, but accountd.server says it runs elsewhere',
      );
    }
  }

  checkDirect(config, report);
  checkAddresses(config, report);
}

/** `session.direct`: at least one range, within 1..65535, not overlapping each other. */
function checkDirect({ session }: VesperConfig, report: CrossProblem): void {
  const direct = session.direct;
  if (direct === null) return;
  if (direct.plain === null && direct.tls === null) {
    report(['session.direct'], 'needs a plain or a tls range (or set session.direct to null)');
  }
  for (const kind of ['plain', 'tls'] as const) {
    const r = direct[kind];
    if (r !== null && r.first + r.count - 1 > 65535) {
      report(
        [`session.direct.${kind}.count`, `session.direct.${kind}`],
        `ports ${range(r)} go past 65535`,
      );
    }
  }
  const { plain, tls } = direct;
  if (
    plain !== null &&
    tls !== null &&
    plain.first < tls.first + tls.count &&
    tls.first < plain.first + plain.count
  ) {
    report(
      ['session.direct.tls', 'session.direct.plain'],
      `ports ${range(tls)} overlap session.direct.plain (${range(plain)})`,
    );
  }
}

/** No two listeners (frontend, accountd TLS, direct session ports) on the same address and port. */
function checkAddresses({ frontend, accountd, session }: VesperConfig, report: CrossProblem): void {
  const bound: Bound[] = frontend.listen.map((l, i) => ({
    key: `frontend.listen.${String(i)}`,
    host: l.host,
    port: l.port,
  }));
  if (accountd.tls !== null && accountd.server === null) {
    bound.push({ key: 'accountd.tls', host: accountd.tls.host, port: accountd.tls.port });
  }
  bound.forEach((b, i) => {
    const earlier = bound.slice(0, i).find((a) => sameAddress(a, b));
    if (earlier !== undefined) {
      report(
        [b.key, earlier.key],
        `${b.host}:${String(b.port)} is already used by ${earlier.key} (${earlier.host}:${String(earlier.port)})`,
      );
    }
  });
  // The address direct session ports bind is not configurable, so a listener
  // on a port inside a range is a clash whatever its host.
  for (const kind of ['plain', 'tls'] as const) {
    const r = session.direct?.[kind] ?? null;
    if (r === null) continue;
    const clash = bound.find((b) => b.port >= r.first && b.port < r.first + r.count);
    if (clash !== undefined) {
      report(
        [`session.direct.${kind}`, clash.key],
        `ports ${range(r)} include port ${String(clash.port)} of ${clash.key}`,
      );
    }
  }
}
