import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SessionCounter } from '../../../src/session/server/session-counter.js';
import { Cleanup, shortTempDir } from '../helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe('SessionCounter', () => {
  it('starts at 1, never goes below the floor, and continues after a restart', async () => {
    const path = join(cleanup.dir(shortTempDir()), 'session-number');
    const a = new SessionCounter(path);
    expect(a.next(1)).toBe(1);
    expect(a.next(1)).toBe(2);
    expect(a.next(10)).toBe(10);
    await a.flush();
    expect(readFileSync(path, 'utf8')).toBe('10\n');
    const b = new SessionCounter(path);
    expect(b.next(1)).toBe(11);
    // Written in the background: wait, so the directory's cleanup does not race it.
    await b.flush();
    expect(readFileSync(path, 'utf8')).toBe('11\n');
  });

  it('treats an unreadable file as no file, and the adopted sessions set the floor', async () => {
    const path = join(cleanup.dir(shortTempDir()), 'session-number');
    writeFileSync(path, 'garbage');
    const counter = new SessionCounter(path);
    expect(counter.next(5)).toBe(5);
    await counter.flush();
    expect(readFileSync(path, 'utf8')).toBe('5\n');
  });
});
