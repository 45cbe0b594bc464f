import { createHash } from 'node:crypto';
import type { Queryable } from '../db/queryable.js';
import { badInput } from '../errors.js';
import type { EnvironmentName, EventEnvelope } from '../protocol.js';
import type { Scope } from '../redis/keys.js';

/**
 * PENDING: waiting for its first (or, after a redeliver, next) attempt; FAILED: the last attempt failed and
 * another is scheduled; SUCCEEDED: an attempt got a 2xx; DEAD: every attempt failed, the endpoint answered 410
 * or was disabled: listed by deadLetters, sent again only by redeliver.
 */
export type WebhookDeliveryStatus = 'PENDING' | 'FAILED' | 'SUCCEEDED' | 'DEAD';

export interface WebhookDelivery {
  id: string;
  endpointId: string;
  applicationId: string;
  environment: EnvironmentName;
  /** `live` (the dispatcher), `replay:<id>` or `test:<id>`. */
  origin: string;
  eventId: string;
  topic: string;
  subject: string | null;
  eventTime: Date;
  event: EventEnvelope;
  status: WebhookDeliveryStatus;
  /** Rises with every redeliver; the BullMQ job id is `<id>.<generation>`. */
  generation: number;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface WebhookAttempt {
  id: string;
  deliveryId: string;
  attemptedAt: Date;
  succeeded: boolean;
  statusCode: number | null;
  latencyMs: number;
  responseExcerpt: string | null;
  error: string | null;
}

interface DeliveryRow {
  id: string;
  endpoint_id: string;
  application_id: string;
  environment: EnvironmentName;
  origin: string;
  event_id: string;
  topic: string;
  subject: string | null;
  event_time: Date;
  event: EventEnvelope;
  status: WebhookDeliveryStatus;
  generation: number;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const toDelivery = (row: DeliveryRow): WebhookDelivery => ({
  id: row.id,
  endpointId: row.endpoint_id,
  applicationId: row.application_id,
  environment: row.environment,
  origin: row.origin,
  eventId: row.event_id,
  topic: row.topic,
  subject: row.subject,
  eventTime: row.event_time,
  event: row.event,
  status: row.status,
  generation: row.generation,
  attempts: row.attempts,
  lastStatusCode: row.last_status_code,
  lastError: row.last_error,
  nextAttemptAt: row.next_attempt_at,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

/**
 * The delivery id of (endpoint, event, origin): derived, not random, so a dispatcher that reads the same
 * history entry twice (a crash before XACK, a re-publish of the same event id) names the same delivery and
 * the same BullMQ job, and never sends twice.
 */
export function deliveryIdFor(endpointId: string, eventId: string, origin: string): string {
  const hex = createHash('sha256').update(`${endpointId}\n${eventId}\n${origin}`).digest('hex');
  // Laid out as a UUID (version 8: custom), so it fits the uuid column and reads like the other ids.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${hex.slice(18, 20)}-${hex.slice(20, 32)}`;
}

/** The BullMQ job id of one generation of a delivery (BullMQ refuses ':' and integer ids; this has neither). */
export const webhookJobId = (deliveryId: string, generation: number): string => `${deliveryId}.${generation}`;

export interface NewDelivery {
  endpointId: string;
  origin: string;
  event: EventEnvelope;
  /**
   * `event` as JSON text, when the caller has it (the dispatcher: the history entry as stored, its cursor
   * added): written as it is instead of serialized again.
   */
  eventJson?: string;
}

/**
 * One JSON array of `rows`, each with `event` added from its delivery's JSON text where there is one (or
 * serialized, or null without a delivery): the events, the bulk of a batch, are not serialized a second time.
 */
function jsonRows(rows: readonly object[], deliveries: readonly (NewDelivery | undefined)[]): string {
  const parts = rows.map((row, i) => {
    const delivery = deliveries[i];
    const text = JSON.stringify(row);
    const event = delivery ? (delivery.eventJson ?? JSON.stringify(delivery.event)) : 'null';
    return `${text.slice(0, -1)}${text.length > 2 ? ',' : ''}"event":${event}}`;
  });
  return `[${parts.join(',')}]`;
}

/** A delivery that needs a job: newly created, or found unfinished (its job may have been lost with a crash). */
export interface QueuedDelivery {
  id: string;
  generation: number;
  endpointId: string;
  origin: string;
  event: EventEnvelope;
  /** As NewDelivery.eventJson, when it is at hand. */
  eventJson?: string;
  /** Nobody has tried to send it yet: recorded by this call, or not recorded at all (`unrecorded`). */
  fresh?: boolean;
  /**
   * Not in PostgreSQL yet (findUnrecordedDeliveries): its row is written with its first attempt
   * (AttemptRecord.create), or by insertDeliveries before it is queued.
   */
  unrecorded?: boolean;
  /** Attempts of this generation already made without a job (the dispatcher's first attempt). @default 0 */
  attemptsMade?: number;
  /** Milliseconds before the job's first attempt. @default the schedule's first delay for generation 0, else 0 */
  delayMs?: number;
}

/**
 * Records deliveries (one statement for the batch) and returns those that still need sending: the new ones
 * (`fresh`) and those found unfinished (their job, or the dispatcher's first attempt, may have been lost with
 * a crash). Deliveries that already exist and are finished (SUCCEEDED or DEAD) are left alone: a re-publish
 * never double-sends.
 */
export async function insertDeliveries(db: Queryable, deliveries: readonly NewDelivery[]): Promise<QueuedDelivery[]> {
  if (deliveries.length === 0) return [];
  const ids = deliveries.map((d) => deliveryIdFor(d.endpointId, d.event.id, d.origin));
  // One JSON parameter for the batch: the events go in as they are, not escaped again into jsonb[] array literals.
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO webhook_deliveries (id, endpoint_id, application_id, environment, origin, event_id, topic, subject, event_time, event)
     SELECT id, endpoint_id, (event->>'applicationId')::uuid, event->>'environment', origin, event->>'id', event->>'topic', event->>'subject',
       (event->>'time')::timestamptz, event
     FROM json_to_recordset($1::json) AS t(id uuid, endpoint_id uuid, origin text, event jsonb)
     ON CONFLICT DO NOTHING RETURNING id`,
    [jsonRows(deliveries.map((d, i) => ({ id: ids[i], endpoint_id: d.endpointId, origin: d.origin })), deliveries)],
  );
  const inserted = new Set(rows.map((r) => r.id));
  const generations = new Map<string, number>(rows.map((r) => [r.id, 0]));
  const existing = ids.filter((id) => !inserted.has(id));
  if (existing.length > 0) {
    const unfinished = await db.query<{ id: string; generation: number }>(
      `SELECT id, generation FROM webhook_deliveries WHERE id = ANY($1::uuid[]) AND status IN ('PENDING', 'FAILED')`,
      [existing],
    );
    for (const row of unfinished.rows) generations.set(row.id, row.generation);
  }
  const queued: QueuedDelivery[] = [];
  deliveries.forEach((d, i) => {
    const id = ids[i] as string;
    const generation = generations.get(id);
    if (generation !== undefined) {
      generations.delete(id); // the same event twice in one batch: one job
      queued.push({ id, generation, endpointId: d.endpointId, origin: d.origin, event: d.event, fresh: inserted.has(id) });
    }
  });
  return queued;
}

/**
 * For first attempts sent before their delivery is recorded: of these new deliveries, returns those with no
 * row yet (`fresh` and `unrecorded`: the row is written with the first attempt, one write instead of an insert
 * and then an update) and those recorded but unfinished (to be queued again, as insertDeliveries does). Those
 * recorded and finished are dropped: a re-published event is never sent twice.
 */
export async function findUnrecordedDeliveries(db: Queryable, deliveries: readonly NewDelivery[]): Promise<QueuedDelivery[]> {
  if (deliveries.length === 0) return [];
  const ids = deliveries.map((d) => deliveryIdFor(d.endpointId, d.event.id, d.origin));
  const { rows } = await db.query<{ id: string; generation: number; status: WebhookDeliveryStatus }>(
    'SELECT id, generation, status FROM webhook_deliveries WHERE id = ANY($1::uuid[])',
    [ids],
  );
  const found = new Map(rows.map((row) => [row.id, row]));
  const seen = new Set<string>();
  const result: QueuedDelivery[] = [];
  deliveries.forEach((d, i) => {
    const id = ids[i] as string;
    if (seen.has(id)) return; // the same event twice in one batch: one delivery
    seen.add(id);
    const row = found.get(id);
    const delivery = { id, endpointId: d.endpointId, origin: d.origin, event: d.event, eventJson: d.eventJson };
    if (!row) result.push({ ...delivery, generation: 0, fresh: true, unrecorded: true });
    else if (row.status === 'PENDING' || row.status === 'FAILED') result.push({ ...delivery, generation: row.generation });
  });
  return result;
}

export interface AttemptRecord {
  deliveryId: string;
  /** The delivery's row is created with this attempt (its first; see findUnrecordedDeliveries). */
  create?: NewDelivery;
  endpointId: string;
  succeeded: boolean;
  statusCode: number | null;
  latencyMs: number;
  responseExcerpt: string | null;
  error: string | null;
  /** The delivery's status after this attempt. */
  status: WebhookDeliveryStatus;
  nextAttemptAt: Date | null;
}

/**
 * Records attempts and their deliveries' new statuses, and keeps each endpoint's failure run, in one
 * statement (one commit) for the whole batch: the last outcome of an endpoint in the batch decides — a
 * success ends its run, a failure starts one when none is running. An attempt with `create` inserts its
 * delivery's row already in its new status (a row found meanwhile is left alone, and that attempt dropped);
 * the others update theirs. Returns, per attempt, when its endpoint's run started (null after a success), which
 * the worker compares with REALTIME_WEBHOOK_DISABLE_AFTER. Attempts of deliveries deleted meanwhile (their
 * endpoint was) are dropped.
 */
export async function recordAttempts(db: Queryable, attempts: readonly AttemptRecord[]): Promise<{ failingSince: Date | null }[]> {
  if (attempts.length === 0) return [];
  const lastOutcome = new Map<string, boolean>();
  for (const a of attempts) lastOutcome.set(a.endpointId, a.succeeded);
  const endpoints = [...lastOutcome.keys()].sort(); // one lock order for every writer: no deadlocks between workers
  // One JSON parameter for the batch (events go in as they are).
  const input = attempts.map((a) => ({
    delivery_id: a.deliveryId,
    endpoint_id: a.endpointId,
    succeeded: a.succeeded,
    status_code: a.statusCode,
    latency_ms: Math.round(a.latencyMs),
    response_excerpt: a.responseExcerpt,
    error: a.error,
    status: a.status,
    next_attempt_at: a.nextAttemptAt,
    origin: a.create?.origin ?? null,
  }));
  const { rows } = await db.query<{ id: string; failing_since: Date | null }>(
    `WITH input AS (
       SELECT * FROM json_to_recordset($1::json) AS t(delivery_id uuid, endpoint_id uuid, succeeded boolean, status_code integer,
         latency_ms integer, response_excerpt text, error text, status text, next_attempt_at timestamptz, origin text, event jsonb)
     ), created AS (
       INSERT INTO webhook_deliveries (id, endpoint_id, application_id, environment, origin, event_id, topic, subject, event_time, event,
         status, attempts, last_status_code, last_error, next_attempt_at)
       SELECT delivery_id, endpoint_id, (event->>'applicationId')::uuid, event->>'environment', origin, event->>'id', event->>'topic',
         event->>'subject', (event->>'time')::timestamptz, event, status, 1, status_code, error, next_attempt_at
       FROM input WHERE event IS NOT NULL
       ON CONFLICT DO NOTHING RETURNING id
     ), updated AS (
       UPDATE webhook_deliveries d SET status = i.status, attempts = d.attempts + 1, last_status_code = i.status_code,
         last_error = i.error, next_attempt_at = i.next_attempt_at, updated_at = now()
       FROM input i WHERE d.id = i.delivery_id AND i.event IS NULL
       RETURNING d.id
     ), attempt AS (
       INSERT INTO webhook_attempts (delivery_id, endpoint_id, succeeded, status_code, latency_ms, response_excerpt, error)
       SELECT i.delivery_id, i.endpoint_id, i.succeeded, i.status_code, i.latency_ms, i.response_excerpt, i.error
       FROM input i
       WHERE (i.event IS NOT NULL AND i.delivery_id IN (SELECT id FROM created))
          OR (i.event IS NULL AND i.delivery_id IN (SELECT id FROM updated))
     )
     UPDATE webhook_endpoints e SET
       failing_since = CASE WHEN u.ok THEN NULL ELSE coalesce(e.failing_since, now()) END,
       last_success_at = CASE WHEN u.ok THEN now() ELSE e.last_success_at END
     FROM unnest($2::uuid[], $3::boolean[]) AS u(id, ok)
     WHERE e.id = u.id
     RETURNING e.id, e.failing_since`,
    [jsonRows(input, attempts.map((a) => a.create)), endpoints, endpoints.map((id) => lastOutcome.get(id) as boolean)],
  );
  const runs = new Map(rows.map((r) => [r.id, r.failing_since]));
  return attempts.map((a) => ({ failingSince: a.succeeded ? null : (runs.get(a.endpointId) ?? null) }));
}

/** Records one attempt (see {@link recordAttempts}). */
export async function recordAttempt(db: Queryable, attempt: AttemptRecord): Promise<{ failingSince: Date | null }> {
  const [result] = await recordAttempts(db, [attempt]);
  return result ?? { failingSince: null };
}

/** Marks a delivery DEAD without an attempt (its endpoint is disabled or gone). */
export async function markDeliveryDead(db: Queryable, deliveryId: string, error: string): Promise<void> {
  await db.query(
    `UPDATE webhook_deliveries SET status = 'DEAD', last_error = $2, next_attempt_at = NULL, updated_at = now() WHERE id = $1`,
    [deliveryId, error],
  );
}

/**
 * For FIFO endpoints: whether an earlier event (by event time, then id) of the same subject still waits for
 * its outcome at this endpoint.
 */
export async function hasEarlierUnfinished(db: Queryable, delivery: { id: string; endpointId: string; subject: string; eventTime: string; eventId: string }): Promise<boolean> {
  const { rows } = await db.query(
    `SELECT 1 FROM webhook_deliveries
     WHERE endpoint_id = $1 AND subject = $2 AND status IN ('PENDING', 'FAILED') AND id <> $5
       AND (event_time < $3::timestamptz OR (event_time = $3::timestamptz AND event_id < $4))
     LIMIT 1`,
    [delivery.endpointId, delivery.subject, delivery.eventTime, delivery.eventId, delivery.id],
  );
  return rows.length > 0;
}

export async function findDelivery(db: Queryable, id: string): Promise<WebhookDelivery | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
  const { rows } = await db.query<DeliveryRow>('SELECT * FROM webhook_deliveries WHERE id = $1', [id]);
  return rows[0] && toDelivery(rows[0]);
}

/** Starts a new generation of a delivery: PENDING again, to be sent by a new job (attempts keep counting). */
export async function restartDelivery(db: Queryable, id: string): Promise<WebhookDelivery | undefined> {
  const { rows } = await db.query<DeliveryRow>(
    `UPDATE webhook_deliveries SET status = 'PENDING', generation = generation + 1, next_attempt_at = now(), updated_at = now()
     WHERE id = $1 RETURNING *`,
    [id],
  );
  return rows[0] && toDelivery(rows[0]);
}

export async function listAttempts(db: Queryable, deliveryId: string): Promise<WebhookAttempt[]> {
  const { rows } = await db.query<{
    id: string;
    delivery_id: string;
    attempted_at: Date;
    succeeded: boolean;
    status_code: number | null;
    latency_ms: number;
    response_excerpt: string | null;
    error: string | null;
  }>('SELECT * FROM webhook_attempts WHERE delivery_id = $1 ORDER BY id', [deliveryId]);
  return rows.map((r) => ({
    id: String(r.id),
    deliveryId: r.delivery_id,
    attemptedAt: r.attempted_at,
    succeeded: r.succeeded,
    statusCode: r.status_code,
    latencyMs: r.latency_ms,
    responseExcerpt: r.response_excerpt,
    error: r.error,
  }));
}

export interface DeliveryQuery extends Scope {
  endpointId?: string | null | undefined;
  eventId?: string | null | undefined;
  status?: WebhookDeliveryStatus | null | undefined;
  /** Page size, 1–100. @default 20 */
  first?: number | null | undefined;
  /** The endCursor of the previous page. */
  after?: string | null | undefined;
}

export interface DeliveryPage {
  nodes: WebhookDelivery[];
  hasNextPage: boolean;
  endCursor: string | null;
}

/** Keyset cursor: the row's created_at at full (microsecond) precision, and its id. */
const pageCursor = (row: DeliveryRow & { cursor_time: string }): string => Buffer.from(`${row.cursor_time}|${row.id}`).toString('base64url');

function parsePageCursor(text: string): { createdAt: string; id: string } {
  const [createdAt, id] = Buffer.from(text, 'base64url').toString('utf8').split('|');
  if (!createdAt || !id || Number.isNaN(Date.parse(createdAt)) || !/^[0-9a-f-]{36}$/.test(id)) {
    throw badInput('after is not a cursor from this list; pass pageInfo.endCursor of the previous page', { field: 'after' });
  }
  return { createdAt, id };
}

/** Deliveries of one application environment, newest first, optionally of one endpoint, event or status. */
export async function listDeliveries(db: Queryable, query: DeliveryQuery): Promise<DeliveryPage> {
  const first = query.first ?? 20;
  if (!Number.isInteger(first) || first < 1 || first > 100) throw badInput('first must be 1–100', { field: 'first' });
  const conditions = ['application_id = $1', 'environment = $2'];
  const params: unknown[] = [query.applicationId, query.environment];
  const add = (sql: string, value: unknown): void => {
    params.push(value);
    conditions.push(sql.replace('?', `$${params.length}`));
  };
  if (query.endpointId != null) {
    if (!/^[0-9a-f-]{36}$/i.test(query.endpointId)) return { nodes: [], hasNextPage: false, endCursor: null };
    add('endpoint_id = ?', query.endpointId);
  }
  if (query.eventId != null) add('event_id = ?', query.eventId);
  if (query.status != null) add('status = ?', query.status);
  if (query.after != null) {
    const cursor = parsePageCursor(query.after);
    params.push(cursor.createdAt, cursor.id);
    conditions.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
  }
  params.push(first + 1);
  const { rows } = await db.query<DeliveryRow & { cursor_time: string }>(
    `SELECT *, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_time FROM webhook_deliveries
     WHERE ${conditions.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
    params,
  );
  const page = rows.slice(0, first);
  const last = page[page.length - 1];
  return { nodes: page.map(toDelivery), hasNextPage: rows.length > first, endCursor: last ? pageCursor(last) : null };
}

export interface EndpointSummary {
  /** Attempts in the window. */
  attempts: number;
  succeeded: number;
  failed: number;
  /** Succeeded / attempts; null without attempts. */
  successRate: number | null;
  p50LatencyMs: number | null;
  p99LatencyMs: number | null;
  lastError: string | null;
  lastErrorAt: Date | null;
  /** Deliveries currently dead-lettered. */
  deadLetters: number;
}

/** Health of one endpoint over the attempts since `since` (its last failure through webhook_attempts_failure_idx). */
export async function endpointSummary(db: Queryable, endpointId: string, since: Date): Promise<EndpointSummary> {
  const { rows } = await db.query<{
    attempts: string;
    succeeded: string;
    p50: number | null;
    p99: number | null;
    last_error: string | null;
    last_error_at: Date | null;
    dead: string;
  }>(
    `SELECT count(*) AS attempts, count(*) FILTER (WHERE succeeded) AS succeeded,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms) AS p99,
       (SELECT coalesce(error, 'HTTP ' || status_code) FROM webhook_attempts WHERE endpoint_id = $1 AND NOT succeeded ORDER BY id DESC LIMIT 1) AS last_error,
       (SELECT attempted_at FROM webhook_attempts WHERE endpoint_id = $1 AND NOT succeeded ORDER BY id DESC LIMIT 1) AS last_error_at,
       (SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1 AND status = 'DEAD') AS dead
     FROM webhook_attempts WHERE endpoint_id = $1 AND attempted_at >= $2`,
    [endpointId, since],
  );
  const row = rows[0];
  const attempts = Number(row?.attempts ?? 0);
  const succeeded = Number(row?.succeeded ?? 0);
  return {
    attempts,
    succeeded,
    failed: attempts - succeeded,
    successRate: attempts === 0 ? null : succeeded / attempts,
    p50LatencyMs: row?.p50 ?? null,
    p99LatencyMs: row?.p99 ?? null,
    lastError: row?.last_error ?? null,
    lastErrorAt: row?.last_error_at ?? null,
    deadLetters: Number(row?.dead ?? 0),
  };
}

export interface RetentionOptions {
  /** Rows deleted per statement (each its own short transaction). @default 5000 */
  batchSize?: number;
  /** Checked between batches: once aborted, the sweep stops where it is (the next one goes on). */
  signal?: AbortSignal;
}

/**
 * Deletes attempts made before the retention, then finished deliveries (SUCCEEDED or DEAD, with any attempts
 * left) last changed before it, and returns how many deliveries went. It goes endpoint by endpoint (every row
 * belongs to one), through the indexes that lead with endpoint_id, so a sweep reads what it deletes rather than
 * whole tables. Deletes go in batches, each its own statement, so a large backlog never holds locks or one
 * snapshot for long; rows are locked with SKIP LOCKED and checked again under the lock, so a delivery
 * redelivered meanwhile (PENDING again) stays, and workers sweeping at once share the rows instead of waiting.
 */
export async function deleteExpiredDeliveries(db: Queryable, retentionMs: number, options: RetentionOptions = {}): Promise<number> {
  const { batchSize = 5_000, signal } = options;
  const cutoff = new Date(Date.now() - retentionMs);
  const sweep = async (sql: string, params: unknown[]): Promise<number> => {
    let deleted = 0;
    while (!signal?.aborted) {
      const { rowCount } = await db.query(sql, [...params, cutoff, batchSize]);
      deleted += rowCount ?? 0;
      if ((rowCount ?? 0) < batchSize) break;
    }
    return deleted;
  };
  const { rows: endpoints } = await db.query<{ id: string }>('SELECT id FROM webhook_endpoints ORDER BY id');
  let deliveries = 0;
  for (const { id } of endpoints) {
    if (signal?.aborted) break;
    // Oldest first, in index order, and then by primary key (= ANY(ARRAY(…)): IN (…) let the planner scan the whole table).
    await sweep(
      `DELETE FROM webhook_attempts WHERE id = ANY(ARRAY(
         SELECT id FROM webhook_attempts WHERE endpoint_id = $1 AND attempted_at < $2
         ORDER BY attempted_at LIMIT $3 FOR UPDATE SKIP LOCKED))`,
      [id],
    );
    for (const status of ['SUCCEEDED', 'DEAD']) {
      // created_at <= updated_at: the first condition changes nothing, but bounds the index range read.
      deliveries += await sweep(
        `DELETE FROM webhook_deliveries WHERE id = ANY(ARRAY(
           SELECT id FROM webhook_deliveries WHERE endpoint_id = $1 AND status = $2 AND created_at < $3 AND updated_at < $3
           ORDER BY created_at LIMIT $4 FOR UPDATE SKIP LOCKED))`,
        [id, status],
      );
    }
  }
  return deliveries;
}
