/**
 * @module Test helper: a socket file whose server is gone.
 */
import { spawn } from 'node:child_process';

/**
 * Leaves a stale socket file at `path`: a process binds it and is killed with
 * SIGKILL, so nothing unlinks the file.
 */
export async function makeStaleSocket(path: string): Promise<void> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('ready'))`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((r) => child.stdout.once('data', () => r()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGKILL');
  await exited;
}
