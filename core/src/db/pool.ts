import pg from 'pg';
import { MIGRATIONS } from './migrations.js';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

/** Thrown when a backing service cannot be reached at start; the message names the URL and how to start it. */
export class ServiceUnreachableError extends Error {
  override name = 'ServiceUnreachableError';
}

/** The URL with its password replaced, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}

const POSTGRES_HINT =
  "start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` (Debian) or set DATABASE_URL";

/**
 * Creates the database named in `databaseUrl` when it does not exist yet, connecting to the
 * server's `postgres` database to do so. Fails fast with {@link ServiceUnreachableError}.
 */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const target = new URL(databaseUrl);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) throw new ServiceUnreachableError(`DATABASE_URL ${redactUrl(databaseUrl)} names no database`);
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
  } catch (error) {
    throw new ServiceUnreachableError(
      `PostgreSQL is unreachable at ${redactUrl(databaseUrl)} (${(error as Error).message}); ${POSTGRES_HINT}`,
    );
  }
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
      } catch (error) {
        // Another process created it between our check and our CREATE: that is fine.
        if ((error as { code?: string }).code !== '42P04') throw error;
      }
    }
  } finally {
    await client.end();
  }
}

/** Opens a pool on an existing database and checks that it answers. */
export async function createPool(databaseUrl: string, max = 10): Promise<Pool> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max, connectionTimeoutMillis: 5_000 });
  pool.on('error', () => {
    // Idle-client errors (server restart) surface on the next query; without a listener they crash the process.
  });
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end();
    throw new ServiceUnreachableError(
      `PostgreSQL is unreachable at ${redactUrl(databaseUrl)} (${(error as Error).message}); ${POSTGRES_HINT}`,
    );
  }
  return pool;
}

const MIGRATION_LOCK = 0x7265616c; // 'real'

/** Applies every migration not yet recorded, each in its own transaction, under an advisory lock. */
export async function migrate(pool: Pool): Promise<number[]> {
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set((await client.query<{ id: number }>('SELECT id FROM schema_migrations')).rows.map((r) => r.id));
    for (const migration of MIGRATIONS) {
      if (done.has(migration.id)) continue;
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query('INSERT INTO schema_migrations (id, name) VALUES ($1, $2)', [migration.id, migration.name]);
        await client.query('COMMIT');
        applied.push(migration.id);
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
  return applied;
}

/** Runs `work` in a transaction on one client; rolls back on any error. */
export async function transaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
