/**
 * @module Sessions: login to first page (p50, p99) through a real session
 * server with spares and without, and the private memory (Private_Clean +
 * Private_Dirty of /proc/PID/smaps_rollup) of an idle and of a dormant session
 * process. Logins use a pre-authenticated identity, so the figures measure the
 * session machinery and not accountd's password hashing. The application is
 * the benchmark session app (`bench/lib/bench-session-app.ts`, a 2 KiB page);
 * the session server runs as `vesper session-server` in a process of its own.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initRequest, type InitReply } from '../src/session/init-protocol/index.js';
import { fetchStatus } from '../src/session/server/index.js';
import { sessionSocketPath } from '../src/session/session-identity.js';
import { loadConfigText, type VesperConfig } from '../src/shared/config/index.js';
import { privateMiB } from './lib/private-memory.js';
import type { Benchmark } from './run.js';

const APP = fileURLToPath(new URL('./lib/bench-session-app.js', import.meta.url));
const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

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

/** {@link privateMiB} of a session process that must still be running. */
function sessionMiB(pid: number): number {
  const mib = privateMiB(pid);
  if (mib === null) throw new Error(`the session process ${pid} is gone`);
  return mib;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A session server run as in production: `vesper session-server` in a process of its own. */
interface RunningServer {
  readonly config: VesperConfig;
  /** Ready spares and live sessions, from the init socket's `status`. */
  status(): Promise<{ spares: number; sessions: { pid: number; state: string }[] }>;
}

async function withServer<T>(
  dir: string,
  options: string[],
  body: (server: RunningServer) => Promise<T>,
): Promise<T> {
  mkdirSync(dir, { recursive: true });
  const yaml = join(dir, 'vesper.yaml');
  writeFileSync(yaml, 'log: { level: silent }\n');
  const all = [
    `paths.var=${join(dir, 'var')}`,
    `session.app=${APP}`,
    'session.max_per_user=1000',
    ...options,
  ];
  const config = loadConfigText('log: { level: silent }\n', { cwd: dir, options: all });
  const child = spawn(
    process.execPath,
    [MAIN, 'session-server', '--config', yaml, ...all.flatMap((o) => ['--config-option', o])],
    { cwd: dir, stdio: 'ignore' },
  );
  const init = join(config.session.socket_dir, 'init.sock');
  const server: RunningServer = {
    config,
    async status() {
      const st = await initRequest(init, { op: 'status' });
      if (!('sessions' in st)) throw new Error('no status');
      return st;
    },
  };
  try {
    await waitUntil(async () => (await server.status().catch(() => null)) !== null, 20_000);
    return await body(server);
  } finally {
    const pids = (await server.status().catch(() => ({ sessions: [] }))).sessions.map((s) => s.pid);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
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

async function waitUntil(check: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(10);
  }
}

/** Logs in `n` times (each a new session, logged out after), returns sorted ms. */
async function loginTimes(server: RunningServer, n: number, spares: number): Promise<number[]> {
  const { config } = server;
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    if (spares > 0) await waitUntil(async () => (await server.status()).spares === spares, 10_000);
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
      const times = await withServer(dir, [`session.spares=${spares}`], (server) =>
        loginTimes(server, n, spares),
      );
      report(
        `login → first page, spares ${spares}: p50 ${percentile(times, 50).toFixed(1)} ms, ` +
          `p99 ${percentile(times, 99).toFixed(1)} ms (${n} logins; target with spares: p50 < 15 ms)`,
      );
    }
    await withServer(
      join(root, 'memory'),
      ['session.spares=1', 'session.idle_time=1500ms', 'session.timeout=1h'],
      async (server) => {
        const s = await login(server.config, 'memory');
        for (let i = 0; i < 20; i++) await get(s.socket, s.url);
        const pid = (await server.status()).sessions[0]!.pid;
        await sleep(500);
        report(`idle session process: ${sessionMiB(pid).toFixed(1)} MiB private (target < 12 MiB)`);
        const deadline = Date.now() + 5_000;
        for (;;) {
          const st = await fetchStatus(s.socket);
          if (st.ok && st.value.state === 'dormant') break;
          if (Date.now() > deadline) throw new Error('the session did not go dormant');
          await sleep(100);
        }
        report(`dormant session process: ${sessionMiB(pid).toFixed(1)} MiB private`);
      },
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
};

export default bench;
