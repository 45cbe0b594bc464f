import { createHash } from 'node:crypto';
import { rowSchema, type ColumnInfo } from './pg-types.js';

/** What happened to a row: Debezium's `c`/`u`/`d`/`r`, spelled out. `read` comes from a snapshot. */
export type ChangeOperation = 'insert' | 'update' | 'delete' | 'read';

/**
 * The `data` of every CDC event (close to Debezium's envelope). `before` is the old row: complete only
 * under `REPLICA IDENTITY FULL`, the key columns only by default, and null for inserts and reads. `after`
 * is the new row, null for deletes. `lsn` is the commit's position in the log (the snapshot's position for
 * `read`), `commitTime` the commit's time (null for `read`), `txId` the PostgreSQL transaction id (null for
 * `read`).
 */
export interface ChangeEventData {
  op: ChangeOperation;
  schema: string;
  table: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  lsn: string;
  commitTime: string | null;
  txId: number | null;
}

/**
 * The JSON Schema registered for a captured table's topic, generated from its columns. Columns are never
 * `required` (key-only `before` images and unchanged TOAST values omit some), so a table that gains a
 * column gets a new schema version that is BACKWARD and FORWARD compatible with the last.
 */
export function changeEventSchema(schemaName: string, tableName: string, columns: readonly ColumnInfo[]): Record<string, unknown> {
  const row = rowSchema(columns);
  return {
    type: 'object',
    description: `Changes to ${schemaName}.${tableName}, captured from the database's log.`,
    required: ['op', 'schema', 'table', 'before', 'after', 'lsn', 'commitTime', 'txId'],
    properties: {
      op: { type: 'string', enum: ['insert', 'update', 'delete', 'read'] },
      schema: { type: 'string' },
      table: { type: 'string' },
      before: { ...row, description: 'The row before the change (all columns only under REPLICA IDENTITY FULL).' },
      after: { ...row, description: 'The row after the change; null for deletes.' },
      lsn: { type: 'string', description: 'Log position of the commit (of the snapshot for reads).' },
      commitTime: { type: ['string', 'null'], format: 'date-time' },
      txId: { type: ['integer', 'null'], minimum: 0, maximum: 4294967295 },
    },
  };
}

/**
 * A deterministic event id in UUIDv7 layout: the 48-bit time is `timeMs` (the commit time, so ids sort by
 * commit) and the remaining bits come from a SHA-256 of `parts`. The same change read twice from the log
 * (after a crash, a takeover) gets the same id, which is also its idempotency key when published.
 */
export function deterministicEventId(timeMs: number, ...parts: readonly (string | number)[]): string {
  const hash = createHash('sha256').update(parts.join('\u0000')).digest();
  const bytes = Buffer.alloc(16);
  const ms = BigInt(Math.max(0, Math.floor(timeMs)));
  for (let i = 0; i < 6; i += 1) bytes[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  hash.copy(bytes, 6, 0, 10);
  bytes[6] = 0x70 | ((bytes[6] as number) & 0x0f);
  bytes[8] = 0x80 | ((bytes[8] as number) & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
