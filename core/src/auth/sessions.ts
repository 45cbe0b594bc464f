import type { Queryable } from '../db/queryable.js';
import type { UserPrincipal, UserRole } from './principal.js';
import { hashSecret, randomToken } from './secrets.js';

/** Creates a server-side session; returns the 128-bit random id for the cookie (only its hash is stored). */
export async function createSession(db: Queryable, userId: string, ttlSeconds: number): Promise<string> {
  const id = randomToken(16);
  await db.query(
    `INSERT INTO sessions (id_hash, user_id, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3))`,
    [hashSecret(id), userId, ttlSeconds],
  );
  return id;
}

/** The user of a live session, or undefined when the id is unknown or expired. */
export async function resolveSession(db: Queryable, sessionId: string): Promise<UserPrincipal | undefined> {
  const sessionHash = hashSecret(sessionId);
  const { rows } = await db.query<{ id: string; email: string; role: UserRole }>(
    `SELECT u.id, u.email, u.role FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.id_hash = $1 AND s.expires_at > now()`,
    [sessionHash],
  );
  const row = rows[0];
  return row && { kind: 'user', userId: row.id, email: row.email, role: row.role, sessionHash };
}

export async function deleteSession(db: Queryable, sessionHash: string): Promise<void> {
  await db.query('DELETE FROM sessions WHERE id_hash = $1', [sessionHash]);
}
