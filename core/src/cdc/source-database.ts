import pg from 'pg';
import { RealtimeError } from '../errors.js';
import { redactUrl } from '../db/pool.js';
import type { ColumnInfo } from './pg-types.js';

/**
 * What the platform does inside a captured (application) database: check it can be captured, read table
 * columns, own one publication and one replication slot per source, and measure the slot's lag. Names are
 * derived from the source id, so nothing else needs to be remembered to clean up.
 */

/** `schema.table` split; a bare name means `public`. Quoted identifiers are not supported. */
export function parseTableName(text: string): { schema: string; table: string } {
  const match = /^(?:([A-Za-z_][A-Za-z0-9_$]*)\.)?([A-Za-z_][A-Za-z0-9_$]*)$/.exec(text.trim());
  if (!match) {
    throw new RealtimeError('BAD_USER_INPUT', `table "${text}" must be "schema.table" (unquoted identifiers), e.g. "public.orders"`, { field: 'table' });
  }
  return { schema: match[1] ?? 'public', table: match[2] as string };
}

const quote = (identifier: string): string => `"${identifier.replaceAll('"', '""')}"`;

/** `"schema"."table"`, for SQL text. */
export const qualifiedName = (name: { schema: string; table: string }): string => `${quote(name.schema)}.${quote(name.table)}`;

/** The replication slot a source owns (lower-case letters, digits and `_`, as PostgreSQL requires). */
export const slotName = (sourceId: string): string => `rt_cdc_${sourceId.replaceAll('-', '')}`;
/** The temporary slot a snapshot exports its consistent snapshot from. */
export const snapshotSlotName = (sourceId: string): string => `rt_snap_${sourceId.replaceAll('-', '')}`;
/** The publication a source owns. */
export const publicationName = (sourceId: string): string => `rt_cdc_${sourceId.replaceAll('-', '')}`;

/** A client on the captured database; its `error` events are swallowed (failures surface on the next query). */
export async function connectSource(connectionString: string, options: { replication?: boolean } = {}): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString,
    connectionTimeoutMillis: 5_000,
    ...(options.replication ? { replication: 'database' } : {}),
  } as pg.ClientConfig);
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    throw new RealtimeError('SOURCE_NOT_READY', `cannot connect to the source database ${redactUrl(connectionString)}: ${(error as Error).message}`, {
      field: 'connectionString',
    });
  }
  return client;
}

/** The columns of a table in attribute order, or undefined when the table does not exist. */
export async function readColumns(client: pg.ClientBase, name: { schema: string; table: string }): Promise<ColumnInfo[] | undefined> {
  const { rows } = await client.query<{ name: string; type_oid: number; type_name: string; not_null: boolean }>(
    `SELECT a.attname AS name, a.atttypid::int AS type_oid, t.typname AS type_name, a.attnotnull AS not_null
       FROM pg_attribute a
       JOIN pg_class c ON c.oid = a.attrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_type t ON t.oid = a.atttypid
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [name.schema, name.table],
  );
  if (rows.length === 0) return undefined;
  return rows.map((r) => ({ name: r.name, typeOid: r.type_oid, typeName: r.type_name, notNull: r.not_null }));
}

/**
 * Checks what capture needs, failing with SOURCE_NOT_READY naming the first problem: `wal_level=logical`
 * and a role with REPLICATION (only when `logical`), and every table present.
 */
export async function checkSource(
  client: pg.ClientBase,
  options: { logical: boolean; tables: readonly { schema: string; table: string }[] },
): Promise<Map<string, ColumnInfo[]>> {
  if (options.logical) {
    const { rows } = await client.query<{ wal_level: string; replication: boolean }>(
      `SELECT current_setting('wal_level') AS wal_level, (SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user) AS replication`,
    );
    const row = rows[0] as { wal_level: string; replication: boolean };
    if (row.wal_level !== 'logical') {
      throw new RealtimeError(
        'SOURCE_NOT_READY',
        `the source database has wal_level=${row.wal_level}; capture needs wal_level=logical (ALTER SYSTEM SET wal_level = logical, then restart PostgreSQL), or use the outbox with mode POLL`,
        { field: 'connectionString' },
      );
    }
    if (!row.replication) {
      throw new RealtimeError('SOURCE_NOT_READY', 'the connection string\'s role lacks the REPLICATION attribute (ALTER ROLE … WITH REPLICATION)', {
        field: 'connectionString',
      });
    }
  }
  const columns = new Map<string, ColumnInfo[]>();
  for (const name of options.tables) {
    const found = await readColumns(client, name);
    if (!found) {
      throw new RealtimeError('SOURCE_NOT_READY', `table ${name.schema}.${name.table} does not exist in the source database`, { field: 'tables' });
    }
    columns.set(`${name.schema}.${name.table}`, found);
  }
  return columns;
}

/** Creates the source's publication for `tables`, or sets its table list when it exists. */
export async function ensurePublication(client: pg.ClientBase, sourceId: string, tables: readonly { schema: string; table: string }[]): Promise<void> {
  const name = quote(publicationName(sourceId));
  const list = tables.map(qualifiedName).join(', ');
  const { rowCount } = await client.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [publicationName(sourceId)]);
  if (rowCount === 0) {
    try {
      await client.query(`CREATE PUBLICATION ${name} FOR TABLE ${list}`);
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== '42710') throw error; // created concurrently
    }
  }
  await client.query(`ALTER PUBLICATION ${name} SET TABLE ${list}`);
}

/** A replication slot as pg_replication_slots shows it, with its lag behind the server's WAL. */
export interface SlotState {
  /** `reserved`, `extended`, `unreserved` or `lost` (PostgreSQL ≥ 13). */
  walStatus: string | null;
  active: boolean;
  activePid: number | null;
  confirmedLsn: string | null;
  /** Bytes of WAL between the slot's confirmed position and the server's current position. */
  lagBytes: number | null;
}

export async function readSlot(client: pg.ClientBase, slot: string): Promise<SlotState | undefined> {
  const { rows } = await client.query<{ wal_status: string | null; active: boolean; active_pid: number | null; confirmed: string | null; lag: string | null }>(
    `SELECT wal_status, active, active_pid, confirmed_flush_lsn::text AS confirmed,
            pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint::text AS lag
       FROM pg_replication_slots WHERE slot_name = $1`,
    [slot],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    walStatus: row.wal_status,
    active: row.active,
    activePid: row.active_pid,
    confirmedLsn: row.confirmed,
    lagBytes: row.lag === null ? null : Number(row.lag),
  };
}

/** True when the slot can no longer stream: invalidated (`wal_status = 'lost'`) or its restart point gone. */
export const slotLost = (state: SlotState | undefined): boolean => state === undefined || state.walStatus === 'lost';

/**
 * Drops a slot, ending the walsender that holds it first (a consumer elsewhere, or one that is dying).
 * Retries while the slot is still active; resolves when it is gone.
 */
export async function dropSlot(client: pg.ClientBase, slot: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await readSlot(client, slot);
    if (!state) return;
    if (state.activePid !== null) await client.query('SELECT pg_terminate_backend($1)', [state.activePid]);
    try {
      await client.query('SELECT pg_drop_replication_slot($1)', [slot]);
      return;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === '42704') return; // gone meanwhile
      if (code !== '55006' || Date.now() > deadline) throw error; // 55006: still active
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Removes everything a source owns in its database: the slot (and a leftover snapshot slot) and the publication. */
export async function dropSourceObjects(client: pg.ClientBase, sourceId: string): Promise<void> {
  await dropSlot(client, slotName(sourceId));
  await dropSlot(client, snapshotSlotName(sourceId));
  await client.query(`DROP PUBLICATION IF EXISTS ${quote(publicationName(sourceId))}`);
}

/**
 * Creates the source's replication slot (pgoutput, no exported snapshot) and returns its consistent point:
 * every transaction committing after it will be streamed. Waits for transactions running at that moment
 * to finish, as PostgreSQL requires.
 */
export async function createSlot(connectionString: string, sourceId: string): Promise<string> {
  const repl = await connectSource(connectionString, { replication: true });
  try {
    const { rows } = await repl.query<{ consistent_point: string }>(`CREATE_REPLICATION_SLOT "${slotName(sourceId)}" LOGICAL pgoutput NOEXPORT_SNAPSHOT`);
    return (rows[0] as { consistent_point: string }).consistent_point;
  } finally {
    await repl.end().catch(() => undefined);
  }
}
