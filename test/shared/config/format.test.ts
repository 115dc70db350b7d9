import { describe, expect, it } from 'vitest';
import { defaultConfig, formatConfig, loadConfigText } from '../../../src/shared/config/index.js';
import { load } from './helpers.js';

describe('formatConfig', () => {
  it('writes durations and sizes in human form and paths absolute', () => {
    const text = formatConfig(defaultConfig('/srv/vesper'));
    expect(text).toContain('\n  timeout:\n    idle: 30s\n    icons: 10s\n    session: 1m\n');
    expect(text).toContain('\n  limits:\n    request_line: 8K\n    headers: 16K\n    body: 10M\n');
    expect(text).toContain('\n  timeout_compose: 0\n');
    expect(text).toContain('\n  socket_dir: /srv/vesper/var/sockets\n');
    expect(text.startsWith('paths:\n  var: /srv/vesper/var\nlog:\n')).toBe(true);
  });

  it('writes a document that loads back to the same configuration', () => {
    const config = load(
      'session:\n  direct: { plain: { first: 9000, count: 2 } }\nfrontend:\n  limits: { body: 1000 }\naccountd:\n  tls: { port: 4443, cert: c, key: k }\n',
    );
    expect(
      loadConfigText(formatConfig(config), { file: 'printed.yaml', cwd: '/elsewhere' }),
    ).toEqual(config);
  });

  it('hides the password of redis.url', () => {
    const config = load('redis:\n  url: redis://user:s3cret@cache:6379/0\n');
    expect(config.redis.url).toBe('redis://user:s3cret@cache:6379/0');
    const text = formatConfig(config);
    expect(text).toContain('url: redis://user:***@cache:6379/0');
    expect(text).not.toContain('s3cret');
  });
});
