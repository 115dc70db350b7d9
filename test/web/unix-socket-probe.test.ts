import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { probeUnixSocket } from '../../src/web/unix-socket-probe.js';
import { makeStaleSocket } from './stale-socket.js';

const dirs: string[] = [];
const servers: net.Server[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vprobe-'));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  for (const dir of dirs.splice(0)) {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('probeUnixSocket', () => {
  it('says none for a missing path', async () => {
    expect(await probeUnixSocket(join(tempDir(), 'absent.sock'))).toBe('none');
  });

  it('says other for a regular file and for a directory', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'file'), 'x');
    mkdirSync(join(dir, 'sub'));
    expect(await probeUnixSocket(join(dir, 'file'))).toBe('other');
    expect(await probeUnixSocket(join(dir, 'sub'))).toBe('other');
  });

  it('says live for a socket a server listens on', async () => {
    const path = join(tempDir(), 'live.sock');
    const server = net.createServer((s) => s.destroy());
    servers.push(server);
    await new Promise<void>((r) => server.listen(path, r));
    expect(await probeUnixSocket(path)).toBe('live');
  });

  it('says stale for a socket file whose process was killed', async () => {
    const path = join(tempDir(), 'stale.sock');
    await makeStaleSocket(path);
    expect(await probeUnixSocket(path)).toBe('stale');
  });

  it('rejects with the lstat error when the path cannot be looked at', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'file'), 'x');
    await expect(probeUnixSocket(join(dir, 'file', 'x.sock'))).rejects.toMatchObject({
      code: 'ENOTDIR',
    });
  });
});
