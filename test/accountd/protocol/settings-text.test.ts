import { describe, expect, it } from 'vitest';
import {
  formatForwarding,
  formatVacation,
  formatVacationLog,
  parseForwarding,
  parseVacation,
  parseVacationLog,
} from '../../../src/accountd/protocol/settings-text.js';

describe('settings texts', () => {
  it('formats and parses forwarding settings', () => {
    const text = formatForwarding({
      addresses: ['a@example.org', 'b@example.net'],
      keepCopy: false,
    });
    expect(text).toBe('keep-copy: no\nforward: a@example.org\nforward: b@example.net\n');
    expect(parseForwarding(text)).toEqual({
      addresses: ['a@example.org', 'b@example.net'],
      keepCopy: false,
    });
    expect(parseForwarding('keep-copy: yes\r\n')).toEqual({ addresses: [], keepCopy: true });
  });

  it('refuses forwarding text with a missing, repeated or unknown line', () => {
    for (const bad of [
      'forward: a@b.c\n',
      'keep-copy: yes\nkeep-copy: no\n',
      'keep-copy: maybe\n',
      'keep-copy: yes\nx: 1\n',
      'junk',
    ]) {
      expect(() => parseForwarding(bad)).toThrow(
        expect.objectContaining({ code: 'VESPER_ACCOUNTD_SETTINGS_MALFORMED' }),
      );
    }
  });

  it('formats and parses vacation settings with a multi-line body', () => {
    const v = {
      enabled: true,
      subject: 'Away: back Monday',
      body: 'Hello,\n\nI am away.\n',
      days: 7,
    };
    const text = formatVacation(v);
    expect(text).toBe(
      'enabled: yes\ndays: 7\nsubject: Away: back Monday\n\nHello,\n\nI am away.\n',
    );
    expect(parseVacation(text)).toEqual(v);
  });

  it('refuses vacation text without every header or with a bad days value', () => {
    for (const bad of [
      'enabled: yes\ndays: 7\n',
      'enabled: yes\ndays: x\nsubject: s\n',
      'enabled: yes\ndays: 1\nsubject: s\nfoo: 1\n',
    ]) {
      expect(() => parseVacation(bad)).toThrow(
        expect.objectContaining({ code: 'VESPER_ACCOUNTD_SETTINGS_MALFORMED' }),
      );
    }
  });

  it('formats and parses the vacation log', () => {
    const log = [{ at: '2026-12-01T10:00:00.000Z', sender: 'x@example.org' }];
    expect(formatVacationLog(log)).toBe('2026-12-01T10:00:00.000Z x@example.org\n');
    expect(parseVacationLog(formatVacationLog(log))).toEqual(log);
    expect(parseVacationLog('')).toEqual([]);
  });
});
