/**
 * @module The account store: one JSON record per user under `accounts/`,
 * written atomically and durably, one writer per user at a time, with quota
 * usage counted from the user's Maildir.
 */
import { mkdir, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import {
  createFileAtomic,
  tempFileWriterPid,
  writeFileAtomic,
} from '../../shared/fs/atomic-write.js';
import type {
  ForwardingSettings,
  QuotaStatus,
  VacationLogEntry,
  VacationSettings,
} from '../protocol/settings-text.js';
import { assertValidAccountName, isValidAccountName } from './account-name.js';
import {
  DEFAULT_VACATION,
  MAX_VACATION_LOG,
  RECORD_VERSION,
  parseAccountRecord,
  serializeAccountRecord,
  validateForwarding,
  validateFullName,
  validateQuotaLimit,
  validateVacation,
  type AccountRecord,
} from './account-record.js';
import { scanMaildir, type MaildirUsage } from './maildir-quota.js';
import {
  DEFAULT_SCRYPT,
  hashPassword,
  verifyPassword,
  type PasswordHash,
  type ScryptParams,
} from './password-hash.js';
import { assertPasswordPolicy } from './password-policy.js';
import { AccountStoreError, STORE_ERROR_CODES } from './store-errors.js';
import { processAlive, UserLocks } from './user-lock.js';

/** Options of {@link AccountStore}. */
export interface AccountStoreOptions {
  /** The directory of the records (`<paths.var>/accounts`). */
  dir: string;
  /** The directory holding one Maildir per user (`<paths.var>/mail`). */
  mailDir: string;
  /** Limits of new accounts (0 = none). */
  quotaDefaults: { bytes: number; messages: number };
  /** How long a computed quota usage is reused, ms. Default 10 s. */
  quotaCacheMs?: number;
  /** scrypt cost of new hashes. Default {@link DEFAULT_SCRYPT}. */
  scrypt?: ScryptParams;
  /** Domains at which `<user>@domain` is the user themself. Default this host's name and `localhost`. */
  localDomains?: readonly string[];
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
  /** Longest wait for another process's lock on a record, ms. Default 5 s. */
  lockTimeoutMs?: number;
}

/** Per-account choices at creation. */
export interface NewAccount {
  fullName?: string;
  quotaBytes?: number;
  quotaMessages?: number;
  /** scrypt cost for this account's hash (benchmarks use a cheap one). */
  scrypt?: ScryptParams;
}

/** One entry of {@link AccountStore.list}: the record, or why it cannot be read. */
export type AccountListing =
  { name: string; record: AccountRecord } | { name: string; error: AccountStoreError };

/**
 * Reads and writes account records. Every write replaces the whole record
 * through {@link writeFileAtomic}; writes to one user run one at a time,
 * across processes too; a record that does not parse is reported with
 * `VESPER_ACCOUNTD_RECORD_CORRUPT` and never written over.
 */
export class AccountStore {
  readonly #dir: string;
  readonly #mailDir: string;
  readonly #defaults: { bytes: number; messages: number };
  readonly #quotaCacheMs: number;
  readonly #scrypt: ScryptParams;
  readonly #localDomains: readonly string[];
  readonly #now: () => number;
  readonly #locks: UserLocks;
  readonly #quotaCache = new Map<string, { at: number; usage: Promise<MaildirUsage> }>();
  #dummyHash: Promise<PasswordHash> | undefined;

  constructor(options: AccountStoreOptions) {
    this.#dir = options.dir;
    this.#mailDir = options.mailDir;
    this.#defaults = options.quotaDefaults;
    this.#quotaCacheMs = options.quotaCacheMs ?? 10_000;
    this.#scrypt = options.scrypt ?? DEFAULT_SCRYPT;
    this.#localDomains = options.localDomains ?? [hostname(), 'localhost'];
    this.#now = options.now ?? Date.now;
    this.#locks = new UserLocks(this.#dir, options.lockTimeoutMs);
  }

  /** The directory of the records. */
  get dir(): string {
    return this.#dir;
  }

  /** The Maildir of account `name`. */
  maildirOf(name: string): string {
    return join(this.#mailDir, assertValidAccountName(name));
  }

  /**
   * Creates the records directory (0700) if needed, refuses a world-writable
   * parent, and removes temporary and lock files left by writers that died.
   * Throws {@link AccountStoreError} `VESPER_ACCOUNTD_UNSAFE_DIRECTORY` or the `fs` error.
   */
  async open(): Promise<void> {
    const parent = dirname(this.#dir);
    await mkdir(parent, { recursive: true, mode: 0o700 });
    const mode = (await stat(parent)).mode;
    if ((mode & 0o002) !== 0 && (mode & 0o1000) === 0) {
      throw new AccountStoreError(
        STORE_ERROR_CODES.unsafeDirectory,
        `${parent} is world-writable; make it 0700 before storing accounts in it`,
      );
    }
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    for (const name of await readdir(this.#dir)) {
      if (!name.startsWith('.')) continue;
      let pid: number | undefined = tempFileWriterPid(name);
      const lockTemp = /^\..+\.lock\.(\d+)\.\d+$/.exec(name);
      if (pid === undefined && lockTemp !== null) pid = Number(lockTemp[1]);
      if (pid === undefined && name.endsWith('.lock')) {
        pid = Number((await readFile(join(this.#dir, name), 'utf8').catch(() => '')).trim());
      }
      if (pid !== undefined && pid > 0 && pid !== process.pid && !processAlive(pid)) {
        await unlink(join(this.#dir, name)).catch(() => undefined);
      }
    }
  }

  #path(name: string): string {
    return join(this.#dir, `${assertValidAccountName(name)}.json`);
  }

  async #read(name: string): Promise<AccountRecord> {
    let text: string;
    try {
      text = await readFile(this.#path(name), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new AccountStoreError(STORE_ERROR_CODES.noSuchUser, `there is no account ${name}`);
      }
      throw err;
    }
    return parseAccountRecord(name, text);
  }

  /**
   * The record of `name`. Throws {@link AccountStoreError}
   * `VESPER_ACCOUNTD_INVALID_NAME`, `..._NO_SUCH_USER` or `..._RECORD_CORRUPT`.
   */
  get(name: string): Promise<AccountRecord> {
    return this.#read(name);
  }

  /** True when account `name` has a record (readable or not). */
  async exists(name: string): Promise<boolean> {
    try {
      await stat(this.#path(name));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  /** Every account name, sorted, with its record or its read error. */
  async list(): Promise<AccountListing[]> {
    let files: string[];
    try {
      files = await readdir(this.#dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const names = files
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -5))
      .filter(isValidAccountName)
      .sort();
    const out: AccountListing[] = [];
    for (const name of names) {
      try {
        out.push({ name, record: await this.#read(name) });
      } catch (err) {
        if (!(err instanceof AccountStoreError)) throw err;
        out.push({ name, error: err });
      }
    }
    return out;
  }

  /**
   * Creates account `name`. Throws {@link AccountStoreError}
   * `VESPER_ACCOUNTD_INVALID_NAME`, `..._WEAK_PASSWORD`, `..._INVALID_VALUE` or
   * `..._USER_EXISTS` (nothing is written then).
   */
  async create(name: string, password: string, options: NewAccount = {}): Promise<AccountRecord> {
    assertValidAccountName(name);
    assertPasswordPolicy(password, name);
    const fullName = validateFullName(options.fullName ?? '');
    const bytes = validateQuotaLimit(options.quotaBytes ?? this.#defaults.bytes, 'the byte quota');
    const messages = validateQuotaLimit(
      options.quotaMessages ?? this.#defaults.messages,
      'the message quota',
    );
    if (await this.exists(name)) {
      throw new AccountStoreError(STORE_ERROR_CODES.userExists, `account ${name} already exists`);
    }
    const at = new Date(this.#now()).toISOString();
    const record: AccountRecord = {
      version: RECORD_VERSION,
      name,
      password: await hashPassword(password, options.scrypt ?? this.#scrypt),
      fullName,
      quota: { bytes, messages },
      forwarding: { addresses: [], keepCopy: true },
      vacation: { ...DEFAULT_VACATION },
      vacationLog: [],
      created: at,
      updated: at,
    };
    await this.#locks.run(name, async () => {
      try {
        await createFileAtomic(this.#path(name), serializeAccountRecord(record));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
          throw new AccountStoreError(
            STORE_ERROR_CODES.userExists,
            `account ${name} already exists`,
          );
        }
        throw err;
      }
    });
    return record;
  }

  /**
   * Deletes the record of `name` (an unreadable one too; the Maildir is left).
   * Throws {@link AccountStoreError} `VESPER_ACCOUNTD_NO_SUCH_USER` or `..._INVALID_NAME`.
   */
  async delete(name: string): Promise<void> {
    const path = this.#path(name);
    await this.#locks.run(name, async () => {
      try {
        await unlink(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          throw new AccountStoreError(STORE_ERROR_CODES.noSuchUser, `there is no account ${name}`);
        }
        throw err;
      }
    });
    this.#quotaCache.delete(name);
  }

  /**
   * Reads the record of `name`, applies `change` and writes the result, all
   * under the user's lock. Throws what {@link get} throws (a corrupt record is
   * never replaced) or what `change` throws (nothing is written then).
   */
  update(name: string, change: (record: AccountRecord) => AccountRecord): Promise<AccountRecord> {
    return this.#locks.run(name, async () => {
      const current = await this.#read(name);
      const next = { ...change(current), updated: new Date(this.#now()).toISOString() };
      await writeFileAtomic(this.#path(name), serializeAccountRecord(next));
      return next;
    });
  }

  /**
   * True when `password` is the password of `name`. An unknown or invalid
   * name costs the same scrypt work and answers false, so timing does not say
   * which names exist. Throws `VESPER_ACCOUNTD_RECORD_CORRUPT` for an unreadable record.
   */
  async authenticate(name: string, password: string): Promise<boolean> {
    let record: AccountRecord | undefined;
    try {
      if (isValidAccountName(name)) record = await this.#read(name);
    } catch (err) {
      if (!(err instanceof AccountStoreError) || err.code !== STORE_ERROR_CODES.noSuchUser) {
        throw err;
      }
    }
    if (record === undefined) {
      this.#dummyHash ??= hashPassword('no such account', this.#scrypt);
      await verifyPassword(password, await this.#dummyHash);
      return false;
    }
    return verifyPassword(password, record.password);
  }

  /**
   * Sets the password of `name` after checking the policy. Throws
   * {@link AccountStoreError} `VESPER_ACCOUNTD_WEAK_PASSWORD`, or what {@link update} throws.
   */
  async setPassword(name: string, password: string): Promise<void> {
    assertPasswordPolicy(password, name);
    const hash = await hashPassword(password, this.#scrypt);
    await this.update(name, (r) => ({ ...r, password: hash }));
  }

  /** Sets the full name; throws `VESPER_ACCOUNTD_INVALID_VALUE` or what {@link update} throws. */
  async setFullName(name: string, fullName: string): Promise<void> {
    validateFullName(fullName);
    await this.update(name, (r) => ({ ...r, fullName }));
  }

  /** Sets the quota limits; throws `VESPER_ACCOUNTD_INVALID_VALUE` or what {@link update} throws. */
  async setQuotaLimits(name: string, limits: { bytes?: number; messages?: number }): Promise<void> {
    await this.update(name, (r) => ({
      ...r,
      quota: {
        bytes: validateQuotaLimit(limits.bytes ?? r.quota.bytes, 'the byte quota'),
        messages: validateQuotaLimit(limits.messages ?? r.quota.messages, 'the message quota'),
      },
    }));
  }

  /** Sets forwarding (see {@link validateForwarding}); throws `VESPER_ACCOUNTD_INVALID_VALUE`. */
  async setForwarding(name: string, settings: ForwardingSettings): Promise<ForwardingSettings> {
    const valid = validateForwarding(name, settings, this.#localDomains);
    await this.update(name, (r) => ({ ...r, forwarding: valid }));
    return valid;
  }

  /** Sets the vacation message; throws `VESPER_ACCOUNTD_INVALID_VALUE` or what {@link update} throws. */
  async setVacation(name: string, settings: VacationSettings): Promise<void> {
    const valid = validateVacation(settings);
    await this.update(name, (r) => ({ ...r, vacation: valid }));
  }

  /**
   * Records that a vacation reply went to `sender` (for the delivery agent),
   * keeping the newest {@link MAX_VACATION_LOG} entries.
   */
  async appendVacationLog(name: string, entry: VacationLogEntry): Promise<void> {
    await this.update(name, (r) => ({
      ...r,
      vacationLog: [...r.vacationLog, entry].slice(-MAX_VACATION_LOG),
    }));
  }

  /** Empties the vacation log. */
  async clearVacationLog(name: string): Promise<void> {
    await this.update(name, (r) => ({ ...r, vacationLog: [] }));
  }

  /**
   * Usage of `name`'s Maildir against its limits. Usage is recounted at most
   * once per `quotaCacheMs`; concurrent callers share one count.
   */
  async quota(name: string): Promise<QuotaStatus> {
    const record = await this.#read(name);
    const now = this.#now();
    let cached = this.#quotaCache.get(name);
    if (cached === undefined || now - cached.at >= this.#quotaCacheMs) {
      cached = { at: now, usage: scanMaildir(this.maildirOf(name)) };
      this.#quotaCache.set(name, cached);
      const entry = cached;
      entry.usage.catch(() => {
        if (this.#quotaCache.get(name) === entry) this.#quotaCache.delete(name);
      });
    }
    const usage = await cached.usage;
    return {
      bytesUsed: usage.bytes,
      bytesLimit: record.quota.bytes,
      messagesUsed: usage.messages,
      messagesLimit: record.quota.messages,
    };
  }
}
