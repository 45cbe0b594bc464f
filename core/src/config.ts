/**
 * Configuration: the only place in the platform that reads `process.env`.
 * Every option is documented in the README's configuration table; keep the two in step.
 */

export interface Config {
  /** HTTP port for `/graphql`, health, readiness and metrics. @default 4000 */
  port: number;
  /** Interface to bind. @default '0.0.0.0' */
  host: string;
  /** Control-plane database; created if missing, migrated at start. */
  databaseUrl: string;
  /** Redis for fan-out and history. */
  redisUrl: string;
  /** Prefix of every Redis key and channel the platform uses; tests give each run its own. @default 'rt' */
  redisKeyPrefix: string;
  /** Email of the first owner account, created when no user exists. */
  adminEmail: string;
  /** Password of the first owner account; when unset a random one is generated and printed once. */
  adminPassword: string | undefined;
  /** Largest accepted event `data`, in bytes of its JSON form. @default 262144 (256 KiB) */
  maxPayloadBytes: number;
  /** Largest document state, in bytes of its JSON form; larger writes get PAYLOAD_TOO_LARGE. @default 1048576 (1 MiB) */
  maxDocumentBytes: number;
  /**
   * Recent patches kept per document, so a client that reconnects within that many versions catches up
   * with patches instead of the whole state. @default 100
   */
  documentPatchWindow: number;
  /** Largest accepted HTTP request body, in bytes. @default 1048576 (1 MiB) */
  maxRequestBytes: number;
  /** Largest accepted WebSocket message, in bytes. @default 65536 (64 KiB) */
  maxWsMessageBytes: number;
  /** Deepest accepted GraphQL selection, identical over HTTP and WebSocket. @default 12 */
  maxQueryDepth: number;
  /** Highest accepted query cost (graphql-armor's cost model: objects 2, scalars 1, deeper levels weigh more). @default 5000 */
  maxQueryCost: number;
  /** Publishes one API key may make per second, across all instances; past it RATE_LIMITED. @default 1000 */
  publishRatePerKey: number;
  /** How long a presence entry lives without a heartbeat (heartbeats and sweeps run every third of it). @default 30000 */
  presenceTtlMs: number;
  /** Most subscriptions one WebSocket connection may hold open. @default 100 */
  maxSubscriptionsPerConnection: number;
  /** Events buffered for one subscriber before it is closed as a slow consumer. @default 1000 */
  subscriberBufferSize: number;
  /**
   * Bytes a WebSocket may have queued for a client that is not reading before the socket is closed with
   * 4008 (slow consumer); the client resumes with its last cursor. @default 4194304 (4 MiB)
   */
  maxSocketBufferBytes: number;
  /** Milliseconds a client has to send `connection_init`. @default 3000 (3 seconds) */
  connectionInitTimeoutMs: number;
  /** Session lifetime in seconds. @default 604800 (7 days) */
  sessionTtlSeconds: number;
  /** Milliseconds an in-flight request may take to finish on SIGTERM before sockets are cut. @default 10000 (10 seconds) */
  shutdownGraceMs: number;
  /** Log level: 'debug' | 'info' | 'warn' | 'error' | 'silent'. @default 'info' */
  logLevel: LogLevel;
  /**
   * 32-byte key (base64) that encrypts secrets at rest (JWT secrets). When unset, a key is generated once
   * and kept in the database, which suits development only: production sets it.
   */
  secretKey: Buffer | undefined;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

/** Thrown for configuration a process cannot start with; the message says which variable and why. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new ConfigError(`${name} must be an integer ≥ ${min}, got "${raw}"`);
  }
  return value;
}

/**
 * Reads the configuration from an environment (by default the process's).
 * Unknown variables are ignored; malformed ones throw {@link ConfigError}.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const logLevel = (env.LOG_LEVEL ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${env.LOG_LEVEL}"`);
  }
  const prefix = env.REALTIME_REDIS_PREFIX ?? 'rt';
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(prefix)) {
    throw new ConfigError(`REALTIME_REDIS_PREFIX must be 1–32 letters, digits, "_" or "-", got "${prefix}"`);
  }
  return {
    port: integer(env, 'PORT', 4000),
    host: env.HOST ?? '0.0.0.0',
    databaseUrl: env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/realtime',
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    redisKeyPrefix: prefix,
    adminEmail: env.REALTIME_ADMIN_EMAIL ?? 'admin@localhost',
    adminPassword: env.REALTIME_ADMIN_PASSWORD || undefined,
    maxPayloadBytes: integer(env, 'REALTIME_MAX_PAYLOAD_BYTES', 256 * 1024, 1),
    maxDocumentBytes: integer(env, 'REALTIME_MAX_DOCUMENT_BYTES', 1024 * 1024, 2),
    documentPatchWindow: integer(env, 'REALTIME_DOCUMENT_PATCH_WINDOW', 100, 1),
    maxRequestBytes: integer(env, 'REALTIME_MAX_REQUEST_BYTES', 1024 * 1024, 1024),
    maxWsMessageBytes: integer(env, 'REALTIME_MAX_WS_MESSAGE_BYTES', 64 * 1024, 1024),
    maxQueryDepth: integer(env, 'REALTIME_MAX_QUERY_DEPTH', 12, 1),
    maxQueryCost: integer(env, 'REALTIME_MAX_QUERY_COST', 5000, 1),
    publishRatePerKey: integer(env, 'REALTIME_PUBLISH_RATE_PER_KEY', 1000, 1),
    presenceTtlMs: integer(env, 'REALTIME_PRESENCE_TTL_MS', 30_000, 300),
    maxSubscriptionsPerConnection: integer(env, 'REALTIME_MAX_SUBSCRIPTIONS_PER_CONNECTION', 100, 1),
    subscriberBufferSize: integer(env, 'REALTIME_SUBSCRIBER_BUFFER', 1000, 1),
    maxSocketBufferBytes: integer(env, 'REALTIME_MAX_SOCKET_BUFFER_BYTES', 4 * 1024 * 1024, 1024),
    connectionInitTimeoutMs: integer(env, 'REALTIME_CONNECTION_INIT_TIMEOUT_MS', 3_000, 1),
    sessionTtlSeconds: integer(env, 'REALTIME_SESSION_TTL_SECONDS', 7 * 24 * 3600, 60),
    shutdownGraceMs: integer(env, 'REALTIME_SHUTDOWN_GRACE_MS', 10_000, 0),
    logLevel,
    secretKey: secretKey(env.REALTIME_SECRET_KEY),
  };
}

function secretKey(raw: string | undefined): Buffer | undefined {
  if (raw === undefined || raw === '') return undefined;
  const key = Buffer.from(raw, 'base64');
  if (key.length !== 32) throw new ConfigError('REALTIME_SECRET_KEY must be 32 bytes, base64-encoded (openssl rand -base64 32)');
  return key;
}
