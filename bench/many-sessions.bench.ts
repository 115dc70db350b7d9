/**
 * @module Many live sessions behind one gateway (DESIGN.md §7: "2,000 live
 * sessions, each still answering under 100 ms p99"). The built `vesper start`
 * runs with the reference account application (the default `session.app`)
 * and N bench accounts (`VESPER_BENCH_SESSIONS`, default 500); each is logged
 * in as a browser does it (`GET /login`, `POST /login`, then its first page),
 * so every session is started by the real session server from its spares.
 * Then, for 10 s, 32 keep-alive connections send each request to the home
 * page of a session picked uniformly at random, at full speed (saturated),
 * and then for 30 s with think time so that each session is asked about
 * every 10 s (paced: users reading their pages; the target is judged on this
 * phase). Prints how long bringing the
 * sessions up took, req/s and p50/p99/max latency, how many sessions
 * answered, every failure by cause, the private memory of the session
 * processes, and the targets. Refuses to start (and says so) when N x 12 MiB
 * exceeds 80% of MemAvailable.
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import type { LoadRequest, LoadResult } from './lib/keep-alive-load.js';
import { describeFailures, percentile } from './lib/keep-alive-load.js';
import { runLoadInChild } from './lib/load-in-child.js';
import { privateMiB } from './lib/private-memory.js';
import {
  exchange,
  isAlive,
  login,
  processesIn,
  VesperGateway,
  type LoginResult,
} from './lib/vesper-gateway.js';
import type { Benchmark } from './run.js';
import { IDLE_GC_MS } from '../src/session/process/session-runtime.js';

/** Sessions when `VESPER_BENCH_SESSIONS` is unset: keeps `npm run bench` within a few minutes. */
const DEFAULT_SESSIONS = 500;
/** DESIGN.md §7. */
const TARGET_SESSIONS = 2000;
const TARGET_P99_MS = 100;
/** The idle-session target of DESIGN.md §7, used as the estimate of a session's memory. */
const ESTIMATE_MIB_PER_SESSION = 12;
/** Share of MemAvailable the estimate may take. */
const MEMORY_SHARE = 0.8;
const WORKERS = 2;
const CONNECTIONS = 32;
const WARMUP_MS = 1000;
const DURATION_MS = 10_000;
/** Long enough for most sessions to be asked at least once at one request per CLICK_INTERVAL_MS. */
const PACED_DURATION_MS = 30_000;
/**
 * Logins in flight at once while bringing the sessions up, one per core:
 * starting session processes is CPU-bound, so more at once only queue.
 */
const LOGIN_CONCURRENCY = 2;
/** Bringing up stops after this many failed logins: something is wrong, not slow. */
const MAX_LOGIN_FAILURES = 10;
/**
 * Between requests, each session is asked for a page every this many ms on
 * average in the paced phase: users who read what they asked for.
 */
const CLICK_INTERVAL_MS = 10_000;
/** Quiet time before the memory is read: a session collects garbage after IDLE_GC_MS. */
const QUIET_MS = IDLE_GC_MS + 2000;
const PASSWORD = 'bench-pw-1';

/** One session brought up: where its home page is and what the browser sends with it. */
interface Session {
  user: string;
  /** `/session/<user>/<key>/home`, where the login's 303 pointed. */
  path: string;
  /** The session cookie, and the `_xsrf` cookie the first page set. */
  cookie: string;
}

/** MemAvailable from /proc/meminfo, in MiB. */
function memAvailableMiB(): number {
  const m = /^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'));
  return m === null ? 0 : Number(m[1]) / 1024;
}

const gib = (mib: number): string => `${(mib / 1024).toFixed(1)} GiB`;

/** `VESPER_BENCH_SESSIONS` as a count, or why it is not one. */
function sessionCount(value: string | undefined): number | string {
  if (value === undefined || value === '') return DEFAULT_SESSIONS;
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    return `VESPER_BENCH_SESSIONS must be a whole number of sessions, at least 1; got "${value}"`;
  }
  return Number(value);
}

/** Logs `user` in and fetches the first page, as a browser follows the login's redirect. */
async function bringUp(port: number, user: string): Promise<Session> {
  const r: LoginResult = await login(port, user, PASSWORD);
  const path = r.location.split('?', 1)[0]!;
  const page = await exchange(port, 'GET', path, { cookie: r.cookie }, null);
  if (page.status !== 200) throw new Error(`the first page answered ${page.status}`);
  const xsrf = (page.headers['set-cookie'] ?? [])
    .map((c) => c.split(';', 1)[0]!)
    .find((c) => c.startsWith('_xsrf='));
  return { user, path, cookie: xsrf === undefined ? r.cookie : `${r.cookie}; ${xsrf}` };
}

/**
 * The session server's `login` lines (log level info), by user: the session
 * process's pid and whether it was a ready spare or started for the login.
 */
function loginLines(output: string): Map<string, { pid: number; spare: boolean }> {
  const byUser = new Map<string, { pid: number; spare: boolean }>();
  for (const line of output.split('\n')) {
    if (!line.includes('"event":"login"')) continue;
    let entry: { user?: unknown; pid?: unknown; spare?: unknown };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    const { user, pid, spare } = entry;
    if (typeof user === 'string' && typeof pid === 'number' && typeof spare === 'boolean') {
      byUser.set(user, { pid, spare });
    }
  }
  return byUser;
}

/** The measured window of `r`, as `10.0 s`. */
const seconds = (r: LoadResult): string => `${(r.durationMs / 1000).toFixed(1)} s`;

/**
 * The figures of a load phase: rate, latencies, how many of `sessions`
 * answered, and the failures.
 */
function loadFigures(r: LoadResult, sessions: number): string {
  const failures = describeFailures(r);
  return (
    `${r.rps} req/s, p50 ${r.p50Ms.toFixed(1)} ms, ` +
    `p99 ${r.p99Ms.toFixed(1)} ms, max ${r.maxMs.toFixed(1)} ms; ` +
    `${r.answeredRequests} of ${sessions} sessions answered; ` +
    (failures === null ? 'no failures' : `FAILURES: ${failures}`)
  );
}

const bench: Benchmark = async (report) => {
  const n = sessionCount(process.env.VESPER_BENCH_SESSIONS);
  if (typeof n === 'string') {
    report(`NOT RUN: ${n}`);
    return;
  }
  const availableMiB = memAvailableMiB();
  const estimateMiB = n * ESTIMATE_MIB_PER_SESSION;
  const allowedMiB = availableMiB * MEMORY_SHARE;
  const fullEstimateMiB = TARGET_SESSIONS * ESTIMATE_MIB_PER_SESSION;
  if (estimateMiB > allowedMiB) {
    report(
      `NOT RUN: ${n} sessions need about ${gib(estimateMiB)} (${n} x ${ESTIMATE_MIB_PER_SESSION} MiB), ` +
        `more than ${MEMORY_SHARE * 100}% of the ${gib(availableMiB)} available (${gib(allowedMiB)}); ` +
        `set VESPER_BENCH_SESSIONS lower`,
    );
    return;
  }
  report(
    `${n} sessions of the account application, one bench account each; vesper start with ` +
      `${WORKERS} workers; ${cpus().length} cores, load average ${loadavg()[0]!.toFixed(2)}; ` +
      `memory estimate ${gib(estimateMiB)} (${n} x ${ESTIMATE_MIB_PER_SESSION} MiB) of ${gib(availableMiB)} available`,
  );
  const users = Array.from({ length: n }, (_, i) => `bench${i}`);
  const gateway = await VesperGateway.start({
    workers: WORKERS,
    // Info: the session server's login lines say whether each session came from a spare.
    logLevel: 'info',
    accounts: { names: users, password: PASSWORD },
    options: [
      `session.max_sessions=${n}`,
      // Each account application session keeps one accountd connection open.
      `accountd.max_connections=${n + 64}`,
      'frontend.max_requests_per_connection=1000',
    ],
  });
  const sessionPids: number[] = [];
  try {
    // Bring the sessions up, LOGIN_CONCURRENCY logins at a time.
    const sessions: Session[] = [];
    const times: number[] = [];
    const failed: Record<string, number> = {};
    let failedLogins = 0;
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: LOGIN_CONCURRENCY }, async () => {
        while (next < n && failedLogins < MAX_LOGIN_FAILURES) {
          const user = users[next++]!;
          const begun = performance.now();
          try {
            sessions.push(await bringUp(gateway.port, user));
            times.push(performance.now() - begun);
          } catch (err) {
            failedLogins += 1;
            const cause = err instanceof Error ? err.message : String(err);
            failed[cause] = (failed[cause] ?? 0) + 1;
          }
        }
      }),
    );
    const upSeconds = (performance.now() - t0) / 1000;
    times.sort((a, b) => a - b);
    const sorted = Float64Array.from(times);
    const started = loginLines(gateway.output);
    for (const { pid } of started.values()) sessionPids.push(pid);
    const spare = [...started.values()].filter((s) => s.spare).length;
    const cold = started.size - spare;
    report(
      `brought up ${sessions.length} of ${n} sessions in ${upSeconds.toFixed(1)} s ` +
        `(${(sessions.length / upSeconds).toFixed(1)} a second, ${LOGIN_CONCURRENCY} logins at a time): ` +
        `login → first page p50 ${percentile(sorted, 50).toFixed(0)} ms, ` +
        `p99 ${percentile(sorted, 99).toFixed(0)} ms; ${spare} took a ready spare, ${cold} a process started for them` +
        (failedLogins === 0 ? '' : `; FAILED LOGINS: ${JSON.stringify(failed)}`),
    );
    if (sessions.length === 0) {
      report(`targets: NOT RUN: no session could be brought up`);
      return;
    }

    const requests: LoadRequest[] = sessions.map((s) => ({
      path: s.path,
      headers: { cookie: s.cookie },
    }));
    const r = await runLoadInChild({
      target: { host: '127.0.0.1', port: gateway.port },
      connections: CONNECTIONS,
      warmupMs: WARMUP_MS,
      durationMs: DURATION_MS,
      requests,
    });
    report(
      `saturated: ${CONNECTIONS} keep-alive connections at full speed, each request to a random ` +
        `session's home page, ${seconds(r)} (after ${WARMUP_MS / 1000} s warm-up): ` +
        loadFigures(r, sessions.length),
    );
    // Users read what they asked for: each connection thinks between requests,
    // so that every session is asked about once per CLICK_INTERVAL_MS.
    const thinkMs = (CONNECTIONS * CLICK_INTERVAL_MS) / sessions.length;
    const paced = await runLoadInChild({
      target: { host: '127.0.0.1', port: gateway.port },
      connections: CONNECTIONS,
      warmupMs: WARMUP_MS,
      durationMs: PACED_DURATION_MS,
      requests,
      thinkMs,
    });
    report(
      `paced: each session asked about every ${CLICK_INTERVAL_MS / 1000} s (${CONNECTIONS} connections, ` +
        `${thinkMs.toFixed(0)} ms think time), ${seconds(paced)}: ${loadFigures(paced, sessions.length)}`,
    );

    // Let the sessions go quiet and collect their garbage, then read their
    // memory (from /proc only: asking a thousand sessions for their status
    // would wake them all).
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    let alive = 0;
    let totalMiB = 0;
    let maxMiB = 0;
    for (const s of sessions) {
      const pid = started.get(s.user)?.pid;
      const mib = pid === undefined || !isAlive(pid) ? null : privateMiB(pid);
      if (mib === null) continue;
      alive += 1;
      totalMiB += mib;
      maxMiB = Math.max(maxMiB, mib);
    }
    report(
      `session processes: ${totalMiB.toFixed(0)} MiB private (Private_Clean + Private_Dirty) in ${alive}, ` +
        `${(totalMiB / Math.max(1, alive)).toFixed(1)} MiB a session on average, max ${maxMiB.toFixed(1)} MiB` +
        `${alive === sessions.length ? '' : `; ${sessions.length - alive} SESSION PROCESSES GONE`}; ` +
        `MemAvailable now ${gib(memAvailableMiB())}`,
    );

    const errors = paced.failed + paced.badStatus + paced.connectErrors;
    const p99 =
      paced.ok === 0
        ? 'NOT MEASURED (no answer)'
        : `${paced.p99Ms <= TARGET_P99_MS && errors === 0 ? 'met' : 'MISSED'} (paced p99 ${paced.p99Ms.toFixed(1)} ms, ` +
          `${paced.answeredRequests} of ${sessions.length} sessions answered, ${errors} failures)`;
    const count =
      sessions.length >= TARGET_SESSIONS
        ? `${sessions.length} sessions: met`
        : `${TARGET_SESSIONS} sessions: NOT RUN, ${sessions.length} here (` +
          (n < TARGET_SESSIONS
            ? `VESPER_BENCH_SESSIONS=${n}; ${TARGET_SESSIONS} would need about ${gib(fullEstimateMiB)}, ` +
              `${fullEstimateMiB <= allowedMiB ? 'which fits' : 'more than fits'} in ${MEMORY_SHARE * 100}% of this machine's ${gib(availableMiB)} available)`
            : `${n - sessions.length} could not be brought up)`);
    report(
      `targets: p99 <= ${TARGET_P99_MS} ms at one request per session every ${CLICK_INTERVAL_MS / 1000} s: ${p99}; ${count}`,
    );
  } finally {
    // Every process of the gateway and every session process, which run detached.
    const pids = [...new Set([...sessionPids, ...gateway.processes()])];
    await gateway.stop();
    const left = [...new Set([...pids.filter(isAlive), ...processesIn(gateway.dir)])];
    if (left.length > 0) report(`LEFT RUNNING after stop: processes ${left.join(', ')}`);
  }
};

export default bench;
