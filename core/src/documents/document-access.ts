import { topicGranted } from '../auth/end-user.js';
import type { Principal } from '../auth/principal.js';
import { badInput, forbidden, unauthenticated } from '../errors.js';
import type { EnvironmentName } from '../protocol.js';
import type { Scope } from '../redis/keys.js';
import type { DocumentCollection } from './collections.js';

/**
 * The application environment a document operation acts in: an API key's own (naming another in the
 * arguments is FORBIDDEN), or, for a signed-in console user, the one named by the arguments.
 */
export function documentScope(
  principal: Principal,
  args: { applicationId?: string | null | undefined; environment?: EnvironmentName | null | undefined },
): Scope {
  if (principal.kind === 'anonymous') {
    throw unauthenticated('send an API key (connectionParams.apiKey, or Authorization: Bearer) or sign in to use documents');
  }
  if (principal.kind === 'key') {
    if ((args.applicationId != null && args.applicationId !== principal.applicationId) || (args.environment != null && args.environment !== principal.environment)) {
      throw forbidden('this key belongs to another application or environment');
    }
    return { applicationId: principal.applicationId, environment: principal.environment };
  }
  if (args.applicationId == null || args.environment == null) {
    throw badInput('a signed-in user names the application environment: pass applicationId and environment', { field: 'applicationId' });
  }
  return { applicationId: args.applicationId, environment: args.environment };
}

export type DocumentAccessMode = 'read' | 'write';

/**
 * Decides whether a caller may read or write a document of a collection (`id` null: the collection as a
 * whole, for listings; rules are then applied per document with {@link documentIdAllowed}).
 *
 * - Signed-in users and secret keys: always (they administer the application).
 * - Publishable keys reading: a `public` collection, or an end-user token whose `documents` claim grants
 *   the collection by pattern (the same patterns as topic grants: `boards`, `game.*`, `**`).
 * - Publishable keys writing: only collections with `clientWrites`, and only with a token whose
 *   `documents` claim grants the collection.
 * - The collection's rules bind every publishable key: each rule's claim must be in the token and the
 *   document id must match it, so a collection with rules is never readable without a token.
 *
 * Throws FORBIDDEN saying what is missing.
 */
export function authorizeDocument(principal: Principal, collection: DocumentCollection, id: string | null, mode: DocumentAccessMode): void {
  if (principal.kind === 'user') return;
  if (principal.kind === 'anonymous') throw unauthenticated('send an API key or sign in to use documents');
  if (principal.keyKind === 'SECRET') return;
  const user = principal.endUser;
  const grants = user && Array.isArray(user.claims.documents) ? user.claims.documents.filter((g): g is string => typeof g === 'string') : [];
  const granted = user !== undefined && topicGranted(grants, collection.name);
  if (mode === 'write') {
    if (!collection.clientWrites) throw forbidden(`collection "${collection.name}" is written only by secret keys and signed-in users (setCollectionAccess clientWrites: true lets end users write)`);
    if (!user) throw forbidden(`writing to "${collection.name}" with a publishable key needs an end-user token (connectionParams.token) whose "documents" claim grants it`);
    if (!granted) throw forbidden(`your token's "documents" claim does not grant collection "${collection.name}"`);
  } else if (!collection.public && !granted) {
    if (!user) throw forbidden(`collection "${collection.name}" is not public: connect with an end-user token whose "documents" claim grants it`);
    throw forbidden(`your token's "documents" claim does not grant collection "${collection.name}"`);
  }
  if (collection.rules.length === 0) return;
  if (!user) throw forbidden(`collection "${collection.name}" binds documents to end users: connect with an end-user token (connectionParams.token)`);
  for (const rule of collection.rules) {
    if (user.claims[rule.claim] === undefined) {
      throw forbidden(`collection "${collection.name}" binds document ids to the "${rule.claim}" claim, which the token lacks`);
    }
  }
  if (id !== null && !documentIdAllowed(principal, collection, id)) {
    const rule = collection.rules.map((r) => (r.match === 'EQUALS' ? `equal your "${r.claim}" claim` : `start with your "${r.claim}" claim and ":"`)).join(' and ');
    throw forbidden(`document "${id}" of collection "${collection.name}" is not yours: its id must ${rule}`);
  }
}

/** True when the collection's rules let this caller see the document `id` (always for secret keys and users). */
export function documentIdAllowed(principal: Principal, collection: DocumentCollection, id: string): boolean {
  if (principal.kind !== 'key' || principal.keyKind === 'SECRET' || collection.rules.length === 0) return true;
  const claims = principal.endUser?.claims;
  if (!claims) return false;
  return collection.rules.every((rule) => {
    const value = claims[rule.claim];
    if (typeof value !== 'string' && typeof value !== 'number') return false;
    const text = String(value);
    return rule.match === 'EQUALS' ? id === text : id.startsWith(`${text}:`);
  });
}
