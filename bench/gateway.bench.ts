/**
 * @module The gateway's session-URL proxy against nginx (DESIGN.md §7): one
 * session backend on a Unix socket serving a 2 KiB page, loaded over
 * keep-alive connections three ways in one run: directly on its socket (no
 * proxy), through nginx from the distribution (the reference), and through the
 * built `vesper start` with as many workers as nginx. Prints requests per
 * second and p50/p99 latency for each, and the gateway's figures as ratios to
 * nginx's, against the targets (throughput at least 0.6 x nginx, p99 no worse
 * than 1.5 x nginx's). The load generator runs in a child process of its own.
 */
import { mkdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { newSessionKey, sessionSocketPath } from '../src/session/session-identity.js';
import type { LoadOptions, LoadResult, LoadTarget } from './lib/keep-alive-load.js';
import { runLoadInChild } from './lib/load-in-child.js';
import { findNginx, nginxVersion, NginxProxy } from './lib/nginx.js';
import { PAGE_BYTES, PageBackend } from './lib/page-backend.js';
import { VesperGateway } from './lib/vesper-gateway.js';
import type { Benchmark } from './run.js';

/** Frontend workers for both proxies. */
const WORKERS = 2;
const CONNECTIONS = 32;
const WARMUP_MS = 1000;
const DURATION_MS = 10_000;
/** Requests per client connection, the same for both proxies. */
const REQUESTS_PER_CONNECTION = 1000;
/** DESIGN.md §7 targets. */
const MIN_RPS_RATIO = 0.6;
const MAX_P99_RATIO = 1.5;
const USER = 'bench';

function line(label: string, r: LoadResult, ref?: LoadResult): string {
  const rps = `${String(r.rps).padStart(6)} req/s`;
  const lat = `p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms`;
  const ratios =
    ref === undefined
      ? ''
      : ` (${(r.rps / ref.rps).toFixed(2)} x nginx req/s, ${(r.p99Ms / ref.p99Ms).toFixed(2)} x nginx p99)`;
  const errors = r.failed + r.badStatus + r.connectErrors;
  const bad =
    errors === 0
      ? ''
      : `; ${r.failed} failed, ${r.badStatus} bad answers, ${r.connectErrors} refused connections`;
  return `${label.padEnd(26)} ${rps}, ${lat}${ratios}${bad}`;
}

const bench: Benchmark = async (report) => {
  const binary = await findNginx();
  const key = newSessionKey(18);
  const gateway = await VesperGateway.start({
    workers: WORKERS,
    sessionExternal: true,
    demoUsers: false,
    options: [`frontend.max_requests_per_connection=${REQUESTS_PER_CONNECTION}`],
  });
  let backend: PageBackend | null = null;
  let nginx: NginxProxy | null = null;
  try {
    // The frontend finds a session by its socket alone: a backend listening on
    // the socket named for (user, key) is that session as far as it can tell.
    mkdirSync(gateway.socketDir, { recursive: true, mode: 0o700 });
    const socketPath = sessionSocketPath(gateway.socketDir, USER, key);
    backend = await PageBackend.start({ socketPath, user: USER, key });
    nginx = await NginxProxy.start({
      binary,
      workers: WORKERS,
      upstream: socketPath,
      keepaliveRequests: REQUESTS_PER_CONNECTION,
    });
    const load = (target: LoadTarget): LoadOptions => ({
      target,
      connections: CONNECTIONS,
      warmupMs: WARMUP_MS,
      durationMs: DURATION_MS,
      path: `/session/${USER}//page`,
      headers: { cookie: `vesper_session=${key}` },
      expectBodyBytes: PAGE_BYTES,
    });
    report(
      `${PAGE_BYTES}-byte session page, ${CONNECTIONS} keep-alive connections, ` +
        `${DURATION_MS / 1000} s per target after ${WARMUP_MS / 1000} s warm-up, ` +
        `${cpus().length} cores; load generator in its own process`,
    );
    const direct = await runLoadInChild(load({ path: socketPath }));
    report(line('direct (no proxy)', direct));
    const ref = await runLoadInChild(load({ host: '127.0.0.1', port: nginx.port }));
    report(line(`nginx ${await nginxVersion(binary)}, ${WORKERS} workers`, ref));
    const vesper = await runLoadInChild(load({ host: '127.0.0.1', port: gateway.port }));
    report(line(`vesper, ${WORKERS} workers`, vesper, ref));
    const rpsRatio = vesper.rps / ref.rps;
    const p99Ratio = vesper.p99Ms / ref.p99Ms;
    report(
      `targets: req/s >= ${MIN_RPS_RATIO} x nginx: ${rpsRatio >= MIN_RPS_RATIO ? 'met' : 'MISSED'}; ` +
        `p99 <= ${MAX_P99_RATIO} x nginx: ${p99Ratio <= MAX_P99_RATIO ? 'met' : 'MISSED'}`,
    );
  } finally {
    await nginx?.stop();
    await backend?.stop();
    await gateway.stop();
  }
};

export default bench;
