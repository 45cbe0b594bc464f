import type { Scope } from '../redis/keys.js';

/** The Redis names of one document; see document-scripts.ts for what each holds. */
export interface DocumentKeys {
  /** HASH: version, state, updatedAt. */
  doc: string;
  /** LIST: the recent change messages (the patch window). */
  window: string;
  /** Pub/Sub channel of change messages. */
  channel: string;
}

/**
 * `<prefix>:<applicationId>:<ENV>:{doc|dw|dc}:<collection>/<id>`: scoped by application and environment
 * like every platform key. Collection names cannot contain `/`, so the name is unambiguous.
 */
export function documentKeys(prefix: string, scope: Scope, collection: string, id: string): DocumentKeys {
  const base = `${prefix}:${scope.applicationId}:${scope.environment}`;
  const name = `${collection}/${id}`;
  return { doc: `${base}:doc:${name}`, window: `${base}:dw:${name}`, channel: `${base}:dc:${name}` };
}
