import { describe, expect, it } from 'vitest';
import { formatSize, parseSize } from '../../../src/shared/config/size.js';

describe('parseSize', () => {
  it.each([
    ['512', 512],
    [512, 512],
    [0, 0],
    ['16K', 16 * 1024],
    ['16k', 16 * 1024],
    ['16KB', 16 * 1024],
    ['10M', 10 * 1024 * 1024],
    ['10MB', 10 * 1024 * 1024],
    ['10mb', 10 * 1024 * 1024],
    ['1G', 1024 ** 3],
    ['512B', 512],
  ])('reads %j as %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(['10 M', '1.5M', '-1K', '10T', 'K', '', '10KiB', 'ten'])('refuses %j', (text) => {
    expect(parseSize(text)).toEqual({
      error: `'${text}' is not a size; write a whole number of bytes, optionally followed by K, M or G: 512, 16K, 10M, 1G`,
    });
  });

  it('refuses negative and fractional numbers of bytes', () => {
    expect(parseSize(-1)).toEqual({
      error: 'expected a whole number of bytes or a size such as 16K, got -1',
    });
    expect(parseSize(1.5)).toEqual({
      error: 'expected a whole number of bytes or a size such as 16K, got 1.5',
    });
  });

  it('refuses values that are not strings or numbers', () => {
    expect(parseSize(false)).toEqual({ error: 'expected a size such as 16K or 10M, got false' });
  });
});

describe('formatSize', () => {
  it.each([
    [0, '0'],
    [1000, '1000'],
    [16 * 1024, '16K'],
    [1536 * 1024, '1536K'],
    [10 * 1024 * 1024, '10M'],
    [2 * 1024 ** 3, '2G'],
  ])('writes %d bytes as %s', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
  });
});
