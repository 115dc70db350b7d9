/**
 * @module Shared by the gateway fault tests: the built gateway with the
 * benchmark's session application and alice logged in, its processes as seen
 * in /proc, the session server's status, and a slow request to hold in flight.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { LoadOptions } from '../../bench/lib/keep-alive-load.js';
import { PAGE_BYTES } from '../../bench/lib/page-backend.js';
import { VesperGateway } from '../../bench/lib/vesper-gateway.js';
import { Browser, hiddenField } from './browser.js';
import { ROOT } from './gateway-build.js';

/** Keep-alive connections of the steady load. */
export const CONNECTIONS = 16;
/** The built benchmark session application (a 2 KiB `page`, `slow/<ms>`). */
export const APP = join(ROOT, 'dist', 'bench', 'lib', 'bench-session-app.js');

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A process's command line, '' when it is gone. */
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** The gateway's frontend workers now. */
export function workers(gateway: VesperGateway): number[] {
  return gateway.processes().filter((p) => cmdline(p).includes('worker-main'));
}

/** Established TCP connections on local `port` whose socket `pid` holds (Linux /proc). */
export function connectionsOf(pid: number, port: number): number {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m !== null) inodes.add(m[1]!);
      } catch {
        // Closed meanwhile.
      }
    }
  } catch {
    return 0;
  }
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  let n = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // f[1] local address:port, f[3] state (01 = established), f[9] inode.
      if (f.length > 9 && f[1]!.endsWith(`:${hexPort}`) && f[3] === '01' && inodes.has(f[9]!)) {
        n += 1;
      }
    }
  }
  return n;
}

/** Waits until `check()` is true, polling every 10 ms; false after `ms`. */
export async function until(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await sleep(10);
  }
  return check();
}

/** Logs alice in through the gateway and returns her session key. */
export async function login(port: number): Promise<string> {
  const browser = new Browser(port);
  const form = await browser.get('/login');
  const page = await browser.post('/login', {
    _xsrf: hiddenField(form.body, '_xsrf'),
    username: 'alice',
    password: 'vesper-demo-1',
  });
  expect(page.status).toBe(303);
  const key = /^\/session\/alice\/([^/]+)\//.exec(page.location)?.[1];
  expect(key).toBeDefined();
  return key!;
}

/** The session server's `{"op":"status"}` answer on its init socket. */
export function initStatus(
  socketDir: string,
): Promise<{ ok: boolean; sessions: { user: string; pid: number }[] }> {
  return new Promise((resolve, reject) => {
    const socket = connect(join(socketDir, 'init.sock'));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      text += d;
      const nl = text.indexOf('\n');
      if (nl < 0) return;
      socket.destroy();
      resolve(
        JSON.parse(text.slice(0, nl)) as { ok: boolean; sessions: { user: string; pid: number }[] },
      );
    });
    socket.on('error', reject);
    socket.write('{"op":"status"}\n');
  });
}

/** `GET <session>/slow/<ms>` through the gateway: its status and body size. */
export function slowPage(
  port: number,
  options: LoadOptions,
  ms: number,
): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: `/session/alice//slow/${ms}`,
        headers: options.headers,
        agent: false,
      },
      (res) => {
        let bytes = 0;
        res.on('data', (d: Buffer) => (bytes += d.length));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

export async function startGateway(
  dir?: string,
): Promise<{ gateway: VesperGateway; load: LoadOptions; key: string }> {
  const gateway = await VesperGateway.start({
    workers: 2,
    // Info: the master's and workers' lines explain a failure.
    logLevel: 'info',
    options: [`session.app=${APP}`],
    ...(dir === undefined ? {} : { dir }),
  });
  const key = await login(gateway.port);
  const load: LoadOptions = {
    target: { host: '127.0.0.1', port: gateway.port },
    connections: CONNECTIONS,
    durationMs: 0,
    path: '/session/alice//page',
    headers: { cookie: `vesper_session=${key}` },
    expectBodyBytes: PAGE_BYTES,
    requestTimeoutMs: 5000,
  };
  return { gateway, load, key };
}
