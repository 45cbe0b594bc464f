import type { Queryable } from '../db/queryable.js';
import { RealtimeError, badInput } from '../errors.js';
import type { EnvironmentName } from '../protocol.js';
import type { Scope } from '../redis/keys.js';
import { assertCollectionName } from './document-names.js';

/**
 * A rule that binds an end user to some documents of a collection by a claim of their token: with
 * EQUALS the document id must equal the claim's value (`{ claim: "sub" }`: one document per user);
 * with PREFIX it must start with the value and a colon (`{ claim: "team", match: PREFIX }`:
 * `<team>:…`). Rules apply to publishable keys; secret keys and signed-in users are not bound.
 */
export interface DocumentRule {
  claim: string;
  match: 'EQUALS' | 'PREFIX';
}

/** A collection of JSON documents in one application environment, with who may read and write it. */
export interface DocumentCollection {
  applicationId: string;
  environment: EnvironmentName;
  name: string;
  /** Publishable keys read it without an end-user token (unless it has rules). */
  public: boolean;
  /** Publishable keys with an end-user token granted the collection may write (set, patch, delete). */
  clientWrites: boolean;
  rules: DocumentRule[];
  createdAt: Date;
}

interface CollectionRow {
  application_id: string;
  environment: EnvironmentName;
  name: string;
  public: boolean;
  client_writes: boolean;
  rules: DocumentRule[];
  created_at: Date;
}

const toCollection = (row: CollectionRow): DocumentCollection => ({
  applicationId: row.application_id,
  environment: row.environment,
  name: row.name,
  public: row.public,
  clientWrites: row.client_writes,
  rules: row.rules,
  createdAt: row.created_at,
});

const COLUMNS = 'application_id, environment, name, public, client_writes, rules, created_at';
const MAX_RULES = 8;

function checkRules(rules: readonly { claim: string; match?: DocumentRule['match'] | null | undefined }[]): DocumentRule[] {
  if (rules.length > MAX_RULES) throw badInput(`at most ${MAX_RULES} rules per collection`, { field: 'rules' });
  return rules.map((rule, i) => {
    if (!/^[\w.:-]{1,64}$/.test(rule.claim)) throw badInput(`rules[${i}].claim must name a claim like "sub"`, { field: 'rules' });
    return { claim: rule.claim, match: rule.match ?? 'EQUALS' };
  });
}

export interface CollectionAccessInput {
  public?: boolean | null | undefined;
  clientWrites?: boolean | null | undefined;
  rules?: readonly { claim: string; match?: DocumentRule['match'] | null | undefined }[] | null | undefined;
}

/**
 * Creates a collection. Idempotent when the same settings are given again (deploy scripts re-run);
 * other settings for an existing name are a CONFLICT (change them with setCollectionAccess).
 */
export async function createCollection(
  db: Queryable,
  scope: Scope,
  name: string,
  access: CollectionAccessInput = {},
): Promise<{ collection: DocumentCollection; created: boolean }> {
  assertCollectionName(name, 'name');
  const rules = checkRules(access.rules ?? []);
  const isPublic = access.public ?? false;
  const clientWrites = access.clientWrites ?? false;
  let inserted;
  try {
    inserted = await db.query<CollectionRow>(
      `INSERT INTO document_collections (application_id, environment, name, public, client_writes, rules)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING ${COLUMNS}`,
      [scope.applicationId, scope.environment, name, isPublic, clientWrites, JSON.stringify(rules)],
    );
  } catch (error) {
    if ((error as { code?: string }).code === '23503') throw new RealtimeError('NOT_FOUND', `application ${scope.applicationId} does not exist`);
    throw error;
  }
  if (inserted.rows[0]) return { collection: toCollection(inserted.rows[0]), created: true };
  const existing = await findCollection(db, scope, name);
  if (!existing) throw new RealtimeError('CONFLICT', `collection "${name}" was removed while being created; retry`);
  const same =
    existing.public === isPublic && existing.clientWrites === clientWrites && JSON.stringify(existing.rules) === JSON.stringify(rules);
  if (!same) {
    throw new RealtimeError('CONFLICT', `collection "${name}" already exists in ${scope.environment} with other settings; change them with setCollectionAccess`, {
      collection: name,
    });
  }
  return { collection: existing, created: false };
}

/** Changes a collection's access; omitted fields keep their value. */
export async function setCollectionAccess(db: Queryable, scope: Scope, name: string, access: CollectionAccessInput): Promise<DocumentCollection> {
  assertCollectionName(name, 'name');
  const rules = access.rules == null ? null : JSON.stringify(checkRules(access.rules));
  const { rows } = await db.query<CollectionRow>(
    `UPDATE document_collections SET public = COALESCE($4, public), client_writes = COALESCE($5, client_writes), rules = COALESCE($6::jsonb, rules)
     WHERE application_id = $1 AND environment = $2 AND name = $3 RETURNING ${COLUMNS}`,
    [scope.applicationId, scope.environment, name, access.public ?? null, access.clientWrites ?? null, rules],
  );
  if (!rows[0]) throw collectionNotFound(scope, name);
  return toCollection(rows[0]);
}

export async function findCollection(db: Queryable, scope: Scope, name: string): Promise<DocumentCollection | undefined> {
  const { rows } = await db.query<CollectionRow>(
    `SELECT ${COLUMNS} FROM document_collections WHERE application_id = $1 AND environment = $2 AND name = $3`,
    [scope.applicationId, scope.environment, name],
  );
  return rows[0] && toCollection(rows[0]);
}

export async function listCollections(db: Queryable, scope: Scope): Promise<DocumentCollection[]> {
  const { rows } = await db.query<CollectionRow>(
    `SELECT ${COLUMNS} FROM document_collections WHERE application_id = $1 AND environment = $2 ORDER BY name`,
    [scope.applicationId, scope.environment],
  );
  return rows.map(toCollection);
}

export const collectionNotFound = (scope: Scope, name: string): RealtimeError =>
  new RealtimeError('NOT_FOUND', `collection "${name}" does not exist in this application's ${scope.environment} environment; create it first (createCollection)`, {
    collection: name,
  });
