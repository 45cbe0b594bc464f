import type { ValidateFunction } from 'ajv/dist/2020.js';
import { v7 as uuidv7 } from 'uuid';
import type { Pool } from '../db/pool.js';
import { transaction } from '../db/pool.js';
import type { Queryable } from '../db/queryable.js';
import { RealtimeError, badInput } from '../errors.js';
import type { EnvironmentName } from '../protocol.js';
import { checkCompatibility, type BreakingChange, type CompatibilityMode } from './compatibility.js';
import type { ClaimFilter } from '../auth/end-user.js';
import { compileTopicSchema } from './json-schema.js';
import { RESERVED_FIELD_NAMES, assertTopicName, topicFieldName } from './topic-names.js';

export interface Topic {
  id: string;
  applicationId: string;
  environment: EnvironmentName;
  name: string;
  /** The topic's Subscription field: `order.updated` → `orderUpdated`. */
  fieldName: string;
  description: string | null;
  schemaVersion: number;
  /** The JSON Schema of {@link Topic.schemaVersion}. */
  schema: Record<string, unknown>;
  /** How new schema versions must relate to earlier ones (Confluent's modes). */
  compatibility: CompatibilityMode;
  /** History kept for resume: at most this many events… */
  retentionMaxEvents: number;
  /** …and none older than this. */
  retentionMaxAgeSeconds: number;
  /** PUBLIC: any key of the environment subscribes. PROTECTED: publishable keys need an end-user token granting it. */
  access: TopicAccess;
  /** Rules binding what an end user receives to claims of their token (`customerId` = `sub`). */
  claimFilters: ClaimFilter[];
  /** Whether connected clients may `broadcast` ephemeral messages on the topic. */
  clientMessages: boolean;
  createdAt: Date;
}

export type TopicAccess = 'PUBLIC' | 'PROTECTED';

export interface Retention {
  maxEvents?: number | null | undefined;
  maxAgeSeconds?: number | null | undefined;
}

export interface SchemaVersion {
  topicId: string;
  version: number;
  schema: Record<string, unknown>;
  createdAt: Date;
}

interface TopicRow {
  id: string;
  application_id: string;
  environment: EnvironmentName;
  name: string;
  description: string | null;
  created_at: Date;
  version: number;
  schema: Record<string, unknown>;
  compatibility: CompatibilityMode;
  retention_max_events: number;
  retention_max_age_seconds: number;
  access: TopicAccess;
  claim_filters: ClaimFilter[];
  client_messages: boolean;
}

const toTopic = (row: TopicRow): Topic => ({
  id: row.id,
  applicationId: row.application_id,
  environment: row.environment,
  name: row.name,
  fieldName: topicFieldName(row.name),
  description: row.description,
  schemaVersion: row.version,
  schema: row.schema,
  compatibility: row.compatibility,
  retentionMaxEvents: row.retention_max_events,
  retentionMaxAgeSeconds: row.retention_max_age_seconds,
  access: row.access,
  claimFilters: row.claim_filters,
  clientMessages: row.client_messages,
  createdAt: row.created_at,
});

const LATEST = `
  SELECT t.*, v.version, v.schema FROM topics t
  JOIN LATERAL (SELECT version, schema FROM topic_schema_versions WHERE topic_id = t.id ORDER BY version DESC LIMIT 1) v ON true`;

export async function listTopics(db: Queryable, applicationId: string, environment: EnvironmentName): Promise<Topic[]> {
  const { rows } = await db.query<TopicRow>(
    `${LATEST} WHERE t.application_id = $1 AND t.environment = $2 ORDER BY t.name`,
    [applicationId, environment],
  );
  return rows.map(toTopic);
}

export async function findTopic(
  db: Queryable,
  scope: { applicationId: string; environment: EnvironmentName; name: string },
): Promise<Topic | undefined> {
  const { rows } = await db.query<TopicRow>(
    `${LATEST} WHERE t.application_id = $1 AND t.environment = $2 AND t.name = $3`,
    [scope.applicationId, scope.environment, scope.name],
  );
  return rows[0] && toTopic(rows[0]);
}

/** The registry revision of an environment: it rises with every registry change. */
export async function registryRevision(
  db: Queryable,
  scope: { applicationId: string; environment: EnvironmentName },
): Promise<number> {
  const { rows } = await db.query<{ registry_revision: string }>(
    'SELECT registry_revision FROM environments WHERE application_id = $1 AND name = $2',
    [scope.applicationId, scope.environment],
  );
  return Number(rows[0]?.registry_revision ?? 0);
}

const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );

/**
 * Registers a topic with its first schema version. Registering the same name with an identical schema
 * returns the existing topic (idempotent, so deploy scripts can re-run); another schema is a CONFLICT.
 * Bumps the environment's registry revision so every instance rebuilds its GraphQL schema.
 */
/** Topics under this prefix are the platform's own events (webhook endpoint disabled, CDC gap, …). */
export const PLATFORM_TOPIC_PREFIX = 'realtime.';

export async function registerTopic(
  pool: Pool,
  input: {
    applicationId: string;
    environment: EnvironmentName;
    name: string;
    schema: unknown;
    description?: string | null | undefined;
    compatibility?: CompatibilityMode | null | undefined;
    retention?: Retention | null | undefined;
    access?: TopicAccess | null | undefined;
    claimFilters?: readonly ClaimFilter[] | null | undefined;
    clientMessages?: boolean | null | undefined;
    /** Set only by the platform's own topics (`realtime.*`, see events/platform-events.ts). */
    platform?: boolean;
  },
): Promise<{ topic: Topic; created: boolean }> {
  assertTopicName(input.name);
  if (input.name.startsWith(PLATFORM_TOPIC_PREFIX) && input.platform !== true) {
    throw badInput(`topic names starting with "${PLATFORM_TOPIC_PREFIX}" are reserved for platform events`, { field: 'name' });
  }
  const retention = checkRetention(input.retention);
  const claimFilters = checkClaimFilters(input.claimFilters ?? []);
  const fieldName = topicFieldName(input.name);
  if (RESERVED_FIELD_NAMES.has(fieldName)) {
    throw badInput(`topic name "${input.name}" is reserved by the platform`, { field: 'name' });
  }
  compileTopicSchema(input.schema);
  const description = input.description?.trim() || null;
  return transaction(pool, async (client) => {
    // Lock the environment row: registrations in one environment are serialized, so field-name checks hold.
    const env = await client.query(
      'SELECT 1 FROM environments WHERE application_id = $1 AND name = $2 FOR UPDATE',
      [input.applicationId, input.environment],
    );
    if (env.rowCount === 0) throw new RealtimeError('NOT_FOUND', `application ${input.applicationId} does not exist`);
    const existing = await findTopic(client, input);
    if (existing) {
      if (canonical(existing.schema) === canonical(input.schema)) return { topic: existing, created: false };
      throw new RealtimeError(
        'CONFLICT',
        `topic "${input.name}" already exists with another schema in ${input.environment}; add a version with registerSchemaVersion`,
        { topic: input.name },
      );
    }
    const clash = (await listTopics(client, input.applicationId, input.environment)).find(
      (t) => t.fieldName === fieldName,
    );
    if (clash) {
      throw new RealtimeError(
        'CONFLICT',
        `topic "${input.name}" would take the GraphQL field "${fieldName}" of existing topic "${clash.name}"`,
        { topic: input.name, field: 'name' },
      );
    }
    const id = uuidv7();
    await client.query(
      `INSERT INTO topics (id, application_id, environment, name, description, compatibility, retention_max_events, retention_max_age_seconds, access, claim_filters, client_messages)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        id,
        input.applicationId,
        input.environment,
        input.name,
        description,
        input.compatibility ?? 'BACKWARD',
        retention.maxEvents,
        retention.maxAgeSeconds,
        input.access ?? 'PUBLIC',
        JSON.stringify(claimFilters),
        input.clientMessages ?? false,
      ],
    );
    await client.query('INSERT INTO topic_schema_versions (topic_id, version, schema) VALUES ($1, 1, $2)', [
      id,
      JSON.stringify(input.schema),
    ]);
    await bumpRevision(client, input);
    const topic = await findTopic(client, input);
    return { topic: topic as Topic, created: true };
  });
}

const CLAIM_PATH = /^[A-Za-z_$][\w$-]*(\.[A-Za-z_$][\w$-]*){0,7}$/;

function checkClaimFilters(filters: readonly ClaimFilter[]): ClaimFilter[] {
  if (filters.length > 8) throw badInput('at most 8 claim filters per topic', { field: 'claimFilters' });
  return filters.map((f, i) => {
    if (!CLAIM_PATH.test(f.path)) throw badInput(`claimFilters[${i}].path must be a dotted data path like "customer.id"`, { field: 'claimFilters' });
    if (!/^[\w.:-]{1,64}$/.test(f.claim)) throw badInput(`claimFilters[${i}].claim must name a claim like "sub"`, { field: 'claimFilters' });
    return { path: f.path, claim: f.claim };
  });
}

/** Changes who may subscribe to a topic and the claim rules that bind end users' deliveries. */
export async function setTopicAccess(
  pool: Pool,
  input: TopicScope & {
    access: TopicAccess;
    claimFilters?: readonly ClaimFilter[] | null | undefined;
    clientMessages?: boolean | null | undefined;
  },
): Promise<Topic> {
  return transaction(pool, async (client) => {
    const topic = await lockedTopic(client, input);
    const claimFilters = input.claimFilters == null ? topic.claimFilters : checkClaimFilters(input.claimFilters);
    const clientMessages = input.clientMessages ?? topic.clientMessages;
    await client.query('UPDATE topics SET access = $2, claim_filters = $3, client_messages = $4 WHERE id = $1', [
      topic.id,
      input.access,
      JSON.stringify(claimFilters),
      clientMessages,
    ]);
    await bumpRevision(client, input);
    return { ...topic, access: input.access, claimFilters, clientMessages };
  });
}

const MAX_RETENTION_EVENTS = 1_000_000;
const MAX_RETENTION_AGE = 30 * 24 * 3600;

function checkRetention(retention: Retention | null | undefined): { maxEvents: number; maxAgeSeconds: number } {
  const maxEvents = retention?.maxEvents ?? 10_000;
  const maxAgeSeconds = retention?.maxAgeSeconds ?? 24 * 3600;
  if (!Number.isInteger(maxEvents) || maxEvents < 1 || maxEvents > MAX_RETENTION_EVENTS) {
    throw badInput(`retention.maxEvents must be an integer from 1 to ${MAX_RETENTION_EVENTS}`, { field: 'retention.maxEvents' });
  }
  if (!Number.isInteger(maxAgeSeconds) || maxAgeSeconds < 1 || maxAgeSeconds > MAX_RETENTION_AGE) {
    throw badInput(`retention.maxAgeSeconds must be an integer from 1 to ${MAX_RETENTION_AGE} (30 days)`, {
      field: 'retention.maxAgeSeconds',
    });
  }
  return { maxEvents, maxAgeSeconds };
}

async function bumpRevision(client: Queryable, scope: { applicationId: string; environment: EnvironmentName }): Promise<void> {
  await client.query(
    'UPDATE environments SET registry_revision = registry_revision + 1 WHERE application_id = $1 AND name = $2',
    [scope.applicationId, scope.environment],
  );
}

interface TopicScope {
  applicationId: string;
  environment: EnvironmentName;
  name: string;
}

async function lockedTopic(client: Queryable, scope: TopicScope): Promise<Topic> {
  const { rowCount } = await client.query(
    'SELECT 1 FROM topics WHERE application_id = $1 AND environment = $2 AND name = $3 FOR UPDATE',
    [scope.applicationId, scope.environment, scope.name],
  );
  const topic = rowCount ? await findTopic(client, scope) : undefined;
  if (!topic) {
    throw new RealtimeError('NOT_FOUND', `topic "${scope.name}" is not registered in ${scope.environment}`, { topic: scope.name });
  }
  return topic;
}

export async function listSchemaVersions(db: Queryable, topicId: string): Promise<SchemaVersion[]> {
  const { rows } = await db.query<{ topic_id: string; version: number; schema: Record<string, unknown>; created_at: Date }>(
    'SELECT * FROM topic_schema_versions WHERE topic_id = $1 ORDER BY version',
    [topicId],
  );
  return rows.map((r) => ({ topicId: r.topic_id, version: r.version, schema: r.schema, createdAt: r.created_at }));
}

/** Schema versions never change once written, so they are cached for the life of the process. */
const versionCache = new Map<string, Promise<SchemaVersion | undefined>>();

export function findSchemaVersion(db: Queryable, topicId: string, version: number): Promise<SchemaVersion | undefined> {
  const key = `${topicId}:${version}`;
  let found = versionCache.get(key);
  if (!found) {
    found = db
      .query<{ topic_id: string; version: number; schema: Record<string, unknown>; created_at: Date }>(
        'SELECT * FROM topic_schema_versions WHERE topic_id = $1 AND version = $2',
        [topicId, version],
      )
      .then(({ rows }) => rows[0] && { topicId: rows[0].topic_id, version: rows[0].version, schema: rows[0].schema, createdAt: rows[0].created_at });
    versionCache.set(key, found);
    void found.then((v) => v === undefined && versionCache.delete(key), () => versionCache.delete(key));
  }
  return found;
}

/** The result of checking a candidate schema against a topic's mode and versions. */
export interface CompatibilityReport {
  compatible: boolean;
  breakingChanges: BreakingChange[];
}

/** Checks a candidate schema against the topic's compatibility mode without registering anything. */
export async function checkTopicCompatibility(db: Queryable, scope: TopicScope, schema: unknown): Promise<CompatibilityReport> {
  compileTopicSchema(schema);
  const topic = await findTopic(db, scope);
  if (!topic) throw new RealtimeError('NOT_FOUND', `topic "${scope.name}" is not registered in ${scope.environment}`, { topic: scope.name });
  // What registration would do: a schema identical to the latest is accepted as it is.
  if (canonical(topic.schema) === canonical(schema)) return { compatible: true, breakingChanges: [] };
  const versions = await listSchemaVersions(db, topic.id);
  return checkCompatibility(topic.compatibility, schema, versions);
}

const describeChanges = (changes: readonly BreakingChange[]): string =>
  changes.map((c) => `${c.rule} at ${c.path} (against v${c.version}): ${c.message}`).join('; ');

/**
 * Registers the next schema version of a topic: versions 1, 2, 3…; a schema identical to the latest is a
 * no-op returning the latest version. A version that breaks the topic's compatibility mode is refused
 * with SCHEMA_INCOMPATIBLE listing every breaking change; nothing is written then.
 */
export async function registerSchemaVersion(
  pool: Pool,
  input: TopicScope & { schema: unknown },
): Promise<{ topic: Topic; version: number; created: boolean }> {
  compileTopicSchema(input.schema);
  return transaction(pool, async (client) => {
    const topic = await lockedTopic(client, input);
    if (canonical(topic.schema) === canonical(input.schema)) return { topic, version: topic.schemaVersion, created: false };
    const versions = await listSchemaVersions(client, topic.id);
    const report = checkCompatibility(topic.compatibility, input.schema, versions);
    if (!report.compatible) {
      throw new RealtimeError(
        'SCHEMA_INCOMPATIBLE',
        `the schema breaks ${topic.compatibility} compatibility of "${topic.name}": ${describeChanges(report.breakingChanges)}`,
        { topic: topic.name, compatibility: topic.compatibility, breakingChanges: report.breakingChanges },
      );
    }
    const version = topic.schemaVersion + 1;
    await client.query('INSERT INTO topic_schema_versions (topic_id, version, schema) VALUES ($1, $2, $3)', [
      topic.id,
      version,
      JSON.stringify(input.schema),
    ]);
    await bumpRevision(client, input);
    return { topic: (await findTopic(client, input)) as Topic, version, created: true };
  });
}

/** Changes how future versions of a topic must relate to earlier ones. */
export async function setTopicCompatibility(pool: Pool, input: TopicScope & { compatibility: CompatibilityMode }): Promise<Topic> {
  return transaction(pool, async (client) => {
    const topic = await lockedTopic(client, input);
    await client.query('UPDATE topics SET compatibility = $2 WHERE id = $1', [topic.id, input.compatibility]);
    await bumpRevision(client, input);
    return { ...topic, compatibility: input.compatibility };
  });
}

/** Changes how much history a topic keeps. */
export async function setTopicRetention(pool: Pool, input: TopicScope & { retention: Retention }): Promise<Topic> {
  return transaction(pool, async (client) => {
    const topic = await lockedTopic(client, input);
    // Omitted fields keep their current values.
    const retention = checkRetention({
      maxEvents: input.retention.maxEvents ?? topic.retentionMaxEvents,
      maxAgeSeconds: input.retention.maxAgeSeconds ?? topic.retentionMaxAgeSeconds,
    });
    await client.query('UPDATE topics SET retention_max_events = $2, retention_max_age_seconds = $3 WHERE id = $1', [
      topic.id,
      retention.maxEvents,
      retention.maxAgeSeconds,
    ]);
    await bumpRevision(client, input);
    return { ...topic, retentionMaxEvents: retention.maxEvents, retentionMaxAgeSeconds: retention.maxAgeSeconds };
  });
}

/** Compiled validators, one per (topic, version): compiling happens once per schema version, not per event. */
const validators = new Map<string, ValidateFunction>();

export function schemaValidator(version: Pick<SchemaVersion, 'topicId' | 'version' | 'schema'>): ValidateFunction {
  const key = `${version.topicId}:${version.version}`;
  let validate = validators.get(key);
  if (!validate) {
    validate = compileTopicSchema(version.schema);
    validators.set(key, validate);
  }
  return validate;
}

/** The validator of a topic's latest version. */
export const topicValidator = (topic: Topic): ValidateFunction =>
  schemaValidator({ topicId: topic.id, version: topic.schemaVersion, schema: topic.schema });
