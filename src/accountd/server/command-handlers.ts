/**
 * @module The accountd commands: each takes the decoded tokens of one
 * message and the connection's state, and returns the reply bytes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isVesperError } from '../../shared/errors/index.js';
import type { Logger } from '../../shared/log/index.js';
import { badReply, noReply, okReply, type ReplyCode } from '../protocol/reply.js';
import {
  formatForwarding,
  formatVacation,
  formatVacationLog,
  parseForwarding,
  parseVacation,
} from '../protocol/settings-text.js';
import type { AccountStore } from '../store/account-store.js';
import { AccountStoreError, STORE_ERROR_CODES } from '../store/store-errors.js';
import type { LoginThrottle } from './login-throttle.js';

/** What a command may read and change about its connection. */
export interface CommandContext {
  readonly store: AccountStore;
  readonly throttle: LoginThrottle;
  readonly log: Logger;
  /** The client as logs name it: a TCP address, or `local` for the Unix socket. */
  readonly peer: string;
  /**
   * True for local (Unix socket) and certificate-authenticated clients, which
   * may name the end user's address in `LOGIN` for per-address throttling.
   */
  readonly trusted: boolean;
  /** The logged-in user, once `LOGIN` succeeded. */
  user: string | undefined;
}

/** A command's reply, and whether the connection ends after it. */
export interface CommandResult {
  reply: Buffer;
  close?: boolean;
}

type Handler = (ctx: CommandContext & { user: string }, args: string[]) => Promise<CommandResult>;

const ok = (data: string[] = [], literals: number[] = []): CommandResult => ({
  reply: okReply(data, literals),
});

const STORE_TO_REPLY: Record<string, ReplyCode> = {
  [STORE_ERROR_CODES.weakPassword]: 'WEAK',
  [STORE_ERROR_CODES.invalidValue]: 'INVALID',
  [STORE_ERROR_CODES.invalidName]: 'INVALID',
  [STORE_ERROR_CODES.noSuchUser]: 'INVALID',
  [STORE_ERROR_CODES.recordCorrupt]: 'CORRUPT',
  [STORE_ERROR_CODES.lockTimeout]: 'UNAVAILABLE',
};

/** Turns an error thrown by a handler into a reply; unexpected ones are logged. */
function replyForError(ctx: CommandContext, err: unknown): CommandResult {
  if (isVesperError(err, 'VESPER_ACCOUNTD_SETTINGS_MALFORMED')) {
    return { reply: badReply('SYNTAX', err.message) };
  }
  if (err instanceof AccountStoreError) {
    const code = STORE_TO_REPLY[err.code] ?? 'UNAVAILABLE';
    if (code === 'CORRUPT') {
      ctx.log.error(
        { user: ctx.user, err: err.message },
        `The account record of ${ctx.user ?? 'a user'} cannot be read; it is kept for inspection`,
      );
      return { reply: noReply(code, 'the account record cannot be read; ask an administrator') };
    }
    if (code === 'UNAVAILABLE') ctx.log.warn({ user: ctx.user, err: err.message }, err.message);
    if (err.code === STORE_ERROR_CODES.noSuchUser) {
      return { reply: noReply(code, 'the account no longer exists') };
    }
    return { reply: noReply(code, err.message) };
  }
  ctx.log.error({ user: ctx.user, err }, 'An account operation failed on the store');
  return { reply: noReply('UNAVAILABLE', 'the account store failed; try again later') };
}

function usage(text: string): CommandResult {
  return { reply: badReply('SYNTAX', `usage: ${text}`) };
}

async function login(ctx: CommandContext, args: string[]): Promise<CommandResult> {
  if (args.length < 2 || args.length > 3) return usage('LOGIN user password [client-address]');
  // A new LOGIN ends the previous one whatever its outcome, so that one
  // connection can check the credentials of many users in turn.
  ctx.user = undefined;
  const [user, password, declared] = args as [string, string, string | undefined];
  // Only trusted clients speak for an end user's address; others are their own address.
  const address = ctx.trusted ? declared : ctx.peer;
  const fields = { event: 'login', user, client: address ?? ctx.peer };
  const verdict = ctx.throttle.check(user, address);
  if (verdict.locked !== undefined) {
    const until = new Date(verdict.locked.until).toISOString();
    ctx.log.warn(
      { ...fields, outcome: 'locked', lockedBy: verdict.locked.by, until },
      `Login refused for ${user}: the ${verdict.locked.by} is locked out until ${until}`,
    );
    return { reply: noReply('LOCKED', 'too many failed logins; try again later') };
  }
  let good: boolean;
  try {
    good = await ctx.store.authenticate(user, password);
  } catch (err) {
    return replyForError({ ...ctx, user }, err);
  }
  if (good) {
    ctx.throttle.recordSuccess(user);
    ctx.user = user;
    ctx.log.info({ ...fields, outcome: 'success' }, `Login succeeded for ${user}`);
    return ok();
  }
  const failure = ctx.throttle.recordFailure(user, address);
  ctx.log.warn({ ...fields, outcome: 'failure' }, `Login failed for ${user}`);
  for (const by of failure.lockedNow) {
    ctx.log.warn(
      { ...fields, outcome: 'lockout', lockedBy: by },
      `Too many failed logins: the ${by} ${by === 'user' ? user : fields.client} is locked out`,
    );
  }
  await sleep(failure.delayMs);
  return { reply: noReply('AUTH', 'wrong user name or password') };
}

const HANDLERS: Record<string, Handler> = {
  async PASSWORD(ctx, args) {
    if (args.length !== 2) return usage('PASSWORD old new');
    const [old, next] = args as [string, string];
    if (!(await ctx.store.authenticate(ctx.user, old))) {
      const failure = ctx.throttle.recordFailure(ctx.user, ctx.trusted ? undefined : ctx.peer);
      ctx.log.warn(
        { event: 'password', user: ctx.user, client: ctx.peer, outcome: 'failure' },
        `Password change refused for ${ctx.user}: the old password is wrong`,
      );
      await sleep(failure.delayMs);
      return { reply: noReply('AUTH', 'the old password is wrong') };
    }
    await ctx.store.setPassword(ctx.user, next);
    ctx.log.info(
      { event: 'password', user: ctx.user, client: ctx.peer, outcome: 'success' },
      `Password changed for ${ctx.user}`,
    );
    return ok();
  },
  async FULLNAME(ctx, args) {
    if (args.length === 0) return ok([(await ctx.store.get(ctx.user)).fullName]);
    if (args.length !== 1) return usage('FULLNAME [name]');
    await ctx.store.setFullName(ctx.user, args[0]!);
    return ok();
  },
  async QUOTA(ctx, args) {
    if (args.length !== 0) return usage('QUOTA');
    const q = await ctx.store.quota(ctx.user);
    return ok([q.bytesUsed, q.bytesLimit, q.messagesUsed, q.messagesLimit].map(String));
  },
  async MAILSTATUS(ctx, args) {
    if (args.length !== 0) return usage('MAILSTATUS');
    return ok([formatForwarding((await ctx.store.get(ctx.user)).forwarding)], [0]);
  },
  async MAILCHANGE(ctx, args) {
    if (args.length !== 1) return usage('MAILCHANGE {n} settings');
    await ctx.store.setForwarding(ctx.user, parseForwarding(args[0]!));
    return ok();
  },
  async VACATION(ctx, args) {
    if (args.length !== 0) return usage('VACATION');
    return ok([formatVacation((await ctx.store.get(ctx.user)).vacation)], [0]);
  },
  async VACATIONCHANGE(ctx, args) {
    if (args.length !== 1) return usage('VACATIONCHANGE {n} settings');
    await ctx.store.setVacation(ctx.user, parseVacation(args[0]!));
    return ok();
  },
  async VACLOG(ctx, args) {
    if (args.length !== 0) return usage('VACLOG');
    return ok([formatVacationLog((await ctx.store.get(ctx.user)).vacationLog)], [0]);
  },
  async VACLOGCLEAR(ctx, args) {
    if (args.length !== 0) return usage('VACLOGCLEAR');
    await ctx.store.clearVacationLog(ctx.user);
    return ok();
  },
};

/** Every command name the server knows. */
export const COMMAND_NAMES: readonly string[] = [
  'LOGIN',
  'LOGOUT',
  'NOOP',
  ...Object.keys(HANDLERS),
];

/**
 * Runs one command (its name is case-insensitive). Never throws: every
 * failure becomes a `NO` or `BAD` reply.
 */
export async function runCommand(ctx: CommandContext, tokens: string[]): Promise<CommandResult> {
  const [rawName, ...args] = tokens as [string, ...string[]];
  const name = rawName.toUpperCase();
  if (name === 'NOOP') return args.length === 0 ? ok() : usage('NOOP');
  if (name === 'LOGOUT') return args.length === 0 ? { ...ok(), close: true } : usage('LOGOUT');
  if (name === 'LOGIN') return login(ctx, args);
  const handler = Object.hasOwn(HANDLERS, name) ? HANDLERS[name] : undefined;
  if (handler === undefined) {
    return { reply: badReply('UNKNOWN', `unknown command ${rawName.slice(0, 32)}`) };
  }
  const user = ctx.user;
  if (user === undefined) return { reply: badReply('NOTAUTH', `${name} needs LOGIN first`) };
  try {
    return await handler({ ...ctx, user }, args);
  } catch (err) {
    return replyForError(ctx, err);
  }
}
