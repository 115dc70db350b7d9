/**
 * @module The session process's entry: takes its assignment over IPC, then serves one session until it ends.
 */
import type { VesperConfig } from '../../shared/config/index.js';
import { createLogger, type Logger } from '../../shared/log/index.js';
import type { SessionAppFactory } from '../app.js';
import type { AssignMessage, ProcessMessage, ServerMessage } from './ipc-messages.js';
import { collectGarbage } from './collect-garbage.js';
import { loadAppFactory } from './load-app.js';
import { SessionRuntime } from './session-runtime.js';
import { createTokenStore } from './token-store.js';
import { warmUp } from './warm-up.js';

// Sockets and files this process creates are for the Vesper user alone.
process.umask(0o077);

let config: VesperConfig | null = null;
let factory: SessionAppFactory | null = null;
let log: Logger | null = null;
let runtime: SessionRuntime | null = null;

/** Sends to the session server; false when it has gone away. */
function send(message: ProcessMessage): boolean {
  if (process.send === undefined || !process.connected) return false;
  process.send(message);
  return true;
}

function fail(code: string, message: string): void {
  send({ type: 'failed', code, message });
  process.exitCode = 1;
  if (process.connected) process.disconnect?.();
}

async function prepare(c: VesperConfig): Promise<void> {
  config = c;
  log = createLogger({ name: 'vesper-session', level: c.log.level, file: c.log.file ?? undefined });
  factory = await loadAppFactory(c.session.app);
  await warmUp(c);
  // A spare waits, perhaps long, with what loading and warming up left behind: give it back.
  collectGarbage();
  send({ type: 'ready' });
}

async function assign(m: AssignMessage): Promise<void> {
  if (config === null || factory === null || log === null) {
    fail('VESPER_SESSION_NOT_PREPARED', 'The session process was assigned before it was prepared.');
    return;
  }
  const l = log;
  const tokens = await createTokenStore(config, l);
  runtime = new SessionRuntime({
    config,
    factory,
    user: m.user,
    session: m.session,
    key: m.key,
    clientIp: m.clientIp,
    clientTls: m.tls,
    loginAt: m.loginAt,
    credential: m.credential,
    log: l,
    tokens,
    onExit: () => {
      l.flush?.();
      // Give the asynchronous log destination a moment, then leave.
      setTimeout(() => process.exit(0), 20).unref();
    },
  });
  await runtime.start();
  if (!send({ type: 'live', socketPath: runtime.socketPath })) {
    // The session server died before it could hand the key to anyone: nobody can use this session.
    await runtime.shutdown('shutdown');
    return;
  }
  // From here on the process lives on its own: it survives the session server.
  if (process.connected) process.disconnect?.();
}

process.on('message', (raw: unknown) => {
  const m = raw as ServerMessage;
  const step = m.type === 'prepare' ? prepare(m.config) : assign(m);
  step.catch((err: unknown) => {
    const code = (err as { code?: unknown }).code;
    log?.error({ err }, 'The session process could not start its session.');
    fail(
      typeof code === 'string' ? code : 'VESPER_SESSION_START_FAILED',
      String((err as Error).message),
    );
  });
});

// A spare whose session server went away has nobody to serve.
process.on('disconnect', () => {
  if (runtime === null) process.exit(process.exitCode ?? 0);
});

process.on('SIGTERM', () => {
  if (runtime === null) process.exit(0);
  else void runtime.shutdown('signal');
});
process.on('SIGINT', () => {
  // The session server's terminal may send SIGINT to its group; sessions have their own group.
  if (runtime === null) process.exit(0);
});
