import { describe, expect, it } from 'vitest';
import { redactUri } from '../../src/web/redact-uri.js';

describe('redactUri', () => {
  it('redacts the values of secret-looking query parameters only', () => {
    expect(redactUri('/ws?ws_token=abc&x=1')).toBe('/ws?ws_token=[redacted]&x=1');
    expect(redactUri('/cb?code=xyz&state=s&Password=p')).toBe(
      '/cb?code=[redacted]&state=s&Password=[redacted]',
    );
  });

  it('leaves a URI without such parameters unchanged', () => {
    expect(redactUri('/a/b?folder=INBOX&page=2')).toBe('/a/b?folder=INBOX&page=2');
    expect(redactUri('/token/path')).toBe('/token/path');
    expect(redactUri('/x?key')).toBe('/x?key');
  });
});
