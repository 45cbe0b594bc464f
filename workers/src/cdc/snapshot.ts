import pg from 'pg';
import {
  columnValue,
  connectSource,
  deterministicEventId,
  formatLsn,
  parseLsn,
  qualifiedName,
  snapshotSlotName,
  type CdcSource,
  type CdcTable,
  type ChangeEventData,
  type ColumnInfo,
  type Platform,
} from '@realtime/core';
import { capturedColumns } from '@realtime/core';

export interface SnapshotOptions {
  platform: Platform;
  source: CdcSource;
  connectionString: string;
  tables: readonly { config: CdcTable; schema: string; table: string; columns: ColumnInfo[] }[];
  /**
   * Called with the snapshot's log position before any row is published; resolves when the stream has
   * published every change committed before it (and holds later ones until the snapshot is done).
   */
  waitForPosition(lsn: bigint): Promise<void>;
  /** Rows fetched per round trip. @default 1000 */
  batchSize?: number;
}

/** Every value as PostgreSQL's text, converted by pg-types.ts exactly as streamed values are. */
const TEXT_TYPES = { getTypeParser: () => (value: string) => value };

/**
 * Publishes every captured row as op `read`, consistent with the stream: a temporary slot exports a
 * snapshot at a log position P, the rows are read in a transaction that imports that snapshot, and the
 * stream orders them after every commit before P and before every commit after it. Rows carry `lsn` = P
 * and null `commitTime`/`txId`. A snapshot interrupted by a crash is taken again (at a new position, so
 * with new ids): reads are at-least-once.
 */
export async function takeSnapshot(options: SnapshotOptions): Promise<void> {
  const { platform, source, connectionString, tables, waitForPosition, batchSize = 1000 } = options;
  const scope = { applicationId: source.applicationId, environment: source.environment };
  const repl = await connectSource(connectionString, { replication: true });
  const reader = new pg.Client({ connectionString, types: TEXT_TYPES } as pg.ClientConfig);
  reader.on('error', () => undefined);
  try {
    await reader.connect();
    const created = await repl.query<{ consistent_point: string; snapshot_name: string }>(
      `CREATE_REPLICATION_SLOT "${snapshotSlotName(source.id)}" TEMPORARY LOGICAL pgoutput EXPORT_SNAPSHOT`,
    );
    const { consistent_point: point, snapshot_name: snapshotName } = created.rows[0] as { consistent_point: string; snapshot_name: string };
    await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await reader.query(`SET TRANSACTION SNAPSHOT '${snapshotName.replaceAll("'", "''")}'`);
    // The reading transaction now holds the snapshot; the temporary slot is no longer needed.
    await repl.end().catch(() => undefined);
    const lsn = parseLsn(point);
    const lsnText = formatLsn(lsn);
    await waitForPosition(lsn);
    const startedMs = Date.now();
    for (const table of tables) {
      const columns = capturedColumns(table.config, table.columns);
      const list = columns.map((c) => `"${c.name.replaceAll('"', '""')}"`).join(', ');
      await reader.query(`DECLARE rt_snapshot NO SCROLL CURSOR FOR SELECT ${list} FROM ${qualifiedName(table)}`);
      let index = 0;
      for (;;) {
        const { rows } = await reader.query<Record<string, string | null>>(`FETCH ${batchSize} FROM rt_snapshot`);
        for (const row of rows) {
          const after = Object.fromEntries(columns.map((c) => [c.name, columnValue(c.typeOid, c.typeName, row[c.name] ?? null)]));
          const data: ChangeEventData = { op: 'read', schema: table.schema, table: table.table, before: null, after, lsn: lsnText, commitTime: null, txId: null };
          await platform.publisher.publishSystem(scope, {
            topic: table.config.topic,
            data,
            id: deterministicEventId(startedMs, source.id, 'read', lsnText, table.config.table, index),
            source: `/cdc/${source.id}`,
          });
          index += 1;
        }
        if (rows.length < batchSize) break;
      }
      await reader.query('CLOSE rt_snapshot');
    }
    await reader.query('COMMIT');
  } finally {
    await repl.end().catch(() => undefined);
    await reader.end().catch(() => undefined);
  }
}
