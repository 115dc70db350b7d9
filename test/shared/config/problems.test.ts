import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, defaultConfig, loadConfig } from '../../../src/shared/config/index.js';
import { isVesperError } from '../../../src/shared/errors/index.js';
import { load, problemsOf } from './helpers.js';

describe('configuration problems', () => {
  it('reads an empty file as every default', () => {
    expect(load('')).toEqual(defaultConfig('/srv/vesper'));
    expect(load('# only a comment\n')).toEqual(defaultConfig('/srv/vesper'));
  });

  it('reads a section written with nothing under it as that section with its defaults', () => {
    expect(load('session:\nfrontend:\n')).toEqual(defaultConfig('/srv/vesper'));
  });

  it('names an unknown key with its line and the nearest known key', () => {
    expect(problemsOf('session:\n  timeout: 4h\n  idel_time: 5m\n')).toEqual([
      'vesper.yaml:3: session.idel_time: unknown key (did you mean session.idle_time?)',
    ]);
  });

  it('suggests a key from another section when the key is in the wrong one', () => {
    expect(problemsOf('frontend:\n  idle_time: 5m\n')).toEqual([
      'vesper.yaml:2: frontend.idle_time: unknown key (did you mean session.idle_time?)',
    ]);
  });

  it('names an unknown key without a suggestion when nothing is close', () => {
    expect(problemsOf('frobnicate: 1\n')).toEqual(['vesper.yaml:1: frobnicate: unknown key']);
  });

  it('names an unknown key inside a list item', () => {
    expect(problemsOf('frontend:\n  listen:\n    - port: 8080\n      hots: 0.0.0.0\n')).toEqual([
      'vesper.yaml:4: frontend.listen.0.hots: unknown key (did you mean frontend.listen.0.host?)',
    ]);
  });

  it.each([
    ['log:\n  access: yes\n', "vesper.yaml:2: log.access: expected true or false, got 'yes'"],
    [
      'session:\n  spares: two\n',
      "vesper.yaml:2: session.spares: expected a whole number, got 'two'",
    ],
    [
      'session:\n  spares: 1.5\n',
      'vesper.yaml:2: session.spares: expected a whole number, got 1.5',
    ],
    ['session:\n  spares: -1\n', 'vesper.yaml:2: session.spares: must be at least 0, got -1'],
    ['session: 5\n', 'vesper.yaml:1: session: expected a map, got 5'],
    ['frontend:\n  listen: 8080\n', 'vesper.yaml:2: frontend.listen: expected a list, got 8080'],
    ['frontend:\n  listen: []\n', 'vesper.yaml:2: frontend.listen: needs at least 1 item'],
    [
      'log:\n  level: loud\n',
      "vesper.yaml:2: log.level: expected one of fatal, error, warn, info, debug, trace, silent, got 'loud'",
    ],
    [
      'session:\n  token_store: disk\n',
      "vesper.yaml:2: session.token_store: expected one of memory, redis, got 'disk'",
    ],
    ['log:\n  file: 12\n', 'vesper.yaml:2: log.file: expected a path, got 12'],
    ['log:\n  file: ""\n', "vesper.yaml:2: log.file: expected a path, got ''"],
    [
      'frontend:\n  gzip_deny_nets: [10.0.0.0/33]\n',
      "vesper.yaml:2: frontend.gzip_deny_nets.0: '10.0.0.0/33' is not a CIDR block such as 10.0.0.0/8 or ::/0",
    ],
    [
      'frontend:\n  listen:\n    - { port: 80, host: "bad host" }\n',
      "vesper.yaml:3: frontend.listen.0.host: expected an IP address or host name, got 'bad host'",
    ],
    [
      'session:\n  app: Account!\n',
      "vesper.yaml:2: session.app: expected an application name (lower-case letters, digits and -) or an absolute path to a .js module, got 'Account!'",
    ],
    [
      'redis:\n  url: http://h\n',
      'vesper.yaml:2: redis.url: expected a redis:// or rediss:// URL with a host',
    ],
    [
      'accountd:\n  server: nowhere\n',
      "vesper.yaml:2: accountd.server: expected unix:/path/to/socket or host:port, got 'nowhere'",
    ],
    [
      'accountd:\n  server: h:0\n',
      'vesper.yaml:2: accountd.server: port must be between 1 and 65535, got 0',
    ],
  ])('reports a value of the wrong type or range: %j', (text, line) => {
    expect(problemsOf(text)).toEqual([line]);
  });

  it('reports a bad duration with the forms it accepts', () => {
    expect(problemsOf('session:\n  timeout: 10 minutes\n')).toEqual([
      "vesper.yaml:2: session.timeout: '10 minutes' is not a duration; write a whole number and one unit: 500ms, 30s, 10m, 4h, 7d, or 0",
    ]);
  });

  it('refuses 0 for a duration that must be positive, and a timer past 24 days', () => {
    expect(problemsOf('session:\n  timeout: 0\n  ws_token_ttl: 30d\n')).toEqual([
      'vesper.yaml:2: session.timeout: must be longer than 0',
      'vesper.yaml:3: session.ws_token_ttl: must be at most 2147483647ms (about 24 days), got 30d',
    ]);
  });

  it('accepts 0 where it means off', () => {
    expect(load('session:\n  idle_time: 0\n  timeout_compose: 0\n').session.idle_time).toBe(0);
  });

  it('reports a bad size with the forms it accepts', () => {
    expect(problemsOf('frontend:\n  limits:\n    body: 10 MB\n')).toEqual([
      "vesper.yaml:3: frontend.limits.body: '10 MB' is not a size; write a whole number of bytes, optionally followed by K, M or G: 512, 16K, 10M, 1G",
    ]);
  });

  it('reports a port outside 1..65535 and session.key_bytes below 16', () => {
    expect(
      problemsOf(
        'frontend:\n  listen:\n    - port: 70000\n    - port: 0\nsession:\n  key_bytes: 12\n',
      ),
    ).toEqual([
      'vesper.yaml:3: frontend.listen.0.port: must be between 1 and 65535, got 70000',
      'vesper.yaml:4: frontend.listen.1.port: must be between 1 and 65535, got 0',
      'vesper.yaml:6: session.key_bytes: must be between 16 and 64, got 12',
    ]);
  });

  it('reports a required key left out at the line of its map', () => {
    expect(problemsOf('accountd:\n  tls:\n    port: 4443\n    cert: c.pem\n')).toEqual([
      'vesper.yaml:2: accountd.tls.key: is required',
    ]);
    expect(problemsOf('frontend:\n  listen:\n    - host: 0.0.0.0\n')).toEqual([
      'vesper.yaml:3: frontend.listen.0.port: is required',
    ]);
  });

  it('reports every problem at once, in file order', () => {
    const text = [
      'frobnicate: true', // 1
      'session:', // 2
      '  timeout: soon', // 3
      '  key_bytes: 8', // 4
      'log:', // 5
      '  level: loud', // 6
      'tls:', // 7
      '  cert: /etc/cert.pem', // 8
      '',
    ].join('\n');
    expect(problemsOf(text)).toEqual([
      'vesper.yaml:1: frobnicate: unknown key',
      "vesper.yaml:3: session.timeout: 'soon' is not a duration; write a whole number and one unit: 500ms, 30s, 10m, 4h, 7d, or 0",
      'vesper.yaml:4: session.key_bytes: must be between 16 and 64, got 8',
      "vesper.yaml:6: log.level: expected one of fatal, error, warn, info, debug, trace, silent, got 'loud'",
      'vesper.yaml:8: tls.cert: is set but tls.key is not; set both, or neither for a self-signed pair',
    ]);
  });

  it('reports invalid YAML at its line', () => {
    expect(problemsOf('session:\n  timeout: [4h\nlog: {}\n')).toEqual([
      'vesper.yaml:3: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
  });

  it('reports a duplicate key', () => {
    expect(problemsOf('session:\n  timeout: 4h\n  timeout: 5h\n')).toEqual([
      'vesper.yaml:3: invalid YAML: Map keys must be unique',
    ]);
  });

  it('reports a document that is not a map', () => {
    expect(problemsOf('- 1\n- 2\n')).toEqual([
      'vesper.yaml:1: expected a map of sections (paths:, log:, frontend:, tls:, session:, accountd:, redis:)',
    ]);
  });

  it('reports an alias that refers to itself instead of looping', () => {
    expect(problemsOf('frontend:\n  gzip_deny_nets: &a [*a]\n')).toEqual([
      'vesper.yaml:2: frontend.gzip_deny_nets.0: an alias may not refer to itself',
    ]);
  });

  it('reads anchors and aliases', () => {
    const config = load(
      'frontend:\n  gzip_allow_nets: &nets [10.0.0.0/8]\n  gzip_deny_nets: *nets\n',
    );
    expect(config.frontend.gzip_deny_nets).toEqual(['10.0.0.0/8']);
  });

  it('throws a ConfigError with code VESPER_CONFIG_INVALID and structured problems', () => {
    let thrown: unknown;
    try {
      load('session:\n  key_bytes: 8\n');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect(isVesperError(thrown, 'VESPER_CONFIG_INVALID')).toBe(true);
    expect((thrown as ConfigError).problems).toEqual([
      {
        file: 'vesper.yaml',
        line: 2,
        key: 'session.key_bytes',
        message: 'must be between 16 and 64, got 8',
      },
    ]);
  });
});

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vesper-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names a missing file clearly, as given', () => {
    expect(() => loadConfig({ file: 'nope.yaml', cwd: dir })).toThrow(
      new ConfigError([
        {
          file: 'nope.yaml',
          line: undefined,
          key: '',
          message: 'cannot read the configuration file: no such file',
        },
      ]),
    );
    expect(() => loadConfig({ file: 'nope.yaml', cwd: dir })).toThrow(
      'nope.yaml: cannot read the configuration file: no such file',
    );
  });

  it('names a directory given as the file', () => {
    expect(() => loadConfig({ file: '.', cwd: dir })).toThrow(
      '.: cannot read the configuration file: it is a directory, not a file',
    );
  });

  it('reads config/vesper.yaml under cwd by default', () => {
    const configDir = join(dir, 'config');
    rmSync(configDir, { recursive: true, force: true });
    writeFileSync(join(dir, 'x'), '');
    mkdirp(configDir);
    writeFileSync(join(configDir, 'vesper.yaml'), 'session:\n  spares: 7\n');
    expect(loadConfig({ cwd: dir }).session.spares).toBe(7);
    writeFileSync(join(configDir, 'vesper.yaml'), 'session:\n  spares: x\n');
    expect(() => loadConfig({ cwd: dir })).toThrow(
      "config/vesper.yaml:2: session.spares: expected a whole number, got 'x'",
    );
  });

  it('returns a deeply frozen configuration', () => {
    const config = load('');
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.frontend.listen)).toBe(true);
    expect(Object.isFrozen(config.frontend.listen[0])).toBe(true);
    expect(Object.isFrozen(config.frontend.timeout)).toBe(true);
    expect(() => {
      (config.session as { timeout: number }).timeout = 1;
    }).toThrow(TypeError);
  });
});

function mkdirp(path: string): void {
  mkdirSync(path, { recursive: true });
}
