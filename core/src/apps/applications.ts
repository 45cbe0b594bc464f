import { v7 as uuidv7 } from 'uuid';
import type { Pool } from '../db/pool.js';
import { transaction } from '../db/pool.js';
import type { Queryable } from '../db/queryable.js';
import { badInput } from '../errors.js';
import { ENVIRONMENTS, type EnvironmentName } from '../protocol.js';

export interface Application {
  id: string;
  name: string;
  createdAt: Date;
  environments: readonly EnvironmentName[];
}

interface ApplicationRow {
  id: string;
  name: string;
  created_at: Date;
}

const toApplication = (row: ApplicationRow): Application => ({
  id: row.id,
  name: row.name,
  createdAt: row.created_at,
  environments: ENVIRONMENTS,
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `id` has the shape of our ids; lets callers answer NOT_FOUND without a query error. */
export const isUuid = (id: string): boolean => UUID.test(id);

/** Creates an application with its DEV, STAGING and PROD environments, atomically. */
export async function createApplication(pool: Pool, input: { name: string }): Promise<Application> {
  const name = input.name.trim();
  if (name.length === 0 || name.length > 100) throw badInput('name must be 1–100 characters', { field: 'name' });
  return transaction(pool, async (client) => {
    const { rows } = await client.query<ApplicationRow>(
      'INSERT INTO applications (id, name) VALUES ($1, $2) RETURNING *',
      [uuidv7(), name],
    );
    const row = rows[0] as ApplicationRow;
    await client.query(
      'INSERT INTO environments (application_id, name) SELECT $1, unnest($2::text[])',
      [row.id, ENVIRONMENTS],
    );
    return toApplication(row);
  });
}

export async function findApplication(db: Queryable, id: string): Promise<Application | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await db.query<ApplicationRow>('SELECT * FROM applications WHERE id = $1', [id]);
  return rows[0] && toApplication(rows[0]);
}

export async function listApplications(db: Queryable): Promise<Application[]> {
  const { rows } = await db.query<ApplicationRow>('SELECT * FROM applications ORDER BY created_at, id');
  return rows.map(toApplication);
}
