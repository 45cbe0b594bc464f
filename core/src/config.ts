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
  /** Most tokens (names, punctuation, values) one GraphQL operation may have; past it QUERY_TOO_LARGE, before it is parsed further. @default 2000 */
  maxQueryTokens: number;
  /**
   * Distinct GraphQL operation texts kept parsed and validated per process (least recently used out first), and
   * at most 256 bytes of text per entry on average. An operation not kept is parsed and validated again: about
   * 0.5 ms of CPU for a small subscription. @default 4096
   */
  operationCacheSize: number;
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
  /**
   * Connections the kernel may hold waiting for the server to accept them (the listen backlog; Linux caps it
   * at net.core.somaxconn). Node's 511 overflowed in a reconnect avalanche of 10,000 clients: a dropped
   * handshake is retried by the client after a second or more. @default 4096
   */
  listenBacklog: number;
  /**
   * How often the server pings each WebSocket, in milliseconds; a socket that has not answered the previous
   * ping by the next one is cut. @default 12000 (12 seconds, graphql-ws's own default)
   */
  wsKeepAliveMs: number;
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
  /**
   * Milliseconds a CDC or outbox worker holds a source's lease in Redis without renewing it (renewed every
   * third of it). When the holder dies, another instance takes the source over within this time. @default 10000
   */
  cdcLeaseMs: number;
  /** How often workers look for sources to run and report status and slot lag, in milliseconds. @default 1000 */
  cdcPollMs: number;
  /**
   * How often an idle CDC consumer asks the database for a keepalive and confirms its position, so an idle
   * source never pins WAL, in milliseconds. @default 10000
   */
  cdcHeartbeatMs: number;
  /** Slot lag in bytes above which a source is flagged `lagWarning`. @default 104857600 (100 MiB) */
  cdcLagWarningBytes: number;
  /** Slot lag in seconds above which a source is flagged `lagWarning`. @default 60 */
  cdcLagWarningSeconds: number;
  /** How often the polling outbox relay reads new rows, in milliseconds. @default 500 */
  outboxPollMs: number;
  /** How often the event-loop delay behind `/metrics` is sampled, in ms (REALTIME_EVENT_LOOP_RESOLUTION_MS). @default 100 */
  eventLoopResolutionMs: number;
  /** Webhook dispatch (the `webhooks` role and the webhook API); see {@link WebhookConfig}. */
  webhooks: WebhookConfig;
}

/** Settings of webhook delivery, read from `REALTIME_WEBHOOK_*`. */
export interface WebhookConfig {
  /**
   * Delay before each attempt, in milliseconds: the first entry before the first attempt, each next one after
   * a failure; its length is the number of attempts. Delays above zero get ±10 % jitter.
   * @default 0s,5s,5m,30m,2h,5h,10h,10h (Svix's schedule)
   */
  retryScheduleMs: number[];
  /** Milliseconds to open a TCP (and TLS) connection to an endpoint. @default 5000 */
  connectTimeoutMs: number;
  /** Milliseconds one attempt may take in total (connect, send, response headers and the body excerpt). @default 15000 */
  timeoutMs: number;
  /** Send to loopback, private, link-local and metadata addresses too (development and tests only). @default false */
  allowPrivate: boolean;
  /** An endpoint failing without a single success for this long is disabled. @default 5 days */
  disableAfterMs: number;
  /** Deliveries and attempts older than this are deleted. @default 30 days */
  retentionMs: number;
  /** After rotateWebhookSecret, how long the previous secret still signs (both signatures are sent). @default 24 hours */
  secretOverlapMs: number;
  /** Attempts one worker process makes at the same time: this many first attempts (the dispatcher's) and this many queued ones (the BullMQ worker's). @default 50 */
  concurrency: number;
  /**
   * The dispatcher sends each delivery's first attempt itself and queues only retries; false queues every
   * delivery as a BullMQ job. Only when the schedule's first delay is zero. @default true
   */
  directFirstAttempts: boolean;
  /** First attempts in flight to one endpoint at once (of `concurrency`), so one endpoint cannot take them all. @default half of `concurrency` */
  directPerEndpoint: number;
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
  const webhookConcurrency = integer(env, 'REALTIME_WEBHOOK_CONCURRENCY', 50, 1);
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
    maxQueryTokens: integer(env, 'REALTIME_MAX_QUERY_TOKENS', 2000, 1),
    operationCacheSize: integer(env, 'REALTIME_OPERATION_CACHE_SIZE', 4096, 1),
    publishRatePerKey: integer(env, 'REALTIME_PUBLISH_RATE_PER_KEY', 1000, 1),
    presenceTtlMs: integer(env, 'REALTIME_PRESENCE_TTL_MS', 30_000, 300),
    maxSubscriptionsPerConnection: integer(env, 'REALTIME_MAX_SUBSCRIPTIONS_PER_CONNECTION', 100, 1),
    subscriberBufferSize: integer(env, 'REALTIME_SUBSCRIBER_BUFFER', 1000, 1),
    maxSocketBufferBytes: integer(env, 'REALTIME_MAX_SOCKET_BUFFER_BYTES', 4 * 1024 * 1024, 1024),
    connectionInitTimeoutMs: integer(env, 'REALTIME_CONNECTION_INIT_TIMEOUT_MS', 3_000, 1),
    listenBacklog: integer(env, 'REALTIME_LISTEN_BACKLOG', 4096, 1),
    wsKeepAliveMs: integer(env, 'REALTIME_WS_KEEPALIVE_MS', 12_000, 100),
    sessionTtlSeconds: integer(env, 'REALTIME_SESSION_TTL_SECONDS', 7 * 24 * 3600, 60),
    shutdownGraceMs: integer(env, 'REALTIME_SHUTDOWN_GRACE_MS', 10_000, 0),
    logLevel,
    secretKey: secretKey(env.REALTIME_SECRET_KEY),
    cdcLeaseMs: integer(env, 'REALTIME_CDC_LEASE_MS', 10_000, 300),
    cdcPollMs: integer(env, 'REALTIME_CDC_POLL_MS', 1_000, 50),
    cdcHeartbeatMs: integer(env, 'REALTIME_CDC_HEARTBEAT_MS', 10_000, 100),
    cdcLagWarningBytes: integer(env, 'REALTIME_CDC_LAG_WARNING_BYTES', 100 * 1024 * 1024, 1),
    cdcLagWarningSeconds: integer(env, 'REALTIME_CDC_LAG_WARNING_SECONDS', 60, 1),
    outboxPollMs: integer(env, 'REALTIME_OUTBOX_POLL_MS', 500, 10),
    eventLoopResolutionMs: integer(env, 'REALTIME_EVENT_LOOP_RESOLUTION_MS', 100, 1),
    webhooks: {
      retryScheduleMs: durationList(env, 'REALTIME_WEBHOOK_RETRY_SCHEDULE', '0s,5s,5m,30m,2h,5h,10h,10h'),
      connectTimeoutMs: integer(env, 'REALTIME_WEBHOOK_CONNECT_TIMEOUT_MS', 5_000, 1),
      timeoutMs: integer(env, 'REALTIME_WEBHOOK_TIMEOUT_MS', 15_000, 1),
      allowPrivate: flag(env, 'REALTIME_WEBHOOK_ALLOW_PRIVATE'),
      disableAfterMs: duration(env, 'REALTIME_WEBHOOK_DISABLE_AFTER', '5d', 1_000),
      retentionMs: duration(env, 'REALTIME_WEBHOOK_RETENTION', '30d', 60_000),
      secretOverlapMs: duration(env, 'REALTIME_WEBHOOK_SECRET_OVERLAP', '24h', 0),
      concurrency: webhookConcurrency,
      directFirstAttempts: flag(env, 'REALTIME_WEBHOOK_DIRECT', true),
      directPerEndpoint: atMost(integer(env, 'REALTIME_WEBHOOK_DIRECT_PER_ENDPOINT', Math.ceil(webhookConcurrency / 2), 1), webhookConcurrency, 'REALTIME_WEBHOOK_DIRECT_PER_ENDPOINT', 'REALTIME_WEBHOOK_CONCURRENCY'),
    },
  };
}

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `500ms`, `5s`, `30m`, `2h`, `5d` → milliseconds; undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d{1,9})(ms|s|m|h|d)$/.exec(text.trim());
  return match ? Number(match[1]) * (UNITS[match[2] as string] as number) : undefined;
}

function duration(env: NodeJS.ProcessEnv, name: string, fallback: string, min: number): number {
  const raw = env[name] || fallback;
  const value = parseDuration(raw);
  if (value === undefined || value < min) {
    throw new ConfigError(`${name} must be a duration like 30s, 5m, 2h or 5d (at least ${min} ms), got "${raw}"`);
  }
  return value;
}

function durationList(env: NodeJS.ProcessEnv, name: string, fallback: string): number[] {
  const raw = env[name] || fallback;
  const values = raw.split(',').map(parseDuration);
  if (values.length === 0 || values.length > 50 || values.some((v) => v === undefined)) {
    throw new ConfigError(`${name} must be 1–50 comma-separated durations like 0s,5s,5m,2h, got "${raw}"`);
  }
  return values as number[];
}

/** `value`, or a ConfigError when it is above the setting it is a share of. */
function atMost(value: number, limit: number, name: string, limitName: string): number {
  if (value > limit) throw new ConfigError(`${name} must be at most ${limitName} (${limit}), got ${value}`);
  return value;
}

function flag(env: NodeJS.ProcessEnv, name: string, fallback = false): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new ConfigError(`${name} must be 1 or 0 (true or false), got "${raw}"`);
}

function secretKey(raw: string | undefined): Buffer | undefined {
  if (raw === undefined || raw === '') return undefined;
  const key = Buffer.from(raw, 'base64');
  if (key.length !== 32) throw new ConfigError('REALTIME_SECRET_KEY must be 32 bytes, base64-encoded (openssl rand -base64 32)');
  return key;
}
