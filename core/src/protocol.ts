/**
 * The wire contract in one place: error codes, WebSocket close codes, the event envelope and cursors.
 * Dependency-free on purpose; `docs/protocol.md` and `docs/errors.md` describe the same things for people.
 */

/**
 * Every user-facing error code: its HTTP status, the WebSocket close code used when the error ends a
 * socket (null: it ends only the operation, reported as a GraphQL error), and what it means.
 */
export const ERROR_CODES = {
  BAD_USER_INPUT: { status: 400, closeCode: null, meaning: 'The input is malformed or violates a schema; the message says where.' },
  UNAUTHENTICATED: { status: 401, closeCode: 4401, meaning: 'No valid credentials: missing, unknown, expired or revoked key, token or session.' },
  FORBIDDEN: { status: 403, closeCode: 4403, meaning: 'The credentials are valid but may not do this (wrong key kind, another application or environment, a revoked key on an open socket).' },
  NOT_FOUND: { status: 404, closeCode: null, meaning: 'The named thing (application, topic, key) does not exist or is not visible to the caller.' },
  CONFLICT: { status: 409, closeCode: null, meaning: 'The request conflicts with existing state (a topic of that name with another schema; a document written since the ifVersion given, with extensions.currentVersion).' },
  SCHEMA_INCOMPATIBLE: { status: 409, closeCode: null, meaning: "A new schema version breaks the topic's compatibility mode; extensions.breakingChanges lists every change." },
  PAYLOAD_TOO_LARGE: { status: 413, closeCode: 1009, meaning: 'The event data, document, request body or WebSocket message is larger than the configured limit.' },
  QUERY_TOO_COSTLY: { status: 400, closeCode: null, meaning: 'The GraphQL selection costs more than the configured limit (REALTIME_MAX_QUERY_COST).' },
  RATE_LIMITED: { status: 429, closeCode: null, meaning: 'The API key made more requests per second than allowed; retry after extensions.retryAfterMs.' },
  QUERY_TOO_DEEP: { status: 400, closeCode: null, meaning: 'The GraphQL selection is nested deeper than the configured limit.' },
  QUERY_TOO_LARGE: { status: 400, closeCode: null, meaning: 'The GraphQL operation has more tokens than the configured limit (REALTIME_MAX_QUERY_TOKENS); it is not parsed further.' },
  TOO_MANY_SUBSCRIPTIONS: { status: 429, closeCode: null, meaning: 'The connection already holds the maximum number of subscriptions.' },
  HISTORY_GAP: { status: 410, closeCode: null, meaning: 'A resume could not be exact: events between the cursor and extensions.oldestCursor are gone (trimmed, or the history was lost); delivery continues from the oldest kept event.' },
  SLOW_CONSUMER: { status: 503, closeCode: 4008, meaning: 'The subscriber fell behind by more than its buffer and was stopped; resubscribe.' },
  SOURCE_NOT_READY: { status: 422, closeCode: null, meaning: 'A database cannot be captured as asked (unreachable, wal_level not logical, no REPLICATION privilege, a missing table or column); the message says which and how to fix it.' },
  SERVICE_UNAVAILABLE: { status: 503, closeCode: null, meaning: 'A backing service (PostgreSQL or Redis) did not answer; retry later.' },
  INTERNAL_SERVER_ERROR: { status: 500, closeCode: 4500, meaning: 'An unexpected error; details are logged, never sent.' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * WebSocket close codes the server uses beyond graphql-ws's own (4400 bad request, 4401 unauthorized,
 * 4403 forbidden, 4406 subprotocol not acceptable, 4408 init timeout, 4409 duplicate subscriber id,
 * 4429 too many init requests, 4500 internal error) and ws's 1009 (message too big).
 */
export const CLOSE_CODES = {
  /** The server is shutting down; reconnect (to another instance). */
  GOING_AWAY: 1001,
  /** connectionParams carried no valid key or token. */
  UNAUTHORIZED: 4401,
  /** The key was revoked or the token no longer grants access. */
  FORBIDDEN: 4403,
  /**
   * The client stopped reading and the server's outbound buffer for it passed its limit: reconnect and
   * resume each subscription with its last cursor (`after`).
   */
  SLOW_CONSUMER: 4008,
  /** Unexpected error while handling the connection (graphql-ws uses it too); details are logged, never sent. */
  INTERNAL_ERROR: 4500,
} as const;

export const ENVIRONMENTS = ['DEV', 'STAGING', 'PROD'] as const;
export type EnvironmentName = (typeof ENVIRONMENTS)[number];

/**
 * The normalized event every producer emits and every consumer receives.
 * One definition: publish, CDC and the outbox all build it with `buildEnvelope`.
 */
export interface EventEnvelope {
  /** UUIDv7: time-sortable and unique; the idempotency key everywhere. */
  id: string;
  /** Dotted lower-case topic name, e.g. `order.updated`. */
  topic: string;
  /** Where the event came from, as a URI reference (`/applications/<id>/<env>` for the publish API). */
  source: string;
  /** ISO-8601 time the platform accepted the event. */
  time: string;
  applicationId: string;
  environment: EnvironmentName;
  /** Ordering key chosen by the producer (e.g. an order id); `null` when none. */
  subject: string | null;
  /** Version of the topic's schema the data was validated against. */
  schemaVersion: number;
  /** Position in the topic's history; resume from it with `after`. */
  cursor: string;
  /** W3C trace context of the producing request, when one was given. */
  traceparent: string | null;
  data: unknown;
  /** Id of the original event when this one is a replay. */
  replayOf?: string;
}

/** Builds the CloudEvents 1.0 JSON form of an envelope (webhooks and export). */
export function toCloudEvent(event: EventEnvelope): Record<string, unknown> {
  const cloudEvent: Record<string, unknown> = {
    specversion: '1.0',
    id: event.id,
    type: event.topic,
    source: event.source,
    time: event.time,
    datacontenttype: 'application/json',
    dataschema: `urn:realtime:${event.applicationId}:${event.environment}:${event.topic}:v${event.schemaVersion}`,
    applicationid: event.applicationId,
    environment: event.environment,
    cursor: event.cursor,
    data: event.data,
  };
  if (event.subject !== null) cloudEvent.subject = event.subject;
  if (event.traceparent !== null) cloudEvent.traceparent = event.traceparent;
  if (event.replayOf !== undefined) cloudEvent.replayof = event.replayOf;
  return cloudEvent;
}

/**
 * A cursor names a position in one topic's history: the history's epoch (it changes when the history is
 * lost), the event's offset in that epoch (1, 2, 3… with no holes: what makes gaps detectable exactly),
 * and its Redis Stream entry id. Opaque to clients; written `<epoch>_<offset>_<ms>-<seq>`.
 */
export interface Cursor {
  epoch: string;
  offset: number;
  position: string;
}

const CURSOR = /^([a-z0-9]{1,32})_(\d{1,15})_(\d{1,20}-\d{1,20})$/;

export function formatCursor(cursor: Cursor): string {
  return `${cursor.epoch}_${cursor.offset}_${cursor.position}`;
}

/** Parses a cursor; `undefined` when the text is not one. */
export function parseCursor(text: string): Cursor | undefined {
  const match = CURSOR.exec(text);
  if (!match) return undefined;
  return { epoch: match[1] as string, offset: Number(match[2]), position: match[3] as string };
}
