import { describe, expect, it } from 'vitest';
import { parseConfigArgs } from '../../../src/shared/config/index.js';
import { isVesperError } from '../../../src/shared/errors/index.js';
import { load, problemsOf } from './helpers.js';

describe('--config-option overrides', () => {
  it('sets a nested scalar, parsed as YAML, over the file', () => {
    const config = load('session:\n  timeout: 4h\n', [
      'session.timeout=2h',
      'session.use_cookie=false',
    ]);
    expect(config.session.timeout).toBe(7_200_000);
    expect(config.session.use_cookie).toBe(false);
  });

  it('lets a later option win over an earlier one', () => {
    expect(load('', ['session.spares=3', 'session.spares=5']).session.spares).toBe(5);
  });

  it('replaces a whole list with a YAML list value', () => {
    const config = load('', [
      'frontend.listen=[{port: 9090}, {port: 9443, tls: true, host: 0.0.0.0}]',
    ]);
    expect(config.frontend.listen).toEqual([
      { port: 9090, host: '127.0.0.1', tls: false },
      { port: 9443, host: '0.0.0.0', tls: true },
    ]);
    expect(
      load('', ['frontend.gzip_deny_nets=[10.0.0.0/8, "::1"]']).frontend.gzip_deny_nets,
    ).toEqual(['10.0.0.0/8', '::1/128']);
  });

  it('sets one item of a list, from the file or from the defaults', () => {
    expect(load('', ['frontend.listen.0.port=9090']).frontend.listen).toEqual([
      { port: 9090, host: '127.0.0.1', tls: false },
      { port: 8443, host: '127.0.0.1', tls: true },
    ]);
    expect(
      load('frontend:\n  listen:\n    - port: 80\n', ['frontend.listen.0.host=0.0.0.0']).frontend
        .listen,
    ).toEqual([{ port: 80, host: '0.0.0.0', tls: false }]);
  });

  it('sets a map value, replacing the map', () => {
    const config = load('', ['session.direct={plain: {first: 9000, count: 10}}']);
    expect(config.session.direct).toEqual({ plain: { first: 9000, count: 10 }, tls: null });
  });

  it('creates the maps on the way to a key under a null map', () => {
    const config = load('session:\n  direct: null\n', [
      'session.direct.tls.first=9100',
      'session.direct.tls.count=4',
    ]);
    expect(config.session.direct).toEqual({ plain: null, tls: { first: 9100, count: 4 } });
  });

  it('sets a value to null with an empty VALUE or null', () => {
    expect(load('log:\n  file: v.log\n', ['log.file=']).log.file).toBeNull();
    expect(load('log:\n  file: v.log\n', ['log.file=null']).log.file).toBeNull();
  });

  it('keeps everything after the first = in VALUE', () => {
    expect(
      load('', ['redis.url=redis://h:6379/0?a=b', 'session.token_store=redis']).redis.url,
    ).toBe('redis://h:6379/0?a=b');
  });

  it('reports an unknown key path as --config-option:N with a suggestion', () => {
    expect(problemsOf('', ['session.spares=1', 'session.idel_time=5m', 'nothing.here=1'])).toEqual([
      '--config-option:2: session.idel_time: unknown key (did you mean session.idle_time?)',
      '--config-option:3: nothing.here: unknown key',
    ]);
  });

  it('reports a key path below a scalar as unknown', () => {
    expect(problemsOf('', ['session.timeout.hours=4'])).toEqual([
      '--config-option:1: session.timeout.hours: unknown key',
    ]);
  });

  it('reports a list item that does not exist', () => {
    expect(problemsOf('', ['frontend.listen.2.port=1'])).toEqual([
      '--config-option:1: frontend.listen.2.port: frontend.listen has 2 items, so there is no item 2',
    ]);
  });

  it('reports a malformed option', () => {
    expect(problemsOf('', ['session.timeout', '=4h', 'a..b=1'])).toEqual([
      "--config-option:1: expected KEY.PATH=VALUE (e.g. session.timeout=2h), got 'session.timeout'",
      "--config-option:2: expected KEY.PATH=VALUE (e.g. session.timeout=2h), got '=4h'",
      "--config-option:3: expected KEY.PATH=VALUE (e.g. session.timeout=2h), got 'a..b=1'",
    ]);
  });

  it('reports a VALUE that is not YAML', () => {
    expect(problemsOf('', ['frontend.listen=[{port: 1}'])).toEqual([
      '--config-option:1: frontend.listen: invalid YAML: Flow sequence must end with a ]',
    ]);
  });

  it('reports a wrong value from an option at the option, with the file problems first', () => {
    expect(
      problemsOf('log:\n  level: loud\n', ['session.spares=-2', 'session.timeout=10 minutes']),
    ).toEqual([
      "vesper.yaml:2: log.level: expected one of fatal, error, warn, info, debug, trace, silent, got 'loud'",
      '--config-option:1: session.spares: must be at least 0, got -2',
      "--config-option:2: session.timeout: '10 minutes' is not a duration; write a whole number and one unit: 500ms, 30s, 10m, 4h, 7d, or 0",
    ]);
  });

  it('reports the file problems too when an option is malformed', () => {
    expect(problemsOf('session:\n  spares: x\n', ['bad'])).toEqual([
      "vesper.yaml:2: session.spares: expected a whole number, got 'x'",
      "--config-option:1: expected KEY.PATH=VALUE (e.g. session.timeout=2h), got 'bad'",
    ]);
  });

  it('reports a problem inside a map VALUE at the option', () => {
    expect(problemsOf('', ['session.direct={plain: {first: 9000}}'])).toEqual([
      '--config-option:1: session.direct.plain.count: is required',
    ]);
  });

  it('leaves the file values intact when an option fails', () => {
    expect(problemsOf('session:\n  spares: 3\n', ['session.spares=[1'])).toHaveLength(1);
    expect(load('session:\n  spares: 3\n', []).session.spares).toBe(3);
  });
});

describe('parseConfigArgs', () => {
  it('pulls out --config and repeated --config-option in both spellings', () => {
    expect(
      parseConfigArgs([
        'start',
        '--config',
        'a.yaml',
        '--config-option',
        'session.spares=1',
        '--config-option=log.level=debug',
        '-v',
      ]),
    ).toEqual({
      file: 'a.yaml',
      options: ['session.spares=1', 'log.level=debug'],
      rest: ['start', '-v'],
    });
    expect(parseConfigArgs(['--config=b.yaml'])).toEqual({ file: 'b.yaml', options: [], rest: [] });
  });

  it('leaves everything from -- on alone', () => {
    expect(parseConfigArgs(['x', '--', '--config', 'c.yaml'])).toEqual({
      file: undefined,
      options: [],
      rest: ['x', '--', '--config', 'c.yaml'],
    });
  });

  it.each([
    [['--config'], '--config needs a value'],
    [['--config-option'], '--config-option needs a value'],
    [['--config='], '--config needs a file name'],
    [['--config', 'a', '--config', 'b'], '--config may be given only once'],
  ])('refuses %j as a usage error', (args, message) => {
    let thrown: unknown;
    try {
      parseConfigArgs(args);
    } catch (err) {
      thrown = err;
    }
    expect(isVesperError(thrown, 'VESPER_CONFIG_USAGE')).toBe(true);
    expect((thrown as Error).message).toBe(message);
  });
});
