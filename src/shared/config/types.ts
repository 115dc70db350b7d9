/**
 * @module The shape of a loaded Vesper configuration: every key, typed, in the units programs use.
 *
 * Keys are spelled exactly as in the YAML file. Durations are milliseconds,
 * sizes are bytes, and every path is absolute. `docs/configuration.md`
 * describes each key; `schema.ts` holds the defaults and the checks.
 */

/** `paths`: where Vesper keeps its runtime files. */
export interface PathsConfig {
  /** Sockets, logs, data and pid files; relative paths elsewhere resolve against it. */
  readonly var: string;
}

/** The pino levels `log.level` accepts. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** `log`: what is logged and where. */
export interface LogConfig {
  readonly level: LogLevel;
  /** The log file; null means standard output. */
  readonly file: string | null;
  /** Whether the frontend writes one access-log line per request. */
  readonly access: boolean;
}

/** One item of `frontend.listen`. */
export interface ListenConfig {
  readonly port: number;
  /** The address to bind; default `127.0.0.1`. */
  readonly host: string;
  /** Whether this listener speaks TLS (with `tls.cert`/`tls.key`). */
  readonly tls: boolean;
}

/** `frontend.timeout`, in milliseconds. */
export interface FrontendTimeoutConfig {
  /** Keep-alive wait after a login or static request. */
  readonly idle: number;
  /** Keep-alive wait after an icon request. */
  readonly icons: number;
  /** Keep-alive wait after a session request. */
  readonly session: number;
  /** Time allowed to receive a request's headers. */
  readonly header: number;
  /** Time allowed to receive a request's body. */
  readonly body: number;
  /** Time a draining worker waits for its connections before closing them. */
  readonly drain: number;
  /** Silence allowed from a session with a request in flight before the worker gives up on it. */
  readonly answer: number;
}

/** `frontend.limits`, in bytes: exceeding them is answered 414, 431 and 413. */
export interface FrontendLimitsConfig {
  readonly request_line: number;
  readonly headers: number;
  readonly body: number;
}

/** `frontend.login_rate`: failed logins allowed per `window` (milliseconds). */
export interface LoginRateConfig {
  readonly per_address: number;
  readonly per_user: number;
  readonly window: number;
}

/** `frontend`: the prefork HTTP frontend. */
export interface FrontendConfig {
  readonly listen: readonly ListenConfig[];
  readonly min_servers: number;
  readonly min_spare: number;
  readonly max_servers: number;
  /** 0 means unlimited. */
  readonly max_connections_per_child: number;
  readonly max_requests_per_connection: number;
  readonly timeout: FrontendTimeoutConfig;
  readonly limits: FrontendLimitsConfig;
  /** Cache lifetime of icons, in milliseconds. */
  readonly icon_expire: number;
  /** Cache lifetime of static files, in milliseconds. */
  readonly static_expire: number;
  /** CIDR blocks (`10.0.0.0/8`, `::/0`) whose clients get compressed pages. */
  readonly gzip_allow_nets: readonly string[];
  /** CIDR blocks whose clients never get compressed pages. */
  readonly gzip_deny_nets: readonly string[];
  readonly referer_log_invalid: boolean;
  readonly referer_block_invalid: boolean;
  readonly login_rate: LoginRateConfig;
  /** A directory of login templates; null means the built-in ones. */
  readonly templates: string | null;
}

/** `tls`: the frontend's certificate and how strongly TLS is pushed. */
export interface TlsConfig {
  /** The certificate file; null means a self-signed pair at `<var>/tls/cert.pem` made on first start. */
  readonly cert: string | null;
  /** The key file; null means `<var>/tls/key.pem` (see `cert`). */
  readonly key: string | null;
  readonly encouraged: boolean;
  readonly redirect: boolean;
  readonly required: boolean;
}

/** One range of `session.direct`: ports `first` to `first + count - 1`. */
export interface PortRangeConfig {
  readonly first: number;
  readonly count: number;
}

/** `session.direct`: ports on which session processes answer directly; either range may be null. */
export interface DirectConfig {
  readonly plain: PortRangeConfig | null;
  readonly tls: PortRangeConfig | null;
}

/** `session`: the session server and its session processes. */
export interface SessionConfig {
  /** True when the session server is run elsewhere (`--disable-session`). */
  readonly external: boolean;
  /** The directory of session sockets; the init socket is `<socket_dir>/init.sock`. */
  readonly socket_dir: string;
  /** Inactivity before a session goes dormant, in milliseconds; 0 means never. */
  readonly idle_time: number;
  /** Inactivity before a session exits, in milliseconds. */
  readonly timeout: number;
  /** Like `timeout` while composing; 0 means the same as `timeout`. */
  readonly timeout_compose: number;
  readonly key_bytes: number;
  readonly fix_client_ipaddr: boolean;
  readonly use_cookie: boolean;
  readonly spares: number;
  readonly max_sessions: number;
  readonly max_per_user: number;
  /** Null when direct session ports are disabled. */
  readonly direct: DirectConfig | null;
  /** The session application to run. */
  readonly app: string;
  /** Lifetime of a WebSocket token, in milliseconds. */
  readonly ws_token_ttl: number;
  readonly token_store: 'memory' | 'redis';
}

/** `accountd.tls`: an extra TCP+TLS listener of the account server. */
export interface AccountdTlsConfig {
  readonly port: number;
  readonly host: string;
  readonly cert: string;
  readonly key: string;
  /** CA bundle for client certificates; null when none is asked for. */
  readonly ca: string | null;
}

/** `accountd.limits`: protocol limits of the account server. */
export interface AccountdLimitsConfig {
  /** Longest command line, in bytes. */
  readonly line: number;
  /** Longest literal, in bytes. */
  readonly literal: number;
  /** Most commands on one connection. */
  readonly commands: number;
}

/** `accountd.lockout`: `attempts` failed logins within `window` lock an account for `duration` (milliseconds). */
export interface AccountdLockoutConfig {
  readonly attempts: number;
  readonly window: number;
  readonly duration: number;
}

/** `accountd.quota`: the default limits of a new account. */
export interface AccountdQuotaConfig {
  /** Bytes of storage. */
  readonly bytes: number;
  readonly messages: number;
}

/** `accountd`: the account server, local or remote. */
export interface AccountdConfig {
  /** The local account server's Unix socket (mode 0600). */
  readonly listen: string;
  /** Null to run the account server locally; else `unix:/absolute/path` or `host:port` (TLS). */
  readonly server: string | null;
  readonly tls: AccountdTlsConfig | null;
  /** Client request timeout, in milliseconds. */
  readonly timeout: number;
  readonly demo_users: boolean;
  readonly max_connections: number;
  /** Idle connection timeout, in milliseconds. */
  readonly idle_timeout: number;
  readonly limits: AccountdLimitsConfig;
  readonly lockout: AccountdLockoutConfig;
  readonly quota: AccountdQuotaConfig;
  /** How long a quota answer is cached, in milliseconds; 0 means not cached. */
  readonly quota_cache: number;
}

/** `redis`: the shared store used when `session.token_store` is `redis`. */
export interface RedisConfig {
  /** `redis://` or `rediss://` URL; null when Redis is not used. */
  readonly url: string | null;
}

/** A whole, validated, deeply frozen Vesper configuration. */
export interface VesperConfig {
  readonly paths: PathsConfig;
  readonly log: LogConfig;
  readonly frontend: FrontendConfig;
  readonly tls: TlsConfig;
  readonly session: SessionConfig;
  readonly accountd: AccountdConfig;
  readonly redis: RedisConfig;
}
