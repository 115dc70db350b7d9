/**
 * @module scrypt password hashes that carry their own parameters, so the cost
 * can be raised for new hashes while old ones still verify.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** scrypt cost parameters. */
export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  N: number;
  r: number;
  p: number;
  /** Derived key length in bytes. */
  keylen: number;
}

/** A stored password hash. */
export interface PasswordHash extends ScryptParams {
  algorithm: 'scrypt';
  /** base64 salt (16 bytes when made here). */
  salt: string;
  /** base64 derived key. */
  hash: string;
}

/** The cost of new hashes: 2^15 x 8 (32 MiB, tens of milliseconds per check). */
export const DEFAULT_SCRYPT: ScryptParams = { N: 32768, r: 8, p: 1, keylen: 32 };

/** Bounds a stored hash must respect, so a tampered record cannot exhaust memory. */
export function scryptParamsProblem(params: ScryptParams): string | undefined {
  const { N, r, p, keylen } = params;
  if (!Number.isInteger(N) || N < 2 || N > 2 ** 20 || (N & (N - 1)) !== 0) {
    return 'N must be a power of two up to 2^20';
  }
  if (!Number.isInteger(r) || r < 1 || r > 32) return 'r must be 1..32';
  if (!Number.isInteger(p) || p < 1 || p > 16) return 'p must be 1..16';
  if (!Number.isInteger(keylen) || keylen < 16 || keylen > 128) return 'keylen must be 16..128';
  return undefined;
}

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const { N, r, p, keylen } = params;
  // Node's default maxmem (32 MiB) is just below what N=2^15, r=8 needs.
  const maxmem = 128 * N * r * 2 + 128 * r * p + (1 << 20);
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, keylen, { N, r, p, maxmem }, (err, key) => {
      if (err === null) resolve(key);
      else reject(err);
    });
  });
}

/** Hashes `password` with a fresh random salt. */
export async function hashPassword(
  password: string,
  params: ScryptParams = DEFAULT_SCRYPT,
): Promise<PasswordHash> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, params);
  return {
    algorithm: 'scrypt',
    ...params,
    salt: salt.toString('base64'),
    hash: key.toString('base64'),
  };
}

/** True when `password` matches `stored`, compared in constant time. */
export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const expected = Buffer.from(stored.hash, 'base64');
  const key = await derive(password, Buffer.from(stored.salt, 'base64'), {
    N: stored.N,
    r: stored.r,
    p: stored.p,
    keylen: expected.length,
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
}
