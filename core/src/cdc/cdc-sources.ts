import { v7 as uuidv7 } from 'uuid';
import type { Queryable } from '../db/queryable.js';
import { RealtimeError, badInput } from '../errors.js';
import type { EnvironmentName } from '../protocol.js';

/** The row changes a captured table publishes. */
export type CdcOperationName = 'INSERT' | 'UPDATE' | 'DELETE';
export const CDC_OPERATIONS: readonly CdcOperationName[] = ['INSERT', 'UPDATE', 'DELETE'];

/** One captured table and the topic its changes go to. */
export interface CdcTable {
  /** `schema.table`, normalized (`orders` → `public.orders`). */
  table: string;
  topic: string;
  /** Columns carried in `before`/`after`; null means all of them. */
  columns: string[] | null;
  operations: CdcOperationName[];
}

/** How outbox rows reach the relay: read from the replication stream, or polled (no logical replication needed). */
export type OutboxMode = 'STREAM' | 'POLL';

/**
 * Where a source is: STARTING (waiting for a worker), SNAPSHOTTING (loading existing rows), RUNNING
 * (streaming), PAUSED (asked to stop; the slot keeps WAL), ERROR (`lastError` says why; a lost slot
 * recovers by itself with a fresh slot and snapshot, other errors are retried).
 */
export type CdcSourceStatus = 'STARTING' | 'SNAPSHOTTING' | 'RUNNING' | 'PAUSED' | 'ERROR';

export interface CdcSource {
  id: string;
  applicationId: string;
  environment: EnvironmentName;
  name: string;
  /** Sealed with the platform's secret key; opened only by workers and administrative calls. */
  connectionStringEncrypted: string;
  tables: CdcTable[];
  outboxTable: string | null;
  outboxMode: OutboxMode | null;
  status: CdcSourceStatus;
  paused: boolean;
  /** A snapshot is due: more were asked for than taken. */
  snapshotRequested: boolean;
  /** Snapshots asked for so far; a worker passes it to the stream, which records it as done when taken. */
  snapshotRequests: number;
  lastError: string | null;
  lastErrorAt: Date | null;
  confirmedLsn: string | null;
  lagBytes: number | null;
  /** When the consumer last had nothing outstanding: lag in seconds counts from here. */
  caughtUpAt: Date | null;
  lagMeasuredAt: Date | null;
  lastSnapshotAt: Date | null;
  createdAt: Date;
}

interface Row {
  id: string;
  application_id: string;
  environment: EnvironmentName;
  name: string;
  connection_string_encrypted: string;
  tables: CdcTable[];
  outbox_table: string | null;
  outbox_mode: OutboxMode | null;
  status: CdcSourceStatus;
  paused: boolean;
  snapshot_requests: number;
  snapshots_done: number;
  last_error: string | null;
  last_error_at: Date | null;
  confirmed_lsn: string | null;
  lag_bytes: string | null;
  caught_up_at: Date | null;
  lag_measured_at: Date | null;
  last_snapshot_at: Date | null;
  created_at: Date;
}

const toSource = (r: Row): CdcSource => ({
  id: r.id,
  applicationId: r.application_id,
  environment: r.environment,
  name: r.name,
  connectionStringEncrypted: r.connection_string_encrypted,
  tables: r.tables,
  outboxTable: r.outbox_table,
  outboxMode: r.outbox_mode,
  status: r.status,
  paused: r.paused,
  snapshotRequested: r.snapshot_requests > r.snapshots_done,
  snapshotRequests: r.snapshot_requests,
  lastError: r.last_error,
  lastErrorAt: r.last_error_at,
  confirmedLsn: r.confirmed_lsn,
  lagBytes: r.lag_bytes === null ? null : Number(r.lag_bytes),
  caughtUpAt: r.caught_up_at,
  lagMeasuredAt: r.lag_measured_at,
  lastSnapshotAt: r.last_snapshot_at,
  createdAt: r.created_at,
});

/** True when the source streams from a replication slot (captured tables, or an outbox read from the stream). */
export const usesReplication = (source: Pick<CdcSource, 'tables' | 'outboxMode'>): boolean =>
  source.tables.length > 0 || source.outboxMode === 'STREAM';

/** Seconds since the consumer last had nothing outstanding; 0 while caught up or before it first ran. */
export function lagSeconds(source: Pick<CdcSource, 'caughtUpAt' | 'status' | 'paused'>, now = Date.now()): number {
  if (!source.caughtUpAt) return 0;
  return Math.max(0, Math.floor((now - source.caughtUpAt.getTime()) / 1000));
}

export async function insertCdcSource(
  db: Queryable,
  input: {
    applicationId: string;
    environment: EnvironmentName;
    name: string;
    connectionStringEncrypted: string;
    tables: CdcTable[];
    outboxTable: string | null;
    outboxMode: OutboxMode | null;
    snapshot: boolean;
  },
): Promise<CdcSource> {
  const name = input.name.trim();
  if (!/^[\w .:-]{1,64}$/.test(name)) throw badInput('name must be 1–64 letters, digits, spaces or "_.:-"', { field: 'name' });
  try {
    const { rows } = await db.query<Row>(
      `INSERT INTO cdc_sources (id, application_id, environment, name, connection_string_encrypted, tables, outbox_table, outbox_mode, snapshot_requests)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
      [uuidv7(), input.applicationId, input.environment, name, input.connectionStringEncrypted, JSON.stringify(input.tables), input.outboxTable, input.outboxMode, input.snapshot ? 1 : 0],
    );
    return toSource(rows[0] as Row);
  } catch (error) {
    if ((error as { code?: string }).code === '23505') {
      throw new RealtimeError('CONFLICT', `a CDC source named "${name}" already exists in ${input.environment}`, { field: 'name' });
    }
    throw error;
  }
}

export async function findCdcSource(db: Queryable, id: string): Promise<CdcSource | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
  const { rows } = await db.query<Row>('SELECT * FROM cdc_sources WHERE id = $1', [id]);
  return rows[0] && toSource(rows[0]);
}

export async function listCdcSources(db: Queryable, scope?: { applicationId: string; environment: EnvironmentName }): Promise<CdcSource[]> {
  const { rows } = scope
    ? await db.query<Row>('SELECT * FROM cdc_sources WHERE application_id = $1 AND environment = $2 ORDER BY name', [scope.applicationId, scope.environment])
    : await db.query<Row>('SELECT * FROM cdc_sources ORDER BY created_at');
  return rows.map(toSource);
}

/** What a worker reports about a source it runs. Omitted fields keep their values. */
export interface CdcSourceReport {
  status?: CdcSourceStatus;
  /** A string records an error (with its time); null clears it. */
  lastError?: string | null;
  confirmedLsn?: string;
  lagBytes?: number | null;
  caughtUpAt?: Date;
  lastSnapshotAt?: Date;
  /** The request number a completed snapshot satisfied (see {@link CdcSource.snapshotRequests}). */
  snapshotDone?: number;
}

export async function reportCdcSource(db: Queryable, id: string, report: CdcSourceReport): Promise<void> {
  const sets: string[] = [];
  const values: unknown[] = [id];
  const set = (column: string, value: unknown): void => {
    values.push(value);
    sets.push(`${column} = $${values.length}`);
  };
  if (report.status !== undefined) {
    // A pause wins over a report still in flight from the stopping worker.
    values.push(report.status);
    sets.push(`status = CASE WHEN paused THEN 'PAUSED' ELSE $${values.length} END`);
  }
  if (report.lastError !== undefined) {
    set('last_error', report.lastError);
    if (report.lastError !== null) sets.push('last_error_at = now()');
  }
  if (report.confirmedLsn !== undefined) set('confirmed_lsn', report.confirmedLsn);
  if (report.lagBytes !== undefined) {
    set('lag_bytes', report.lagBytes);
    sets.push('lag_measured_at = now()');
  }
  if (report.caughtUpAt !== undefined) set('caught_up_at', report.caughtUpAt);
  if (report.lastSnapshotAt !== undefined) set('last_snapshot_at', report.lastSnapshotAt);
  if (report.snapshotDone !== undefined) {
    values.push(report.snapshotDone);
    sets.push(`snapshots_done = GREATEST(snapshots_done, $${values.length})`);
  }
  if (sets.length === 0) return;
  await db.query(`UPDATE cdc_sources SET ${sets.join(', ')} WHERE id = $1`, values);
}

/** Pauses or resumes a source (the worker stops or starts its consumer within one poll). */
export async function setCdcSourcePaused(db: Queryable, id: string, paused: boolean): Promise<void> {
  await db.query(`UPDATE cdc_sources SET paused = $2, status = CASE WHEN $2 THEN 'PAUSED' ELSE 'STARTING' END WHERE id = $1`, [id, paused]);
}

/**
 * Asks the source's worker for a snapshot (op `read` for every row), consistent with the stream. Returns
 * the request's number.
 */
export async function requestCdcSnapshot(db: Queryable, id: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>('UPDATE cdc_sources SET snapshot_requests = snapshot_requests + 1 WHERE id = $1 RETURNING snapshot_requests AS n', [id]);
  return rows[0]?.n ?? 0;
}

export async function deleteCdcSourceRow(db: Queryable, id: string): Promise<void> {
  await db.query('DELETE FROM cdc_sources WHERE id = $1', [id]);
}
