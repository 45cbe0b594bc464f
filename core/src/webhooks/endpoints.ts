import { v7 as uuidv7 } from 'uuid';
import type { SecretBox } from '../auth/encryption.js';
import { topicGranted } from '../auth/end-user.js';
import type { Queryable } from '../db/queryable.js';
import { badInput, notFound } from '../errors.js';
import type { EnvironmentName, EventEnvelope } from '../protocol.js';
import type { Scope } from '../redis/keys.js';
import { compileWebhookFilter, type EventPredicate } from './filter.js';
import { generateWebhookSecret } from './signing.js';
import { assertWebhookUrl, type HostResolver } from './url-safety.js';

export type WebhookEndpointStatus = 'ENABLED' | 'DISABLED';

/** A webhook endpoint as the API shows it (never its secrets). */
export interface WebhookEndpoint {
  id: string;
  applicationId: string;
  environment: EnvironmentName;
  url: string;
  description: string | null;
  /** Topic patterns: `order.updated`, `order.*` (one word), `order.**` (any depth), `**` (all). */
  topics: string[];
  filter: Record<string, unknown> | null;
  /** FIFO per subject: a later event of a subject waits until the earlier one succeeded or was dead-lettered. */
  ordered: boolean;
  status: WebhookEndpointStatus;
  disabledReason: string | null;
  disabledAt: Date | null;
  /** Events published before this instant are not sent (creation, or the last enable); replay sends them. */
  activeSince: Date;
  /** Start of the current run of failures without a success; null when the last attempt succeeded. */
  failingSince: Date | null;
  lastSuccessAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** The endpoint with its sealed secrets, for the dispatcher. */
export interface WebhookEndpointRecord extends WebhookEndpoint {
  secretSealed: string;
  previousSecretSealed: string | null;
  previousSecretExpiresAt: Date | null;
}

interface EndpointRow {
  id: string;
  application_id: string;
  environment: EnvironmentName;
  url: string;
  description: string | null;
  topics: string[];
  filter: Record<string, unknown> | null;
  ordered: boolean;
  status: WebhookEndpointStatus;
  disabled_reason: string | null;
  disabled_at: Date | null;
  active_since: Date;
  failing_since: Date | null;
  last_success_at: Date | null;
  created_at: Date;
  updated_at: Date;
  secret_sealed: string;
  previous_secret_sealed: string | null;
  previous_secret_expires_at: Date | null;
}

const toRecord = (row: EndpointRow): WebhookEndpointRecord => ({
  id: row.id,
  applicationId: row.application_id,
  environment: row.environment,
  url: row.url,
  description: row.description,
  topics: row.topics,
  filter: row.filter,
  ordered: row.ordered,
  status: row.status,
  disabledReason: row.disabled_reason,
  disabledAt: row.disabled_at,
  activeSince: row.active_since,
  failingSince: row.failing_since,
  lastSuccessAt: row.last_success_at,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  secretSealed: row.secret_sealed,
  previousSecretSealed: row.previous_secret_sealed,
  previousSecretExpiresAt: row.previous_secret_expires_at,
});

/** Strips the sealed secrets. */
export function publicEndpoint(record: WebhookEndpointRecord): WebhookEndpoint {
  const { secretSealed: _s, previousSecretSealed: _p, previousSecretExpiresAt: _e, ...endpoint } = record;
  return endpoint;
}

const PATTERN_PART = /^([a-z][a-z0-9_]*|\*|\*\*)$/;
const MAX_PATTERNS = 50;
const MAX_DESCRIPTION = 500;

function assertTopicPatterns(topics: readonly string[]): string[] {
  const unique = [...new Set(topics.map((t) => t.trim()))];
  if (unique.length === 0 || unique.length > MAX_PATTERNS) {
    throw badInput(`topics must list 1–${MAX_PATTERNS} topic names or patterns (order.updated, order.*, order.**, **)`, { field: 'topics' });
  }
  for (const pattern of unique) {
    if (pattern.length > 100 || !pattern.split('.').every((part) => PATTERN_PART.test(part))) {
      throw badInput(`topics: "${pattern}" is not a topic name or pattern; use dotted lower-case words, "*" for one word, "**" for any`, {
        field: 'topics',
      });
    }
  }
  return unique;
}

function assertDescription(description: string | null | undefined): string | null {
  const text = description?.trim() || null;
  if (text !== null && text.length > MAX_DESCRIPTION) throw badInput(`description must be at most ${MAX_DESCRIPTION} characters`, { field: 'description' });
  return text;
}

function assertFilter(filter: unknown): Record<string, unknown> | null {
  if (filter === null || filter === undefined) return null;
  compileWebhookFilter(filter);
  return filter as Record<string, unknown>;
}

/** How URLs are checked (see assertWebhookUrl). */
export interface EndpointUrlOptions {
  allowPrivate: boolean;
  resolve?: HostResolver;
}

export interface CreateWebhookEndpointInput extends Scope {
  url: string;
  topics: readonly string[];
  filter?: unknown;
  description?: string | null | undefined;
  ordered?: boolean | null | undefined;
}

/**
 * Validates and creates an endpoint; returns its secret once (stored sealed). Nothing is written when any
 * input is refused.
 */
export async function createWebhookEndpoint(
  db: Queryable,
  box: SecretBox,
  input: CreateWebhookEndpointInput,
  urls: EndpointUrlOptions,
): Promise<{ secret: string; endpoint: WebhookEndpoint }> {
  const topics = assertTopicPatterns(input.topics);
  const filter = assertFilter(input.filter);
  const description = assertDescription(input.description);
  const url = await assertWebhookUrl(input.url, { environment: input.environment, ...urls });
  const secret = generateWebhookSecret();
  const { rows } = await db.query<EndpointRow>(
    `INSERT INTO webhook_endpoints (id, application_id, environment, url, description, topics, filter, ordered, secret_sealed)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
    [uuidv7(), input.applicationId, input.environment, url, description, topics, filter === null ? null : JSON.stringify(filter), input.ordered ?? false, box.seal(secret)],
  );
  return { secret, endpoint: publicEndpoint(toRecord(rows[0] as EndpointRow)) };
}

export interface UpdateWebhookEndpointInput {
  url?: string | null | undefined;
  topics?: readonly string[] | null | undefined;
  /** null clears the filter; undefined keeps it. */
  filter?: unknown;
  description?: string | null | undefined;
  ordered?: boolean | null | undefined;
}

/** Changes the given fields (omitted ones are kept). */
export async function updateWebhookEndpoint(
  db: Queryable,
  id: string,
  input: UpdateWebhookEndpointInput,
  urls: EndpointUrlOptions,
): Promise<WebhookEndpoint> {
  const current = await findWebhookEndpoint(db, id);
  if (!current) throw notFound(`webhook endpoint ${id} does not exist`);
  const topics = input.topics != null ? assertTopicPatterns(input.topics) : current.topics;
  const filter = input.filter !== undefined ? assertFilter(input.filter) : current.filter;
  const description = input.description !== undefined ? assertDescription(input.description) : current.description;
  const url = input.url != null ? await assertWebhookUrl(input.url, { environment: current.environment, ...urls }) : current.url;
  const { rows } = await db.query<EndpointRow>(
    `UPDATE webhook_endpoints SET url = $2, topics = $3, filter = $4, description = $5, ordered = $6, updated_at = now()
     WHERE id = $1 RETURNING *`,
    [id, url, topics, filter === null ? null : JSON.stringify(filter), description, input.ordered ?? current.ordered],
  );
  const row = rows[0];
  if (!row) throw notFound(`webhook endpoint ${id} does not exist`);
  return publicEndpoint(toRecord(row));
}

export async function findWebhookEndpointRecord(db: Queryable, id: string): Promise<WebhookEndpointRecord | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
  const { rows } = await db.query<EndpointRow>('SELECT * FROM webhook_endpoints WHERE id = $1', [id]);
  return rows[0] && toRecord(rows[0]);
}

export async function findWebhookEndpoint(db: Queryable, id: string): Promise<WebhookEndpoint | undefined> {
  const record = await findWebhookEndpointRecord(db, id);
  return record && publicEndpoint(record);
}

export async function listWebhookEndpoints(db: Queryable, scope: Scope): Promise<WebhookEndpoint[]> {
  const { rows } = await db.query<EndpointRow>(
    'SELECT * FROM webhook_endpoints WHERE application_id = $1 AND environment = $2 ORDER BY created_at, id',
    [scope.applicationId, scope.environment],
  );
  return rows.map((row) => publicEndpoint(toRecord(row)));
}

/** Every enabled endpoint of every application (the dispatcher's working set). */
export async function listEnabledWebhookEndpoints(db: Queryable): Promise<WebhookEndpointRecord[]> {
  const { rows } = await db.query<EndpointRow>(`SELECT * FROM webhook_endpoints WHERE status = 'ENABLED' ORDER BY id`);
  return rows.map(toRecord);
}

/**
 * Enables or disables an endpoint. Enabling clears the failure run and starts `activeSince` anew (events
 * published while it was disabled are not sent; replay sends them). `changed` is false when it already was.
 */
export async function setWebhookEndpointStatus(
  db: Queryable,
  id: string,
  status: WebhookEndpointStatus,
  reason: string | null = null,
): Promise<{ endpoint: WebhookEndpoint; changed: boolean } | undefined> {
  const { rows } = await db.query<EndpointRow & { changed: boolean }>(
    `WITH before AS (SELECT status FROM webhook_endpoints WHERE id = $1 FOR UPDATE)
     UPDATE webhook_endpoints e SET
       status = $2,
       disabled_reason = CASE WHEN $2 = 'DISABLED' THEN $3 ELSE NULL END,
       disabled_at = CASE WHEN $2 = 'DISABLED' THEN coalesce(CASE WHEN before.status = 'DISABLED' THEN e.disabled_at END, now()) ELSE NULL END,
       active_since = CASE WHEN $2 = 'ENABLED' AND before.status = 'DISABLED' THEN now() ELSE e.active_since END,
       failing_since = CASE WHEN $2 = 'ENABLED' THEN NULL ELSE e.failing_since END,
       updated_at = now()
     FROM before WHERE e.id = $1
     RETURNING e.*, before.status <> $2 AS changed`,
    [id, status, reason],
  );
  const row = rows[0];
  return row && { endpoint: publicEndpoint(toRecord(row)), changed: row.changed };
}

export async function deleteWebhookEndpoint(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM webhook_endpoints WHERE id = $1', [id]);
  return (rowCount ?? 0) > 0;
}

/** Replaces the secret; the previous one keeps signing (a second signature) for `overlapMs`. */
export async function rotateWebhookSecret(
  db: Queryable,
  box: SecretBox,
  id: string,
  overlapMs: number,
): Promise<{ secret: string; endpoint: WebhookEndpoint }> {
  const secret = generateWebhookSecret();
  const { rows } = await db.query<EndpointRow>(
    `UPDATE webhook_endpoints SET previous_secret_sealed = secret_sealed, secret_sealed = $2,
       previous_secret_expires_at = now() + ($3 || ' milliseconds')::interval, updated_at = now()
     WHERE id = $1 RETURNING *`,
    [id, box.seal(secret), String(overlapMs)],
  );
  const row = rows[0];
  if (!row) throw notFound(`webhook endpoint ${id} does not exist`);
  return { secret, endpoint: publicEndpoint(toRecord(row)) };
}

/**
 * Opened secrets per sealed value, per box. The delivery worker signs every attempt, and opening (AES-GCM)
 * cost more than signing; a rotation seals a new value, so an entry never goes stale.
 */
const openedSecrets = new WeakMap<SecretBox, Map<string, string>>();

function openSecret(box: SecretBox, sealed: string): string {
  let opened = openedSecrets.get(box);
  if (!opened) openedSecrets.set(box, (opened = new Map()));
  let secret = opened.get(sealed);
  if (secret === undefined) {
    if (opened.size >= 10_000) opened.clear(); // bounded: endpoints deleted or rotated long ago
    secret = box.open(sealed);
    opened.set(sealed, secret);
  }
  return secret;
}

/** The secrets that sign a message now: the current one, then the previous one while its overlap lasts. */
export function signingSecrets(record: WebhookEndpointRecord, box: SecretBox, now = Date.now()): string[] {
  const secrets = [openSecret(box, record.secretSealed)];
  if (record.previousSecretSealed && record.previousSecretExpiresAt && record.previousSecretExpiresAt.getTime() > now) {
    secrets.push(openSecret(box, record.previousSecretSealed));
  }
  return secrets;
}

/** An endpoint compiled for matching: does an event stored at `storedAtMs` (its history entry's time) go to it? */
export interface EndpointMatcher {
  record: WebhookEndpointRecord;
  matches(event: Readonly<EventEnvelope>, storedAtMs: number): boolean;
}

export function compileEndpointMatcher(record: WebhookEndpointRecord): EndpointMatcher {
  let filter: EventPredicate;
  try {
    filter = compileWebhookFilter(record.filter);
  } catch {
    filter = () => false; // validated at creation; a filter that no longer compiles sends nothing
  }
  const since = record.activeSince.getTime();
  const topics = new Map<string, boolean>();
  return {
    record,
    matches(event, storedAtMs) {
      if (storedAtMs < since) return false;
      let granted = topics.get(event.topic);
      if (granted === undefined) {
        granted = topicGranted(record.topics, event.topic);
        topics.set(event.topic, granted);
      }
      return granted && filter(event);
    },
  };
}

/** True when a topic pattern list covers `topic` (the same rules as end-user topic grants). */
export const endpointCoversTopic = (patterns: readonly string[], topic: string): boolean => topicGranted(patterns, topic);
