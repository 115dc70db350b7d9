/**
 * @module Runs one throwaway session in a spare so that a login's first page does not pay for cold code.
 */
import { request } from 'node:http';
import { join } from 'node:path';
import type { VesperConfig } from '../../shared/config/index.js';
import { silentLogger } from '../../shared/log/index.js';
import { Application } from '../../web/application.js';
import { MemoryTokenStore } from '../../web/websocket/memory-token-store.js';
import { newSessionKey } from '../session-identity.js';
import { SessionRuntime } from './session-runtime.js';

function get(socketPath: string, path: string, cookie: string): Promise<void> {
  return new Promise((resolve) => {
    const req = request(
      {
        socketPath,
        path,
        agent: false,
        headers: { Cookie: cookie, 'X-Vesper-Client-Ip': '127.0.0.1' },
      },
      (res) => {
        res.resume();
        res.on('end', resolve);
        res.on('error', () => resolve());
      },
    );
    req.on('error', () => resolve());
    req.end();
  });
}

/**
 * Starts a session of an empty application on a private socket
 * (`<socket_dir>/warm-<pid>.sock`, not a session socket name), sends it a
 * few requests (page, keyless cookie request, unknown key, status), and ends
 * it. The first real request then runs through code V8 has already compiled.
 * Never throws: a failed warm-up only costs the first request some time.
 */
export async function warmUp(config: VesperConfig): Promise<void> {
  const key = newSessionKey(config.session.key_bytes);
  const runtime = new SessionRuntime({
    config,
    factory: () => ({ application: new Application([]) }),
    user: 'warm-up',
    session: 0,
    key,
    clientIp: '127.0.0.1',
    clientTls: false,
    loginAt: Date.now(),
    credential: null,
    log: silentLogger,
    tokens: new MemoryTokenStore({ sweepIntervalMs: 0 }),
    socketPath: join(config.session.socket_dir, `warm-${process.pid}.sock`),
    exitGraceMs: 100,
  });
  try {
    await runtime.start();
    const cookie = `vesper_session=${key}`;
    for (let i = 0; i < 3; i++) {
      await get(runtime.socketPath, `/session/warm-up/${key}/page?x=${i}`, cookie);
      await get(runtime.socketPath, `/session/warm-up//page`, cookie);
      await get(runtime.socketPath, `/session/warm-up/${'A'.repeat(24)}/page`, '');
    }
  } catch {
    // Only a warm-up.
  } finally {
    await runtime.shutdown('shutdown').catch(() => undefined);
  }
}
