import { describe, expect, it } from 'vitest';
import { VesperError, isVesperError } from '../../../src/shared/errors/index.js';

describe('VesperError', () => {
  it('carries a stable code, an http status and its cause', () => {
    const cause = new Error('disk full');
    const err = new VesperError('VESPER_STORE_WRITE', 'could not save the account', {
      httpStatus: 503,
      cause,
    });
    expect(err.code).toBe('VESPER_STORE_WRITE');
    expect(err.httpStatus).toBe(503);
    expect(err.closeCode).toBeUndefined();
    expect(err.cause).toBe(cause);
    expect(err.name).toBe('VesperError');
  });

  it('crosses a process boundary as {code, message}', () => {
    const err = new VesperError('VESPER_X', 'something happened', { cause: new Error('secret') });
    expect(JSON.parse(JSON.stringify(err))).toEqual({
      code: 'VESPER_X',
      message: 'something happened',
    });
  });

  it('names subclasses after themselves and matches codes', () => {
    class ConfigError extends VesperError {}
    const err = new ConfigError('VESPER_CONFIG_INVALID', 'bad');
    expect(err.name).toBe('ConfigError');
    expect(isVesperError(err)).toBe(true);
    expect(isVesperError(err, 'VESPER_CONFIG_INVALID')).toBe(true);
    expect(isVesperError(err, 'OTHER')).toBe(false);
    expect(isVesperError(new Error('x'))).toBe(false);
  });
});
