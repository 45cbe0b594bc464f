import type { Pool } from '../db/pool.js';
import type { PublishScope } from '../events/publisher.js';
import type { RegistryCache } from '../registry/registry-cache.js';
import { findTopic, registerSchemaVersion, registerTopic } from '../registry/topics.js';
import { RealtimeError } from '../errors.js';
import { changeEventSchema } from './change-event.js';
import type { CdcTable } from './cdc-sources.js';
import type { ColumnInfo } from './pg-types.js';

export interface CdcTopicDeps {
  pool: Pool;
  registry: RegistryCache;
  /** Tells every instance the registry changed (platform.announce). */
  announce: (message: { type: 'registry-changed'; scope: PublishScope }) => Promise<void>;
}

/** The captured columns of a table: all of them, or those the source names (in table order). */
export function capturedColumns(table: Pick<CdcTable, 'columns' | 'table'>, columns: readonly ColumnInfo[]): ColumnInfo[] {
  if (table.columns === null) return [...columns];
  const missing = table.columns.filter((name) => !columns.some((c) => c.name === name));
  if (missing.length > 0) {
    throw new RealtimeError('SOURCE_NOT_READY', `table ${table.table} has no column ${missing.map((m) => `"${m}"`).join(', ')}`, { field: 'columns' });
  }
  return columns.filter((c) => table.columns?.includes(c.name));
}

/**
 * Registers (or versions) the topic of a captured table with the JSON Schema generated from its columns:
 * a new topic gets version 1; a changed table (an added column) registers the next version, which the
 * topic's compatibility mode must accept (SCHEMA_INCOMPATIBLE otherwise); an unchanged one is a no-op.
 */
export async function ensureCdcTopic(deps: CdcTopicDeps, scope: PublishScope, table: CdcTable, columns: readonly ColumnInfo[]): Promise<void> {
  const [schemaName, tableName] = table.table.split('.') as [string, string];
  const schema = changeEventSchema(schemaName, tableName, capturedColumns(table, columns));
  const existing = await findTopic(deps.pool, { ...scope, name: table.topic });
  let changed: boolean;
  if (!existing) {
    ({ created: changed } = await registerTopic(deps.pool, {
      ...scope,
      name: table.topic,
      schema,
      description: `Row changes of ${table.table} (CDC).`,
    }));
  } else {
    ({ created: changed } = await registerSchemaVersion(deps.pool, { ...scope, name: table.topic, schema }));
  }
  if (changed) {
    deps.registry.invalidate(scope);
    await deps.announce({ type: 'registry-changed', scope });
  }
}
