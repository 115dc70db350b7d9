import { describe, expect, it } from 'vitest';
import { AccountEventBus, type AccountEvent } from '../../../src/apps/account/event-bus.js';
import { formatBytes, formatDuration, asSentence } from '../../../src/apps/account/format.js';
import { parseForwardingForm } from '../../../src/apps/account/forwarding-handler.js';
import { parseVacationForm } from '../../../src/apps/account/vacation-handler.js';

describe('AccountEventBus', () => {
  it('delivers to every subscriber in order, even after one throws, with the time stamp', () => {
    const bus = new AccountEventBus(() => 42);
    const seen: string[] = [];
    bus.subscribe(() => {
      throw new Error('closing socket');
    });
    bus.subscribe((e, at) => seen.push(`a:${e.type}:${at}`));
    bus.subscribe((e) => seen.push(`b:${e.type}`));
    const event: AccountEvent = { type: 'password-changed' };
    bus.publish(event);
    expect(seen).toEqual(['a:password-changed:42', 'b:password-changed']);
  });

  it('removes a subscriber once, even when the same function was subscribed twice', () => {
    const bus = new AccountEventBus();
    let n = 0;
    const listener = (): void => {
      n++;
    };
    const off1 = bus.subscribe(listener);
    bus.subscribe(listener);
    expect(bus.size).toBe(2);
    off1();
    off1();
    expect(bus.size).toBe(1);
    bus.publish({ type: 'vacation-log-cleared' });
    expect(n).toBe(1);
    bus.clear();
    expect(bus.size).toBe(0);
  });
});

describe('form parsing', () => {
  it('splits forwarding addresses on any line end and drops blank lines', () => {
    expect(parseForwardingForm('a@x.org\r\n\r\n b@y.org \rc@z.org\n', false)).toEqual({
      settings: { addresses: ['a@x.org', 'b@y.org', 'c@z.org'], keepCopy: false },
    });
    expect(parseForwardingForm('', true)).toEqual({ settings: { addresses: [], keepCopy: true } });
    expect(parseForwardingForm('a@x.org b@y.org', true)).toEqual({
      error: '"a@x.org b@y.org" is not a mail address: put one address on each line.',
    });
    expect(parseForwardingForm('a@x.org\n'.repeat(101), true)).toEqual({
      error: 'Give at most 100 lines.',
    });
  });

  it('accepts days 1 to 365 only, as digits', () => {
    const form = { enabled: false, subject: 's', body: 'a\r\nb\rc', days: '365' };
    expect(parseVacationForm(form)).toEqual({
      settings: { enabled: false, subject: 's', body: 'a\nb\nc', days: 365 },
    });
    for (const days of ['0', '366', '1e2', '-1', '7.5', ' 7', '0x10', '']) {
      expect(parseVacationForm({ ...form, days }), days).toHaveProperty('error');
    }
  });
});

describe('formatting', () => {
  it('writes sizes, durations and sentences for people', () => {
    expect(formatBytes(0)).toBe('0 bytes');
    expect(formatBytes(1)).toBe('1 byte');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(1_000_000)).toBe('977 KiB');
    expect(formatBytes(5 * 1024 ** 3)).toBe('5 GiB');
    expect(formatDuration(0)).toBe('never');
    expect(formatDuration(900_000)).toBe('15 minutes');
    expect(formatDuration(3_600_000)).toBe('1 hour');
    expect(formatDuration(1500)).toBe('1500 ms');
    expect(asSentence('the thing')).toBe('The thing.');
    expect(asSentence('Done!')).toBe('Done!');
  });
});
