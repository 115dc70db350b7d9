/**
 * @module `vesper status`: the scoreboard, from the master's control socket and the session server's init socket.
 */
import { join } from 'node:path';
import { controlSocketPath, requestJsonLine } from '../../frontend/master/control-socket.js';
import type { MasterStatus } from '../../frontend/master/master.js';
import type { VesperConfig } from '../../shared/config/index.js';
import type { Command } from '../command.js';
import { configFromArgs, EXIT, parseFlags, runAdmin, UsageError } from './admin-support.js';
import { formatAge, masterPid } from './master-support.js';

const USAGE = `Usage: vesper status [--config FILE] [--config-option KEY=VALUE ...] [--json]

Prints the scoreboard of the running Vesper: the master, each worker (pid,
generation, state, open connections, requests served, age), the services
(accountd, session server) and each session (user, state, idle time). The
workers come from the master's control socket <paths.var>/master.sock, the
sessions from the session server ({"op":"status"} on its init socket). With
--json, prints {"master": ..., "sessions": ...} instead.

Exit status: 0 running, 1 not running or not answering, 2 usage error.`;

/** One session as the session server reports it. */
interface SessionRow {
  user: string;
  session: number;
  pid: number;
  state: string;
  idleMs: number;
}

/** The session server's answer, or why there is none. */
type Sessions = { ok: true; sessions: SessionRow[]; spares: number } | { ok: false; error: string };

async function sessionsOf(config: VesperConfig): Promise<Sessions> {
  try {
    const reply = (await requestJsonLine(join(config.session.socket_dir, 'init.sock'), {
      op: 'status',
    })) as { ok?: unknown; sessions?: unknown; spares?: unknown };
    if (reply.ok !== true || !Array.isArray(reply.sessions)) {
      return { ok: false, error: 'the session server gave no status' };
    }
    return {
      ok: true,
      sessions: reply.sessions as SessionRow[],
      spares: typeof reply.spares === 'number' ? reply.spares : 0,
    };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/** Lays `rows` out in columns under `header`. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows]
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** The human form of the scoreboard. */
export function formatStatus(master: MasterStatus, sessions: Sessions, now: number): string {
  const dash = (n: number | null): string => (n === null ? '-' : String(n));
  const out = [
    `Vesper master ${master.pid}: ${master.phase}, generation ${master.generation}, up ${formatAge(now - master.startedAt)}${master.foreground ? ' (foreground)' : ''}`,
    '',
    table(
      ['SLOT', 'PID', 'GEN', 'STATE', 'CONNS', 'INFLIGHT', 'REQUESTS', 'SERVED', 'RESTARTS', 'AGE'],
      master.workers.map((w) => [
        String(w.slot),
        String(w.pid),
        String(w.generation),
        w.state,
        dash(w.connections),
        dash(w.inflight),
        dash(w.requests),
        dash(w.servedConnections),
        String(w.restarts),
        formatAge(now - w.startedAt),
      ]),
    ),
  ];
  if (master.services.length > 0) {
    out.push(
      '',
      table(
        ['SERVICE', 'PID', 'STATE', 'RESTARTS', 'AGE'],
        master.services.map((s) => [
          s.name,
          s.pid === null ? '-' : String(s.pid),
          s.state,
          String(s.restarts),
          s.startedAt === null ? '-' : formatAge(now - s.startedAt),
        ]),
      ),
    );
  }
  out.push('');
  if (!sessions.ok) {
    out.push(`Sessions: unknown (${sessions.error})`);
  } else if (sessions.sessions.length === 0) {
    out.push(`Sessions: none (${sessions.spares} spare processes)`);
  } else {
    out.push(
      table(
        ['USER', 'SESSION', 'PID', 'STATE', 'IDLE'],
        sessions.sessions.map((s) => [
          s.user,
          String(s.session),
          String(s.pid),
          s.state,
          formatAge(s.idleMs),
        ]),
      ),
      `(${sessions.spares} spare processes)`,
    );
  }
  return `${out.join('\n')}\n`;
}

/** The `status` command. */
export const statusCommand: Command = {
  name: 'status',
  summary: 'show the workers, services and sessions of the running Vesper',
  usage: USAGE,
  run: (args, io) =>
    runAdmin('status', io, async () => {
      const { config, rest } = configFromArgs(args);
      const { flags, positional } = parseFlags(rest, [], ['--json']);
      if (positional.length > 0) throw new UsageError('status takes no arguments');
      await masterPid(config);
      const master = (await requestJsonLine(controlSocketPath(config.paths.var), {
        op: 'status',
      })) as MasterStatus;
      const sessions = await sessionsOf(config);
      if (flags.has('--json')) {
        io.stdout.write(`${JSON.stringify({ master, sessions })}\n`);
      } else {
        io.stdout.write(formatStatus(master, sessions, Date.now()));
      }
      return EXIT.ok;
    }),
};
