import { v7 as uuidv7 } from 'uuid';
import type { ApiKeyKind, KeyPrincipal } from '../auth/principal.js';
import { hashSecret, randomToken } from '../auth/secrets.js';
import type { Queryable } from '../db/queryable.js';
import { badInput } from '../errors.js';
import type { EnvironmentName } from '../protocol.js';

export interface ApiKey {
  id: string;
  applicationId: string;
  environment: EnvironmentName;
  kind: ApiKeyKind;
  name: string | null;
  /** The key's prefix and last four characters, for recognising it in lists (`sk_dev_…a1b2`). */
  hint: string;
  createdAt: Date;
  revokedAt: Date | null;
}

interface ApiKeyRow {
  id: string;
  application_id: string;
  environment: EnvironmentName;
  kind: ApiKeyKind;
  name: string | null;
  hint: string;
  created_at: Date;
  revoked_at: Date | null;
}

const toApiKey = (row: ApiKeyRow): ApiKey => ({
  id: row.id,
  applicationId: row.application_id,
  environment: row.environment,
  kind: row.kind,
  name: row.name,
  hint: row.hint,
  createdAt: row.created_at,
  revokedAt: row.revoked_at,
});

const PREFIX: Record<ApiKeyKind, string> = { PUBLISHABLE: 'pk', SECRET: 'sk' };

/**
 * Creates a key and returns its secret once: `pk_<env>_<32 random bytes>` or `sk_<env>_…`.
 * Only the SHA-256 of the secret is stored.
 */
export async function createApiKey(
  db: Queryable,
  input: { applicationId: string; environment: EnvironmentName; kind: ApiKeyKind; name?: string | null | undefined },
): Promise<{ secret: string; key: ApiKey }> {
  const name = input.name?.trim() || null;
  if (name !== null && name.length > 100) throw badInput('name must be at most 100 characters', { field: 'name' });
  const secret = `${PREFIX[input.kind]}_${input.environment.toLowerCase()}_${randomToken(32)}`;
  const hint = `${PREFIX[input.kind]}_${input.environment.toLowerCase()}_…${secret.slice(-4)}`;
  const { rows } = await db.query<ApiKeyRow>(
    `INSERT INTO api_keys (id, application_id, environment, kind, name, secret_hash, hint)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
    [uuidv7(), input.applicationId, input.environment, input.kind, name, hashSecret(secret), hint],
  );
  return { secret, key: toApiKey(rows[0] as ApiKeyRow) };
}

export async function findApiKey(db: Queryable, id: string): Promise<ApiKey | undefined> {
  const { rows } = await db.query<ApiKeyRow>('SELECT * FROM api_keys WHERE id = $1', [id]);
  return rows[0] && toApiKey(rows[0]);
}

export async function listApiKeys(db: Queryable, applicationId: string): Promise<ApiKey[]> {
  const { rows } = await db.query<ApiKeyRow>(
    'SELECT * FROM api_keys WHERE application_id = $1 ORDER BY created_at, id',
    [applicationId],
  );
  return rows.map(toApiKey);
}

/** Marks a key revoked; idempotent. Returns the key as it now is. */
export async function revokeApiKey(db: Queryable, id: string): Promise<ApiKey | undefined> {
  const { rows } = await db.query<ApiKeyRow>(
    'UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 RETURNING *',
    [id],
  );
  return rows[0] && toApiKey(rows[0]);
}

const KEY_SHAPE = /^(pk|sk)_(dev|staging|prod)_[A-Za-z0-9_-]{43}$/;

/** The principal of a live (not revoked) key secret, or undefined. */
export async function resolveApiKey(db: Queryable, secret: string): Promise<KeyPrincipal | undefined> {
  if (!KEY_SHAPE.test(secret)) return undefined;
  const { rows } = await db.query<ApiKeyRow>(
    'SELECT * FROM api_keys WHERE secret_hash = $1 AND revoked_at IS NULL',
    [hashSecret(secret)],
  );
  const row = rows[0];
  return (
    row && { kind: 'key', keyId: row.id, keyKind: row.kind, applicationId: row.application_id, environment: row.environment }
  );
}
