import { connect } from 'node:net';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  controlSocketPath,
  requestJsonLine,
  startControlServer,
  type ControlServer,
} from '../../../src/frontend/master/control-socket.js';

/** Sends raw bytes and collects every reply line until the server closes or `lines` arrive. */
function raw(path: string, bytes: string, lines: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      buffer += d;
      if (buffer.split('\n').length > lines) {
        socket.destroy();
        resolve(buffer.split('\n').slice(0, lines));
      }
    });
    socket.on('error', reject);
    socket.on('connect', () => socket.write(bytes));
  });
}

describe('control socket', () => {
  let dir = '';
  let server: ControlServer | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vesper-control-'));
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('lives at <var>/master.sock', () => {
    expect(controlSocketPath('/srv/var')).toBe('/srv/var/master.sock');
  });

  it('answers each JSON line with one JSON line, in order, on a socket of mode 0600', async () => {
    const path = controlSocketPath(dir);
    server = await startControlServer(path, (req) =>
      Promise.resolve({ ok: true, echo: req['op'] }),
    );
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(await requestJsonLine(path, { op: 'status' })).toEqual({ ok: true, echo: 'status' });
    expect(await raw(path, '{"op":"a"}\n{"op":"b"}\n', 2)).toEqual([
      '{"ok":true,"echo":"a"}',
      '{"ok":true,"echo":"b"}',
    ]);
  });

  it('answers bad-request to a line that is not a JSON object, and goes on', async () => {
    const path = controlSocketPath(dir);
    server = await startControlServer(path, () => Promise.resolve({ ok: true }));
    expect(await raw(path, 'nonsense\n[1]\n{"op":"x"}\n', 3)).toEqual([
      '{"ok":false,"error":"bad-request"}',
      '{"ok":false,"error":"bad-request"}',
      '{"ok":true}',
    ]);
  });

  it('answers bad-request when the handler throws', async () => {
    const path = controlSocketPath(dir);
    server = await startControlServer(path, () => Promise.reject(new Error('boom')));
    expect(await requestJsonLine(path, { op: 'status' })).toEqual({
      ok: false,
      error: 'bad-request',
    });
  });

  it('replaces a stale socket file and removes its own on close', async () => {
    const path = controlSocketPath(dir);
    const first = await startControlServer(path, () => Promise.resolve({ n: 1 }));
    await first.close();
    expect(existsSync(path)).toBe(false);
    server = await startControlServer(path, () => Promise.resolve({ n: 2 }));
    expect(await requestJsonLine(path, {})).toEqual({ n: 2 });
  });

  it('fails with VESPER_CONTROL_UNREACHABLE when nobody listens', async () => {
    await expect(requestJsonLine(join(dir, 'none.sock'), {}, 500)).rejects.toMatchObject({
      code: 'VESPER_CONTROL_UNREACHABLE',
    });
  });
});
