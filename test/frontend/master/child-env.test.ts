import { describe, expect, it } from 'vitest';
import { CHILD_ENV_KEYS, clusterEnv, minimalEnv } from '../../../src/frontend/master/child-env.js';

const SOURCE = {
  PATH: '/usr/bin',
  LANG: 'C.UTF-8',
  NODE_EXTRA_CA_CERTS: '/etc/ca.pem',
  NODE_OPTIONS: '--inspect',
  SECRET_TOKEN: 'x',
};

describe('child environments', () => {
  it('passes only PATH, NODE_ENV, TZ and LANG', () => {
    expect(CHILD_ENV_KEYS).toEqual(['PATH', 'NODE_ENV', 'TZ', 'LANG']);
    expect(minimalEnv(SOURCE)).toEqual({ PATH: '/usr/bin', LANG: 'C.UTF-8' });
    expect(minimalEnv(SOURCE, { EXTRA: '1' })).toEqual({
      PATH: '/usr/bin',
      LANG: 'C.UTF-8',
      EXTRA: '1',
    });
  });

  it('masks every other variable of the master with undefined for cluster.fork', () => {
    expect(clusterEnv(SOURCE)).toEqual({
      PATH: '/usr/bin',
      LANG: 'C.UTF-8',
      NODE_EXTRA_CA_CERTS: undefined,
      NODE_OPTIONS: undefined,
      SECRET_TOKEN: undefined,
    });
  });
});
