/**
 * @module Helpers of the master's end-to-end tests: the built program, a tiny test worker module, free ports, polling.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { processesIn } from '../../bench/lib/vesper-gateway.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const IPC = join(ROOT, 'dist', 'src', 'frontend', 'ipc.js');

/** Throws unless the program is built. */
export function requireBuild(): void {
  for (const f of [MAIN, IPC]) {
    if (!existsSync(f))
      throw new Error(`${f} is missing: run npx tsc -p tsconfig.build.json first`);
  }
}

/**
 * Writes the test worker module to `file`: plain HTTP on every non-TLS
 * listener, `GET /` answers `gen G pid P`, `GET /slow?ms=N` answers after N
 * ms, `GET /exit?code=C` exits the process with C. At
 * `frontend.max_connections_per_child` connections it sends `retiring` and
 * goes on serving until told to drain. When `<paths.var>/crash-next-start`
 * exists, it removes it and fails before listening; `fatal-next-start`
 * likewise makes it exit with code 2. It speaks the IPC contract of
 * src/frontend/ipc.ts.
 */
export function writeTestWorker(file: string): void {
  writeFileSync(
    file,
    `import { existsSync, unlinkSync } from 'node:fs';
import { createServer } from 'node:http';
import { workerChannel } from ${JSON.stringify(pathToFileURL(IPC).href)};
export async function runWorker(config, options) {
  const channel = workerChannel(options);
  const crash = config.paths.var + '/crash-next-start';
  if (existsSync(crash)) { unlinkSync(crash); throw new Error('crashing on purpose'); }
  const fatal = config.paths.var + '/fatal-next-start';
  if (existsSync(fatal)) { unlinkSync(fatal); process.exit(2); }
  let inflight = 0, requests = 0, served = 0, connections = 0;
  const sockets = new Set();
  const servers = config.frontend.listen.filter((l) => !l.tls).map((l) => {
    const server = createServer((req, res) => {
      inflight++;
      const done = () => { inflight--; requests++; };
      const url = new URL(req.url, 'http://x');
      if (url.pathname === '/exit') { process.exit(Number(url.searchParams.get('code'))); }
      const ms = url.pathname === '/slow' ? Number(url.searchParams.get('ms')) : 0;
      setTimeout(() => { res.end('gen ' + options.generation + ' pid ' + process.pid); done(); }, ms);
    });
    server.on('connection', (s) => {
      served++; connections++; sockets.add(s); s.on('close', () => { connections--; sockets.delete(s); });
      if (served === config.frontend.max_connections_per_child) channel.send({ type: 'retiring' });
    });
    return new Promise((resolve, reject) => { server.once('error', reject); server.listen(l.port, l.host, () => resolve(server)); });
  });
  const listening = await Promise.all(servers);
  channel.send({ type: 'listening' });
  const timer = setInterval(() => channel.send({ type: 'load', inflight, connections, requests, servedConnections: served }), 200);
  await new Promise((resolve) => {
    channel.onMessage((m) => {
      if (m.type !== 'drain') return;
      clearInterval(timer);
      let left = listening.length;
      for (const s of listening) s.close(() => { if (--left === 0) resolve(); });
      for (const s of listening) s.closeIdleConnections();
      setTimeout(() => { for (const s of sockets) s.destroy(); }, m.deadlineMs).unref();
    });
  });
}
`,
  );
}

/** A TCP port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        resolve(typeof address === 'object' && address !== null ? address.port : 0),
      );
    });
  });
}

/** A running `vesper start` and everything it printed. */
export interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Runs the built `vesper ARGS` in `cwd` with a minimal environment, collecting stdout and stderr together. */
export function startVesper(args: string[], cwd: string): Started {
  const child = spawn(process.execPath, [MAIN, ...args], {
    cwd,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** Runs the built `vesper ARGS` to completion. */
export function vesper(
  args: string[],
  cwd: string,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      cwd,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
      timeout: 30_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Polls `probe` every 25 ms until it returns a value other than undefined; throws after `timeoutMs`. */
export async function until<T>(
  what: string,
  timeoutMs: number,
  probe: () => T | undefined | Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** GET `path` on 127.0.0.1:`port`; resolves to status and body (a fresh connection each time). */
export function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** True when a process with `pid` exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Kills `pid` with SIGKILL if it still exists. */
export function killQuietly(pid: number | null | undefined): void {
  if (pid === null || pid === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

// What a test's `vesper start` started (detached session processes included)
// runs in its directory: one finder for the benchmarks and the tests.
export { processesIn };

/** Kills with SIGKILL every process of {@link processesIn}; returns how many. */
export function killProcessesIn(dir: string): number {
  const pids = processesIn(dir);
  for (const pid of pids) killQuietly(pid);
  return pids.length;
}
