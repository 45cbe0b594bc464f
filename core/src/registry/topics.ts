import type { ValidateFunction } from 'ajv/dist/2020.js';
import { v7 as uuidv7 } from 'uuid';
import type { Pool } from '../db/pool.js';
import { transaction } from '../db/pool.js';
import type { Queryable } from '../db/queryable.js';
import { RealtimeError, badInput } from '../errors.js';
import type { EnvironmentName } from '../protocol.js';
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
export async function registerTopic(
  pool: Pool,
  input: {
    applicationId: string;
    environment: EnvironmentName;
    name: string;
    schema: unknown;
    description?: string | null | undefined;
  },
): Promise<{ topic: Topic; created: boolean }> {
  assertTopicName(input.name);
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
        `topic "${input.name}" already exists with another schema in ${input.environment}`,
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
      'INSERT INTO topics (id, application_id, environment, name, description) VALUES ($1, $2, $3, $4, $5)',
      [id, input.applicationId, input.environment, input.name, description],
    );
    await client.query('INSERT INTO topic_schema_versions (topic_id, version, schema) VALUES ($1, 1, $2)', [
      id,
      JSON.stringify(input.schema),
    ]);
    await client.query(
      'UPDATE environments SET registry_revision = registry_revision + 1 WHERE application_id = $1 AND name = $2',
      [input.applicationId, input.environment],
    );
    const topic = await findTopic(client, input);
    return { topic: topic as Topic, created: true };
  });
}

/** Compiled validators, one per (topic, version): compiling happens once per schema version, not per event. */
const validators = new Map<string, ValidateFunction>();

export function topicValidator(topic: Topic): ValidateFunction {
  const key = `${topic.id}:${topic.schemaVersion}`;
  let validate = validators.get(key);
  if (!validate) {
    validate = compileTopicSchema(topic.schema);
    validators.set(key, validate);
  }
  return validate;
}
