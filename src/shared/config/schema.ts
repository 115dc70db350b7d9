/**
 * @module Every configuration key with its default and its check: the single source of truth for `VesperConfig`.
 */
import { list, nullable, object } from './field.js';
import type { Field } from './field.js';
import type { VesperConfig } from './types.js';
import {
  accountdServer,
  appName,
  bool,
  cidr,
  duration,
  host,
  int,
  oneOf,
  path,
  port,
  redisUrl,
  size,
  varPath,
} from './values.js';

const portRange = object({ first: port(), count: int({ min: 1, max: 65535 }) });

/**
 * The schema of the whole configuration. Its type ties it to
 * {@link VesperConfig}: a key missing here, or of another type, does not compile.
 */
export const CONFIG_SCHEMA: Field<VesperConfig> = object<VesperConfig>({
  paths: object({ var: varPath('var/') }),
  log: object({
    level: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
    file: nullable(path()),
    access: bool(true),
  }),
  frontend: object({
    listen: list(object({ port: port(), host: host('127.0.0.1'), tls: bool(false) }), {
      default: [
        { port: 8080, host: '127.0.0.1', tls: false },
        { port: 8443, host: '127.0.0.1', tls: true },
      ],
      min: 1,
    }),
    min_servers: int({ default: 2, min: 1 }),
    min_spare: int({ default: 4, min: 0 }),
    max_servers: int({ default: 64, min: 1 }),
    max_connections_per_child: int({ default: 0, min: 0 }),
    max_requests_per_connection: int({ default: 100, min: 1 }),
    timeout: object({
      idle: duration({ default: '30s', timer: true }),
      icons: duration({ default: '10s', timer: true }),
      session: duration({ default: '60s', timer: true }),
      header: duration({ default: '10s', timer: true }),
      body: duration({ default: '60s', timer: true }),
      drain: duration({ default: '30s', timer: true }),
      answer: duration({ default: '60s', timer: true }),
    }),
    limits: object({ request_line: size('8K'), headers: size('16K'), body: size('10M') }),
    icon_expire: duration({ default: '7d', zero: true }),
    static_expire: duration({ default: '7d', zero: true }),
    gzip_allow_nets: list(cidr(), { default: ['0.0.0.0/0', '::/0'] }),
    gzip_deny_nets: list(cidr(), { default: [] }),
    referer_log_invalid: bool(true),
    referer_block_invalid: bool(false),
    login_rate: object({
      per_address: int({ default: 30, min: 1 }),
      per_user: int({ default: 10, min: 1 }),
      window: duration({ default: '1m', timer: true }),
    }),
    templates: nullable(path()),
  }),
  tls: object({
    cert: nullable(path()),
    key: nullable(path()),
    encouraged: bool(false),
    redirect: bool(false),
    required: bool(false),
  }),
  session: object({
    external: bool(false),
    socket_dir: path('sockets'),
    idle_time: duration({ default: '15m', zero: true, timer: true }),
    timeout: duration({ default: '4h', timer: true }),
    timeout_compose: duration({ default: '0', zero: true, timer: true }),
    key_bytes: int({ default: 18, min: 16, max: 64 }),
    fix_client_ipaddr: bool(false),
    use_cookie: bool(true),
    spares: int({ default: 2, min: 0 }),
    max_sessions: int({ default: 5000, min: 1 }),
    max_per_user: int({ default: 8, min: 1 }),
    direct: nullable(object({ plain: nullable(portRange), tls: nullable(portRange) })),
    app: appName('account'),
    ws_token_ttl: duration({ default: '20s', timer: true }),
    token_store: oneOf(['memory', 'redis'], 'memory'),
  }),
  accountd: object({
    listen: path('accountd.sock'),
    server: nullable(accountdServer()),
    tls: nullable(
      object({
        port: port(),
        host: host('127.0.0.1'),
        cert: path(),
        key: path(),
        ca: nullable(path()),
      }),
    ),
    timeout: duration({ default: '10s', timer: true }),
    demo_users: bool(false),
    max_connections: int({ default: 8192, min: 1 }),
    idle_timeout: duration({ default: '5m', timer: true }),
    limits: object({
      line: size('8K'),
      literal: size('64K'),
      commands: int({ default: 1000, min: 1 }),
    }),
    lockout: object({
      attempts: int({ default: 5, min: 1 }),
      window: duration({ default: '15m', timer: true }),
      duration: duration({ default: '15m', timer: true }),
    }),
    quota: object({ bytes: size('100M'), messages: int({ default: 10000, min: 1 }) }),
    quota_cache: duration({ default: '10s', zero: true, timer: true }),
  }),
  redis: object({ url: nullable(redisUrl()) }),
});
