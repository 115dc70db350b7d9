/**
 * @module Runs the built `vesper start` (dist/src/cli/main.js) as a real
 * gateway for benchmarks and end-to-end tests: a temporary directory with a
 * configuration on a free loopback port and a private var/, optionally bench
 * accounts made beforehand, a minimal environment, its own process group, and
 * a `stop()` that leaves no process of it behind (session processes included,
 * though they are detached).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openAccountStore, type ScryptParams } from '../../src/accountd/index.js';
import { loadConfigText } from '../../src/shared/config/index.js';
import { VesperError } from '../../src/shared/errors/index.js';
import { freePort } from './nginx.js';

/** The built program, from `bench/lib` or `dist/bench/lib`. */
export function vesperMain(): string {
  const here = fileURLToPath(import.meta.url);
  const up = here.includes(join('dist', 'bench')) ? ['..', '..', '..', '..'] : ['..', '..', '..'];
  return resolve(here, ...up, 'dist', 'src', 'cli', 'main.js');
}

/** How to run the gateway. */
export interface GatewayOptions {
  /** Frontend workers (`min_servers` = `max_servers`). Default 2. */
  workers?: number;
  /** `session.external`: do not start the session server. Default false. */
  sessionExternal?: boolean;
  /** `accountd.demo_users`. Default true. */
  demoUsers?: boolean;
  /** pino level. Default `warn`. */
  logLevel?: string;
  /** Extra YAML appended to the generated configuration file (top-level keys not written above). */
  extraYaml?: string;
  /** Extra `--config-option KEY=VALUE` arguments. */
  options?: string[];
  /** How long to wait for `/_health` to answer 200. Default 20 s. */
  startTimeoutMs?: number;
  /**
   * An existing directory to run in (its var/ kept, so a restart finds the
   * sessions of an earlier run); the caller removes it. Default: a new
   * temporary directory that `stop()` removes.
   */
  dir?: string;
  /** The loopback port. Default: a free one. */
  port?: number;
  /**
   * Accounts made in the gateway's account store before it starts, all with
   * one password, hashed at {@link BENCH_SCRYPT}'s cheap cost so that logging
   * them in measures the sessions and not password hashing.
   */
  accounts?: { names: readonly string[]; password: string };
}

/**
 * The scrypt cost of bench accounts: N=2^10 (about 3 ms a check here) instead
 * of the default 2^15 (about 150 ms). A hash carries its own cost, so accountd
 * checks these at this cost whatever its default.
 */
export const BENCH_SCRYPT: ScryptParams = { N: 1024, r: 8, p: 1, keylen: 32 };

/**
 * Makes `names` in the account store of the configuration `configText`
 * (relative paths from `dir`), each with `password` at {@link BENCH_SCRYPT}.
 * @throws what the account store throws (an account that exists, a name or
 * password it refuses).
 */
export async function createBenchAccounts(
  configText: string,
  dir: string,
  names: readonly string[],
  password: string,
): Promise<void> {
  const store = await openAccountStore(loadConfigText(configText, { cwd: dir }), {
    scrypt: BENCH_SCRYPT,
  });
  for (const name of names) await store.create(name, password);
}

/** The configuration file for a gateway on `port` with its var/ under `dir`. */
export function gatewayConfig(options: GatewayOptions, dir: string, port: number): string {
  const workers = options.workers ?? 2;
  return `paths:
  var: ${join(dir, 'var')}
log:
  level: ${options.logLevel ?? 'warn'}
  access: false
frontend:
  listen:
    - { port: ${port}, host: 127.0.0.1 }
  min_servers: ${workers}
  min_spare: 0
  max_servers: ${workers}
session:
  external: ${options.sessionExternal ?? false}
accountd:
  demo_users: ${options.demoUsers ?? true}
${options.extraYaml ?? ''}`;
}

/** Process ids of every live descendant of `root`, from /proc (Linux). */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // The command name (field 2) may hold spaces and parentheses: skip past its last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch {
      // The process ended while we looked.
    }
  }
  const found: number[] = [];
  const walk = (pid: number): void => {
    for (const c of children.get(pid) ?? []) {
      found.push(c);
      walk(c);
    }
  };
  walk(root);
  return found;
}

/**
 * Process ids of every live process whose working directory is `dir` or
 * under it (Linux; processes of other users are not visible). The gateway's
 * processes run in its directory, so this finds them even once detached from
 * the master, without matching anyone else's by name.
 */
export function processesIn(dir: string): number[] {
  const found: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    let cwd: string;
    try {
      cwd = readlinkSync(`/proc/${name}/cwd`);
    } catch {
      continue;
    }
    // A removed directory reads as "<path> (deleted)".
    cwd = cwd.replace(/ \(deleted\)$/, '');
    if ((cwd === dir || cwd.startsWith(dir + sep)) && isAlive(Number(name))) {
      found.push(Number(name));
    }
  }
  return found;
}

/** True while process `pid` exists (and is not a zombie). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** What `POST /login` answered on success. */
export interface LoginResult {
  /** The session key. */
  key: string;
  /** Where the 303 points: `/session/<user>/<key>/<cmd>`. */
  location: string;
  /** The `Cookie` header value to send with session requests (`vesper_session=<key>`). */
  cookie: string;
}

/** One request to 127.0.0.1:`port` on a fresh connection; the body as text. */
export function exchange(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | null,
): Promise<{
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}> {
  return new Promise((resolvePromise, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () =>
        resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body: text }),
      );
    });
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

/**
 * Logs `user` in as a browser would: `GET /login` for the XSRF cookie and
 * form field, then `POST /login`.
 * @throws VesperError `VESPER_BENCH_LOGIN_FAILED` unless the answer is a 303
 * to a session URL with the session cookie.
 */
export async function login(port: number, user: string, password: string): Promise<LoginResult> {
  const form = await exchange(port, 'GET', '/login', {}, null);
  const xsrfCookie = (form.headers['set-cookie'] ?? [])
    .map((c) => c.split(';', 1)[0]!)
    .find((c) => c.startsWith('_xsrf='));
  const field = /<input[^>]*name="_xsrf"[^>]*value="([^"]*)"/.exec(form.body)?.[1];
  if (form.status !== 200 || xsrfCookie === undefined || field === undefined) {
    throw new VesperError(
      'VESPER_BENCH_LOGIN_FAILED',
      `GET /login answered ${form.status} without an XSRF cookie and field.`,
    );
  }
  const body = new URLSearchParams({ _xsrf: field, username: user, password }).toString();
  const answer = await exchange(
    port,
    'POST',
    '/login',
    {
      cookie: xsrfCookie,
      'content-type': 'application/x-www-form-urlencoded',
      'content-length': String(Buffer.byteLength(body)),
    },
    body,
  );
  const location = typeof answer.headers.location === 'string' ? answer.headers.location : '';
  const key = /^\/session\/[^/]+\/([^/]+)\//.exec(location)?.[1];
  if (answer.status !== 303 || key === undefined) {
    throw new VesperError(
      'VESPER_BENCH_LOGIN_FAILED',
      `POST /login answered ${answer.status}${location === '' ? '' : ` to ${location}`}.`,
    );
  }
  return { key, location, cookie: `vesper_session=${key}` };
}

/** Resolves with the status of `GET path` on 127.0.0.1:`port`, or 0 when the connection fails. */
function status(port: number, path: string): Promise<number> {
  return new Promise((r) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => r(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => r(0));
    req.end();
  });
}

/** How the master process ended. */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Gateways started and not yet stopped, for {@link killAllGateways}. */
const running = new Set<VesperGateway>();

/**
 * Kills every gateway of this process that has not been stopped (see
 * {@link VesperGateway.kill}) and removes the directories they own, at once and
 * synchronously: for an interrupted benchmark, whose detached gateways and
 * session processes would otherwise outlive it.
 */
export function killAllGateways(): void {
  for (const g of [...running]) g.abort();
}

/** A running `vesper start`. */
export class VesperGateway {
  /** The loopback HTTP port. */
  readonly port: number;
  /** The temporary directory (config file, var/). */
  readonly dir: string;
  /** The configuration file. */
  readonly configFile: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<ExitStatus>;
  /** Every process seen under the master, so that none outlives `stop()`. */
  readonly #seen = new Set<number>();
  readonly #ownsDir: boolean;
  #output = '';
  #stopped: Promise<ExitStatus> | null = null;

  private constructor(
    port: number,
    dir: string,
    configFile: string,
    child: ChildProcess,
    ownsDir: boolean,
  ) {
    this.port = port;
    this.#ownsDir = ownsDir;
    this.dir = dir;
    this.configFile = configFile;
    this.#child = child;
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (this.#output += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (this.#output += d));
    this.#exited = new Promise((r) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        r({ code: child.exitCode, signal: child.signalCode });
      } else child.once('exit', (code, signal) => r({ code, signal }));
    });
  }

  /**
   * Writes a configuration, starts `node dist/src/cli/main.js start` and waits
   * until it has printed its `Vesper listening on` banner (workers listening,
   * accountd and the session server ready) and `/_health` answers 200.
   * @throws VesperError `VESPER_BENCH_NOT_BUILT` when the program is not
   * built, `VESPER_BENCH_GATEWAY_FAILED` with its output when it exits or does
   * not become healthy in time (nothing is left running).
   */
  static async start(options: GatewayOptions = {}): Promise<VesperGateway> {
    const main = vesperMain();
    if (!existsSync(main)) {
      throw new VesperError(
        'VESPER_BENCH_NOT_BUILT',
        `${main} is missing: build with npm run build.`,
      );
    }
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'vesper-gw-'));
    const port = options.port ?? (await freePort());
    const configFile = join(dir, 'vesper.yaml');
    const configText = gatewayConfig(options, dir, port);
    writeFileSync(configFile, configText);
    if (options.accounts !== undefined) {
      try {
        const { names, password } = options.accounts;
        await createBenchAccounts(configText, dir, names, password);
      } catch (err) {
        if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
        throw err;
      }
    }
    const args = [main, 'start', '--config', configFile];
    for (const o of options.options ?? []) args.push('--config-option', o);
    const child = spawn(process.execPath, args, {
      cwd: dir,
      // A minimal environment: nothing of this process's leaks into the gateway.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: 'production', TZ: 'UTC' },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so that stop() can end every process of it.
      detached: true,
    });
    const gateway = new VesperGateway(port, dir, configFile, child, options.dir === undefined);
    running.add(gateway);
    const deadline = Date.now() + (options.startTimeoutMs ?? 20_000);
    let exited = false;
    void gateway.#exited.then(() => (exited = true));
    while (!exited && Date.now() < deadline) {
      // The banner comes once the workers listen and the services are ready.
      if (
        gateway.output.includes('Vesper listening on') &&
        (await status(port, '/_health')) === 200
      ) {
        gateway.#remember();
        return gateway;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const output = gateway.output;
    await gateway.stop();
    throw new VesperError(
      'VESPER_BENCH_GATEWAY_FAILED',
      `vesper start ${exited ? 'exited' : 'did not become healthy in time'}:\n${output.trim()}`,
    );
  }

  /** The master's process id. */
  get pid(): number {
    return this.#child.pid ?? 0;
  }

  /** Everything the gateway wrote to stdout and stderr so far. */
  get output(): string {
    return this.#output;
  }

  /** `<var>/sockets`, the default `session.socket_dir`. */
  get socketDir(): string {
    return join(this.dir, 'var', 'sockets');
  }

  /** Resolves when the master exits. */
  get exited(): Promise<ExitStatus> {
    return this.#exited;
  }

  /** The live descendants of the master now (workers, session server, accountd, sessions). */
  processes(): number[] {
    const pids = descendants(this.pid);
    for (const p of pids) this.#seen.add(p);
    return pids;
  }

  /** Sends `signal` to the master only. */
  signal(signal: NodeJS.Signals): void {
    this.#remember();
    process.kill(this.pid, signal);
  }

  /**
   * Stops the gateway: SIGTERM to the master, up to `graceMs` (default 15 s)
   * to exit, then {@link kill} (detached session processes included) and up
   * to 2 s for the killed processes to end; removes the directory unless it
   * was given as `options.dir`.
   * Resolves with how the master ended. Idempotent.
   */
  stop(graceMs = 15_000): Promise<ExitStatus> {
    this.#stopped ??= (async () => {
      this.#remember();
      if (this.#child.exitCode === null && this.#child.signalCode === null) {
        try {
          process.kill(this.pid, 'SIGTERM');
        } catch {
          // Exited meanwhile.
        }
      }
      const timer = new Promise<null>((r) => setTimeout(() => r(null), graceMs).unref());
      const status = (await Promise.race([this.#exited, timer])) ?? null;
      const killed = this.kill();
      const final = status ?? (await this.#exited);
      // SIGKILL takes effect a moment later; a caller that checks right after must find none.
      for (let i = 0; i < 100 && killed.some(isAlive); i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      this.#removeDir();
      running.delete(this);
      return final;
    })();
    return this.#stopped;
  }

  /**
   * SIGKILL to the master's process group, to every process seen under it and,
   * when the gateway made its own directory, to every process running in it
   * ({@link processesIn}: session processes whose session server has gone are
   * no longer under the master). A directory given as `options.dir` may hold
   * another gateway's processes, so it is not searched. Returns the pids it
   * signalled.
   */
  kill(): number[] {
    this.#remember();
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // The group is gone.
    }
    const strays = this.#ownsDir ? processesIn(this.dir) : [];
    const killed: number[] = [];
    for (const p of new Set([...this.#seen, ...strays])) {
      try {
        if (!isAlive(p)) continue;
        process.kill(p, 'SIGKILL');
        killed.push(p);
      } catch {
        // Gone meanwhile.
      }
    }
    return killed;
  }

  /**
   * {@link kill} and removal of the directory it owns, synchronously, without
   * the SIGTERM and grace of {@link stop}: for an interrupted run. A later
   * `stop()` only waits for the master's exit.
   */
  abort(): void {
    this.kill();
    this.#removeDir();
    running.delete(this);
  }

  #removeDir(): void {
    if (!this.#ownsDir) return;
    try {
      rmSync(this.dir, { recursive: true, force: true });
    } catch {
      // A process killed a moment ago may still have been writing in it; the
      // rest is in the system's temporary directory.
    }
  }

  #remember(): void {
    if (this.#child.pid !== undefined) this.processes();
  }
}
