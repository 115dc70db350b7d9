/**
 * @module The init socket's requests and replies, and the checks that turn a decoded line into a request.
 */
import { isValidUser } from '../session-identity.js';

/** A pre-authenticated identity (OpenID Connect issuer and subject). */
export interface LoginIdentity {
  readonly issuer: string;
  readonly subject: string;
}

/** `{"op":"login", ...}`: log a user in with a password or a pre-authenticated identity. */
export interface LoginRequest {
  readonly op: 'login';
  readonly user: string;
  /** Exactly one of `password` and `identity` is present. */
  readonly password?: string;
  readonly identity?: LoginIdentity;
  /** The end user's address as the frontend saw it. */
  readonly clientIp: string;
  /** Whether the client's connection to the frontend is TLS. */
  readonly tls: boolean;
  /** The frontend listener the login came in on (`127.0.0.1:8080`). */
  readonly listener: string;
}

/** `{"op":"status"}`: list the live sessions (for `vesper status`). */
export interface StatusRequest {
  readonly op: 'status';
}

/** Any request the init socket accepts. */
export type InitRequest = LoginRequest | StatusRequest;

/** The session cookie a successful login sets. */
export interface SessionCookie {
  readonly name: string;
  readonly value: string;
  readonly path: string;
  readonly httpOnly: true;
  readonly sameSite: 'Lax';
  readonly secure: boolean;
}

/** A successful login. */
export interface LoginSuccess {
  readonly ok: true;
  readonly user: string;
  readonly session: number;
  readonly key: string;
  readonly url: string;
  readonly cookie: SessionCookie;
}

/** The error codes of a refused request. */
export type InitErrorCode =
  'bad-credentials' | 'locked-out' | 'too-many-sessions' | 'unavailable' | 'bad-request';

/** A refused request. */
export interface InitFailure {
  readonly ok: false;
  readonly error: InitErrorCode;
  readonly message: string;
}

/** One live session as `status` lists it. */
export interface SessionSummary {
  readonly user: string;
  readonly session: number;
  readonly pid: number;
  readonly state: 'live' | 'dormant';
  readonly idleMs: number;
}

/** The reply to `status`. */
export interface StatusReply {
  readonly ok: true;
  readonly sessions: SessionSummary[];
  readonly spares: number;
}

/** Any reply the init socket sends. */
export type InitReply = LoginSuccess | StatusReply | InitFailure;

/** The longest password, issuer or subject accepted, in characters. */
const MAX_FIELD = 4096;

function isShortString(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_FIELD;
}

/**
 * Checks a decoded JSON value and returns it as a request, or the reason it is
 * not one (the text of a `bad-request` reply). Unknown fields are ignored.
 */
export function parseInitRequest(value: unknown): InitRequest | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'a request is a JSON object';
  }
  const v = value as Record<string, unknown>;
  if (v.op === 'status') return { op: 'status' };
  if (v.op !== 'login') return 'op must be "login" or "status"';
  if (!isValidUser(v.user)) return 'user is not a valid account name';
  if (typeof v.clientIp !== 'string' || v.clientIp.length === 0 || v.clientIp.length > 64) {
    return 'clientIp must be an address';
  }
  if (typeof v.tls !== 'boolean') return 'tls must be true or false';
  if (typeof v.listener !== 'string' || v.listener.length > 256) return 'listener must be a string';
  const hasPassword = v.password !== undefined;
  const hasIdentity = v.identity !== undefined;
  if (hasPassword === hasIdentity) return 'give exactly one of password and identity';
  const base = {
    op: 'login' as const,
    user: v.user,
    clientIp: v.clientIp,
    tls: v.tls,
    listener: v.listener,
  };
  if (hasPassword) {
    if (!isShortString(v.password)) return 'password must be a non-empty string';
    return { ...base, password: v.password };
  }
  const id = v.identity as Record<string, unknown> | null;
  if (
    typeof id !== 'object' ||
    id === null ||
    !isShortString(id.issuer) ||
    !isShortString(id.subject)
  ) {
    return 'identity must be {issuer, subject}';
  }
  return { ...base, identity: { issuer: id.issuer, subject: id.subject } };
}

/** A refusal reply. */
export function failure(error: InitErrorCode, message: string): InitFailure {
  return { ok: false, error, message };
}
