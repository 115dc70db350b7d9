/**
 * @module nginx as the reference proxy: finds (or installs, through
 * scripts/nginx.sh) the distribution's nginx, writes a private nginx.conf
 * that proxies a loopback port to one Unix-socket upstream over pooled
 * keep-alive connections, runs it in the foreground and stops it.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VesperError } from '../../src/shared/errors/index.js';

/** scripts/nginx.sh, from `bench/lib` or `dist/bench/lib`. */
function script(): string {
  const here = fileURLToPath(import.meta.url);
  const up = here.includes(`${join('dist', 'bench')}`)
    ? ['..', '..', '..', '..']
    : ['..', '..', '..'];
  return resolve(here, ...up, 'scripts', 'nginx.sh');
}

/**
 * The path of an nginx binary, installing the distribution's package when it
 * is missing and we are root (scripts/nginx.sh).
 * @throws VesperError `VESPER_BENCH_NO_NGINX` with the script's explanation.
 */
export function findNginx(): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    // Installing with apt-get can take a minute on a fresh machine.
    execFile('bash', [script()], { timeout: 300_000 }, (err, stdout, stderr) => {
      const path = stdout.trim();
      if (err !== null || path === '') {
        reject(
          new VesperError(
            'VESPER_BENCH_NO_NGINX',
            `scripts/nginx.sh failed: ${(stderr || (err?.message ?? 'no output')).trim()}`,
          ),
        );
        return;
      }
      resolvePromise(path);
    });
  });
}

/** nginx's version (`1.22.1`), from `nginx -v`; `unknown` when it cannot be read. */
export function nginxVersion(binary: string): Promise<string> {
  return new Promise((r) => {
    execFile(binary, ['-v'], (_err, stdout, stderr) => {
      r(/nginx\/(\S+)/.exec(`${stdout}${stderr}`)?.[1] ?? 'unknown');
    });
  });
}

/** A free TCP port on 127.0.0.1 at the time of asking. */
export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolvePromise(port));
    });
  });
}

/** Answers once something accepts TCP connections on 127.0.0.1:`port`, or false at the deadline. */
export async function waitForPort(port: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const up = await new Promise<boolean>((r) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        r(true);
      });
      s.once('error', () => r(false));
    });
    if (up) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

/** How to run the reference proxy. */
export interface NginxOptions {
  /** The nginx binary ({@link findNginx}). */
  binary: string;
  /** Worker processes; give it as many as the gateway has. */
  workers: number;
  /** The Unix socket of the backend. */
  upstream: string;
  /** Idle keep-alive connections kept to the upstream per worker. Default 32. */
  upstreamKeepalive?: number;
  /** Requests per client connection before nginx closes it. Default 1000. */
  keepaliveRequests?: number;
}

/** The nginx.conf for `options` listening on `port`, with every path under `prefix`. */
export function nginxConf(options: NginxOptions, port: number, prefix: string): string {
  // As root, nginx workers would switch to `nobody` and could not open the
  // 0600 session socket owned by the user that runs the benchmark.
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  return `${user}worker_processes ${options.workers};
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${join(prefix, 'tmp', 'body')};
  proxy_temp_path ${join(prefix, 'tmp', 'proxy')};
  fastcgi_temp_path ${join(prefix, 'tmp', 'fastcgi')};
  uwsgi_temp_path ${join(prefix, 'tmp', 'uwsgi')};
  scgi_temp_path ${join(prefix, 'tmp', 'scgi')};
  keepalive_requests ${options.keepaliveRequests ?? 1000};
  upstream session {
    server unix:${options.upstream};
    keepalive ${options.upstreamKeepalive ?? 32};
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://session;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Vesper-Client-Ip $remote_addr;
      proxy_set_header X-Vesper-Client-Scheme $scheme;
      proxy_set_header X-Vesper-Request-Id $request_id;
    }
  }
}
`;
}

/** Sends `signal` to `child`'s process group (it was started detached). */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  } catch {
    // The group is gone already.
  }
}

/** A running nginx; `stop()` ends it and removes its files. */
export class NginxProxy {
  /** The loopback port it listens on. */
  readonly port: number;
  readonly #child: ChildProcess;
  readonly #dir: string;
  #stopped: Promise<void> | null = null;

  private constructor(port: number, child: ChildProcess, dir: string) {
    this.port = port;
    this.#child = child;
    this.#dir = dir;
  }

  /**
   * Starts nginx in the foreground (`daemon off`) on a free loopback port and
   * waits until it accepts connections.
   * @throws VesperError `VESPER_BENCH_NGINX_FAILED` with nginx's error log when
   * it does not start (three attempts, in case another program took the port).
   */
  static async start(options: NginxOptions): Promise<NginxProxy> {
    const dir = mkdtempSync(join(tmpdir(), 'vesper-bench-nginx-'));
    mkdirSync(join(dir, 'tmp'));
    let log = '';
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      const conf = join(dir, 'nginx.conf');
      writeFileSync(conf, nginxConf(options, port, dir));
      const child = spawn(
        options.binary,
        ['-p', dir, '-c', conf, '-e', join(dir, 'error.log'), '-g', 'daemon off;'],
        // Its own process group, so that its workers can be killed with it.
        { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
      );
      child.stderr?.setEncoding('utf8').on('data', (d: string) => (log += d));
      const exited = new Promise<false>((r) => child.once('exit', () => r(false)));
      child.once('error', (err) => (log += err.message));
      const up = await Promise.race([waitForPort(port, 5000), exited]);
      if (up) return new NginxProxy(port, child, dir);
      killGroup(child, 'SIGKILL');
      try {
        log += readFileSync(join(dir, 'error.log'), 'utf8');
      } catch {
        // No error log written: stderr says why.
      }
    }
    rmSync(dir, { recursive: true, force: true });
    throw new VesperError('VESPER_BENCH_NGINX_FAILED', `nginx did not start: ${log.trim()}`);
  }

  /** Stops nginx (SIGQUIT, graceful; SIGKILL after 5 s) and removes its directory. Idempotent. */
  stop(): Promise<void> {
    this.#stopped ??= new Promise<void>((resolvePromise) => {
      const child = this.#child;
      const done = (): void => {
        clearTimeout(force);
        rmSync(this.#dir, { recursive: true, force: true });
        resolvePromise();
      };
      const force = setTimeout(() => killGroup(child, 'SIGKILL'), 5000);
      if (child.exitCode !== null || child.signalCode !== null) {
        done();
        return;
      }
      child.once('exit', done);
      child.kill('SIGQUIT');
    });
    return this.#stopped;
  }
}
