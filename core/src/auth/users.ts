import { v7 as uuidv7 } from 'uuid';
import type { Queryable } from '../db/queryable.js';
import type { UserRole } from './principal.js';
import { hashPassword, randomToken, verifyPassword } from './secrets.js';

export interface User {
  id: string;
  email: string;
  role: UserRole;
  createdAt: Date;
}

interface UserRow {
  id: string;
  email: string;
  role: UserRole;
  created_at: Date;
  password_hash: string;
}

const toUser = (row: UserRow): User => ({ id: row.id, email: row.email, role: row.role, createdAt: row.created_at });

export async function createUser(db: Queryable, input: { email: string; password: string; role: UserRole }): Promise<User> {
  const hash = await hashPassword(input.password);
  const { rows } = await db.query<UserRow>(
    'INSERT INTO users (id, email, password_hash, role) VALUES ($1, $2, $3, $4) RETURNING *',
    [uuidv7(), input.email.trim(), hash, input.role],
  );
  return toUser(rows[0] as UserRow);
}

export async function findUserById(db: Queryable, id: string): Promise<User | undefined> {
  const { rows } = await db.query<UserRow>('SELECT * FROM users WHERE id = $1', [id]);
  return rows[0] && toUser(rows[0]);
}

// Verifying against a fixed hash when the email is unknown keeps the response time independent of whether it exists.
let decoyHash: Promise<string> | undefined;

/** The user whose email and password match, or undefined; takes the same time either way. */
export async function authenticateUser(db: Queryable, email: string, password: string): Promise<User | undefined> {
  const { rows } = await db.query<UserRow>('SELECT * FROM users WHERE lower(email) = lower($1)', [email.trim()]);
  const row = rows[0];
  if (!row) {
    decoyHash ??= hashPassword(randomToken());
    await verifyPassword(password, await decoyHash);
    return undefined;
  }
  return (await verifyPassword(password, row.password_hash)) ? toUser(row) : undefined;
}

/**
 * Creates the first owner when no user exists yet. Returns the generated password when one had to be
 * made up (so the caller can print it once), `undefined` otherwise. Safe to call from concurrent starts.
 */
export async function ensureOwner(
  db: Queryable,
  input: { email: string; password: string | undefined },
): Promise<{ created: boolean; generatedPassword: string | undefined }> {
  const { rows } = await db.query<{ count: string }>('SELECT count(*) FROM users');
  if (Number(rows[0]?.count ?? 0) > 0) return { created: false, generatedPassword: undefined };
  const password = input.password ?? randomToken(18);
  const hash = await hashPassword(password);
  // The NOT EXISTS guard makes two racing starts create one owner.
  const inserted = await db.query(
    `INSERT INTO users (id, email, password_hash, role)
     SELECT $1, $2, $3, 'OWNER' WHERE NOT EXISTS (SELECT 1 FROM users)`,
    [uuidv7(), input.email, hash],
  );
  const created = (inserted.rowCount ?? 0) > 0;
  return { created, generatedPassword: created && input.password === undefined ? password : undefined };
}
