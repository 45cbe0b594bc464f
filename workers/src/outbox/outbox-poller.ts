import type pg from 'pg';
import { parseTableName, qualifiedName, type CdcSource, type Platform } from '@realtime/core';
import { publishOutboxRow, type OutboxRow } from './outbox-row.js';

/**
 * One round of the polling relay (for databases without logical replication). Sequence values commit out
 * of order: a row with id 7 may commit after id 8 was read, so "everything above the last id" would skip
 * it. Instead a round reads, in one REPEATABLE READ snapshot, only rows whose inserting transaction is
 * older than the snapshot's xmin (the oldest transaction still running): every such transaction has
 * finished, so no older row can still appear. Rows are published in transaction order, then by id (per
 * subject this is commit order for transactions that did not overlap), and deleted once stored in
 * history. A crash between publish and delete re-publishes them with the same ids (at-least-once; the
 * idempotency window keeps history single). A long-running transaction anywhere in the database delays
 * the relay (never reorders or loses rows); xmin is compared modulo 2^32, so rows must be relayed within
 * two billion transactions of being written.
 *
 * Returns how many rows were relayed.
 */
export async function relayOutboxRound(
  platform: Platform,
  source: CdcSource,
  client: pg.ClientBase,
  batchSize = 500,
): Promise<number> {
  const table = qualifiedName(parseTableName(source.outboxTable ?? 'public.realtime_outbox'));
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  let rows: OutboxRow[];
  try {
    const horizon = await client.query<{ h: string }>(`SELECT (pg_snapshot_xmin(pg_current_snapshot())::text::bigint % 4294967296)::text AS h`);
    const h = Number((horizon.rows[0] as { h: string }).h);
    ({ rows } = await client.query<OutboxRow>(
      `SELECT id, topic, subject, data, floor(extract(epoch FROM created_at) * 1000)::float8 AS created_at
         FROM ${table}
        WHERE ((($1::bigint - xmin::text::bigint) + 4294967296) % 4294967296) BETWEEN 1 AND 2147483647
        ORDER BY ((xmin::text::bigint - $1::bigint + 4294967296) % 4294967296), id
        LIMIT $2`,
      [h, batchSize],
    ));
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
  const done: unknown[] = [];
  try {
    for (const row of rows) {
      await publishOutboxRow(platform, source, row);
      done.push(row.id);
    }
  } finally {
    if (done.length > 0) await client.query(`DELETE FROM ${table} WHERE id = ANY($1)`, [done]);
  }
  return rows.length;
}
