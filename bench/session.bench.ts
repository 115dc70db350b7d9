/**
 * @module Sessions: login to first page (p50, p99) through a real session
 * server with spares and without, and the private memory (Private_Clean +
 * Private_Dirty of /proc/PID/smaps_rollup) of an idle and of a dormant session
 * process. Logins use a pre-authenticated identity, so the figures measure the
 * session machinery and not accountd's password hashing. The application is
 * the benchmark session app (`bench/lib/bench-session-app.ts`, a 2 KiB page).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initRequest, type InitReply } from '../src/session/init-protocol/index.js';
import { fetchStatus, SessionServer } from '../src/session/server/index.js';
import { sessionSocketPath } from '../src/session/session-identity.js';
import { loadConfigText, type VesperConfig } from '../src/shared/config/index.js';
import { silentLogger } from '../src/shared/log/index.js';
import type { Benchmark } from './run.js';

const APP = fileURLToPath(new URL('./lib/bench-session-app.js', import.meta.url));

function get(socketPath: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath, path, agent: false, headers: { 'X-Vesper-Client-Ip': '127.0.0.1' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Private_Clean + Private_Dirty of `pid`, in MiB. */
function privateMiB(pid: number): number {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  let kib = 0;
  for (const m of text.matchAll(/^Private_(?:Clean|Dirty):\s+(\d+) kB$/gm)) kib += Number(m[1]);
  return kib / 1024;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function withServer<T>(
  dir: string,
  options: string[],
  body: (server: SessionServer, config: VesperConfig) => Promise<T>,
): Promise<T> {
  const config = loadConfigText('', {
    cwd: dir,
    options: [
      `paths.var=${join(dir, 'var')}`,
      'log.level=silent',
      `session.app=${APP}`,
      'session.max_per_user=1000',
      ...options,
    ],
  });
  const server = new SessionServer({ config, log: silentLogger });
  await server.start();
  try {
    return await body(server, config);
  } finally {
    await server.close();
    for (const r of server.sessions) {
      try {
        process.kill(r.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
}

async function login(
  config: VesperConfig,
  user: string,
): Promise<{ socket: string; url: string; pid?: number }> {
  const reply: InitReply = await initRequest(join(config.session.socket_dir, 'init.sock'), {
    op: 'login',
    user,
    identity: { issuer: 'https://bench.invalid', subject: user },
    clientIp: '127.0.0.1',
    tls: false,
    listener: 'bench',
  });
  if (!('key' in reply)) throw new Error(`login failed: ${JSON.stringify(reply)}`);
  return {
    socket: sessionSocketPath(config.session.socket_dir, reply.user, reply.key),
    url: `/session/${reply.user}/${reply.key}/page`,
  };
}

async function waitUntil(check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(10);
  }
}

/** Logs in `n` times (each a new session, logged out after), returns sorted ms. */
async function loginTimes(
  server: SessionServer,
  config: VesperConfig,
  n: number,
  spares: number,
): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    if (spares > 0) await waitUntil(() => server.readySpares === spares, 10_000);
    const t0 = process.hrtime.bigint();
    const s = await login(config, `bench${i}`);
    const status = await get(s.socket, s.url);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (status !== 200) throw new Error(`first page answered ${status}`);
    await get(s.socket, s.url.replace(/page$/, 'logout'));
  }
  return times.sort((a, b) => a - b);
}

const bench: Benchmark = async (report) => {
  const root = mkdtempSync(join(tmpdir(), 'vesper-bench-session-'));
  try {
    for (const [spares, n] of [
      [2, 60],
      [0, 15],
    ] as const) {
      const dir = join(root, `spares-${spares}`);
      const times = await withServer(dir, [`session.spares=${spares}`], (server, config) =>
        loginTimes(server, config, n, spares),
      );
      report(
        `login → first page, spares ${spares}: p50 ${percentile(times, 50).toFixed(1)} ms, ` +
          `p99 ${percentile(times, 99).toFixed(1)} ms (${n} logins; target with spares: p50 < 15 ms)`,
      );
    }
    await withServer(
      join(root, 'memory'),
      ['session.spares=1', 'session.idle_time=1500ms', 'session.timeout=1h'],
      async (server, config) => {
        const s = await login(config, 'memory');
        for (let i = 0; i < 20; i++) await get(s.socket, s.url);
        const pid = server.sessions[0]!.pid;
        await sleep(500);
        report(`idle session process: ${privateMiB(pid).toFixed(1)} MiB private (target < 12 MiB)`);
        const deadline = Date.now() + 5_000;
        for (;;) {
          const st = await fetchStatus(s.socket);
          if (st.ok && st.value.state === 'dormant') break;
          if (Date.now() > deadline) throw new Error('the session did not go dormant');
          await sleep(100);
        }
        report(`dormant session process: ${privateMiB(pid).toFixed(1)} MiB private`);
        const spare = server.sparePids()[0];
        if (spare !== undefined)
          report(`spare session process: ${privateMiB(spare).toFixed(1)} MiB private`);
      },
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
};

export default bench;
