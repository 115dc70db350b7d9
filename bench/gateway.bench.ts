/**
 * @module The gateway's session-URL proxy against nginx (DESIGN.md §7). The
 * built `vesper start` runs with the benchmark's session application; one
 * login (the demo user alice, through `POST /login`) starts a real session
 * process whose `page` is a fixed 2 KiB HTML page. That session is then
 * loaded over keep-alive connections three ways in one run: on its Unix
 * socket directly (no proxy), through nginx from the distribution (the
 * reference, proxying to the same socket) and through the gateway, each proxy
 * with two workers. Prints requests per second and p50/p99 latency for each,
 * and the gateway's figures as ratios to nginx's, against the targets
 * (throughput at least 0.6 x nginx, p99 no worse than 1.5 x nginx's). The load
 * generator runs in a child process of its own. Every target is warmed up
 * first; then the targets take turns in three rounds, so that a change in the
 * machine's background load during the run falls on all three alike.
 */
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sessionSocketPath } from '../src/session/session-identity.js';
import type { LoadOptions, LoadResult, LoadTarget } from './lib/keep-alive-load.js';
import { describeFailures } from './lib/keep-alive-load.js';
import { runLoadInChild } from './lib/load-in-child.js';
import { findNginx, nginxVersion, NginxProxy } from './lib/nginx.js';
import { PAGE_BYTES } from './lib/page-backend.js';
import { login, VesperGateway } from './lib/vesper-gateway.js';
import type { Benchmark } from './run.js';

/** Frontend workers for both proxies. */
const WORKERS = 2;
const CONNECTIONS = 32;
/** Rounds; in each, every target gets a warm-up and a measured stretch in turn. */
const ROUNDS = 3;
const WARMUP_MS = 500;
/**
 * Before the first round each target is loaded this long, unmeasured: the
 * servers under test are long-running, and a Node worker's hot path needs
 * some tens of thousands of requests before the JIT has optimised it.
 */
const FIRST_WARMUP_MS = 4000;
const ROUND_MS = 3500;
/** Requests per client connection, the same for both proxies. */
const REQUESTS_PER_CONNECTION = 1000;
/** DESIGN.md §7 targets. */
const MIN_RPS_RATIO = 0.6;
const MAX_P99_RATIO = 1.5;
const USER = 'alice';
const PASSWORD = 'vesper-demo-1';
/** The compiled bench session application, next to this file's compiled form. */
const APP = join(fileURLToPath(new URL('.', import.meta.url)), 'lib', 'bench-session-app.js');

/** One target's rounds, summed: requests per second over all rounds, the median round's latencies. */
interface Summary {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  failed: number;
  badStatus: number;
  connectErrors: number;
  /** Responses per status code (expected and not), over all rounds. */
  statuses: Record<string, number>;
  /** Failures per cause, over all rounds. */
  errors: Record<string, number>;
}

function add(into: Record<string, number>, from: Record<string, number>): Record<string, number> {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
  return into;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function summarise(rounds: LoadResult[]): Summary {
  const ok = rounds.reduce((n, r) => n + r.ok, 0);
  const ms = rounds.reduce((n, r) => n + r.durationMs, 0);
  return {
    rps: ms > 0 ? Math.round((ok * 1000) / ms) : 0,
    p50Ms: median(rounds.map((r) => r.p50Ms)),
    p99Ms: median(rounds.map((r) => r.p99Ms)),
    failed: rounds.reduce((n, r) => n + r.failed, 0),
    badStatus: rounds.reduce((n, r) => n + r.badStatus, 0),
    connectErrors: rounds.reduce((n, r) => n + r.connectErrors, 0),
    statuses: rounds.reduce((m, r) => add(m, r.statuses), {}),
    errors: rounds.reduce((m, r) => add(m, r.errors), {}),
  };
}

function line(label: string, r: Summary, ref?: Summary): string {
  const rps = `${String(r.rps).padStart(6)} req/s`;
  const lat = `p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms`;
  const ratios =
    ref === undefined
      ? ''
      : ` (${(r.rps / ref.rps).toFixed(2)} x nginx req/s, ${(r.p99Ms / ref.p99Ms).toFixed(2)} x nginx p99)`;
  const failures = describeFailures(r);
  const bad = failures === null ? '' : `; ${failures}`;
  return `${label.padEnd(26)} ${rps}, ${lat}${ratios}${bad}`;
}

const bench: Benchmark = async (report) => {
  let binary: string;
  try {
    binary = await findNginx();
  } catch (err) {
    // Without the reference there is no ratio to give: say so, and let the
    // other benchmarks of the run go on.
    report(`NOT RUN: ${err instanceof Error ? err.message : String(err)}`);
    return;
  }
  const gateway = await VesperGateway.start({
    workers: WORKERS,
    options: [
      `session.app=${APP}`,
      `frontend.max_requests_per_connection=${REQUESTS_PER_CONNECTION}`,
    ],
  });
  let nginx: NginxProxy | null = null;
  try {
    const { key, cookie } = await login(gateway.port, USER, PASSWORD);
    const socketPath = sessionSocketPath(gateway.socketDir, USER, key);
    nginx = await NginxProxy.start({
      binary,
      workers: WORKERS,
      upstream: socketPath,
      keepaliveRequests: REQUESTS_PER_CONNECTION,
    });
    const targets: [string, LoadTarget][] = [
      ['direct (no proxy)', { path: socketPath }],
      [
        `nginx ${await nginxVersion(binary)}, ${WORKERS} workers`,
        { host: '127.0.0.1', port: nginx.port },
      ],
      [`vesper, ${WORKERS} workers`, { host: '127.0.0.1', port: gateway.port }],
    ];
    const load = (target: LoadTarget): LoadOptions => ({
      target,
      connections: CONNECTIONS,
      warmupMs: WARMUP_MS,
      durationMs: ROUND_MS,
      path: `/session/${USER}//page`,
      headers: { cookie },
      expectBodyBytes: PAGE_BYTES,
    });
    report(
      `${PAGE_BYTES}-byte session page, ${CONNECTIONS} keep-alive connections, ` +
        `${ROUNDS} rounds of ${ROUND_MS / 1000} s per target (after ${WARMUP_MS / 1000} s warm-up each, ` +
        `and ${FIRST_WARMUP_MS / 1000} s before the first), ${cpus().length} cores; load generator in its own process`,
    );
    for (const [, target] of targets) {
      await runLoadInChild({ ...load(target), warmupMs: 0, durationMs: FIRST_WARMUP_MS });
    }
    const results: LoadResult[][] = targets.map(() => []);
    const roundRatios: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (let t = 0; t < targets.length; t++) {
        results[t]!.push(await runLoadInChild(load(targets[t]![1])));
      }
      const [ref, vesper] = [results[1]![round]!, results[2]![round]!];
      roundRatios.push((vesper.rps / ref.rps).toFixed(2));
    }
    const [direct, ref, vesper] = results.map(summarise) as [Summary, Summary, Summary];
    report(line(targets[0]![0], direct));
    report(line(targets[1]![0], ref));
    report(line(targets[2]![0], vesper, ref));
    report(`vesper req/s / nginx req/s by round: ${roundRatios.join(', ')}`);
    const rpsRatio = vesper.rps / ref.rps;
    const p99Ratio = vesper.p99Ms / ref.p99Ms;
    report(
      `targets: req/s >= ${MIN_RPS_RATIO} x nginx: ${rpsRatio >= MIN_RPS_RATIO ? 'met' : 'MISSED'}; ` +
        `p99 <= ${MAX_P99_RATIO} x nginx: ${p99Ratio <= MAX_P99_RATIO ? 'met' : 'MISSED'}`,
    );
  } finally {
    await nginx?.stop();
    await gateway.stop();
  }
};

export default bench;
