/**
 * @module The messages between the session server and a session process over the fork IPC channel.
 */
import type { VesperConfig } from '../../shared/config/index.js';

/** Server → spare: the configuration; the spare loads its application module and answers `ready`. */
export interface PrepareMessage {
  readonly type: 'prepare';
  readonly config: VesperConfig;
}

/**
 * Server → spare: become this session. The password travels only here (never
 * argv or env) and is kept in memory by the process.
 */
export interface AssignMessage {
  readonly type: 'assign';
  readonly user: string;
  readonly session: number;
  readonly key: string;
  readonly clientIp: string;
  readonly tls: boolean;
  readonly loginAt: number;
  readonly credential: { password: string } | null;
}

/** Process → server. `live` is the last message: the process then disconnects. */
export type ProcessMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'live'; readonly socketPath: string }
  | { readonly type: 'failed'; readonly code: string; readonly message: string };

/** Any message the server sends. */
export type ServerMessage = PrepareMessage | AssignMessage;

/** True when `m` looks like a {@link ProcessMessage}. */
export function isProcessMessage(m: unknown): m is ProcessMessage {
  if (typeof m !== 'object' || m === null) return false;
  const t = (m as { type?: unknown }).type;
  return t === 'ready' || t === 'live' || t === 'failed';
}
