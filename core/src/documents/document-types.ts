/** A document as a read returns it. */
export interface DocumentSnapshot {
  collection: string;
  id: string;
  /** Rises by one with every write; never reused, also not after a delete. */
  version: number;
  /** The JSON object, or null when the document does not exist (never written, or deleted). */
  state: Record<string, unknown> | null;
  exists: boolean;
  /** ISO-8601 time of the last write (the PostgreSQL commit), or null when never written. */
  updatedAt: string | null;
}

/**
 * What a `document` subscriber receives, and the JSON form of every change message on a document's
 * channel and in its patch window (the field names are the GraphQL fields):
 *
 * - SNAPSHOT: the whole `state` (first message, a client too far behind for patches, a reload from
 *   PostgreSQL); `patch` null.
 * - SET: the whole new `state`; `patch` null.
 * - PATCH: the RFC 6902 operations that turn version − 1 into this version; `state` null.
 * - DELETE: `exists` false, `state` and `patch` null.
 *
 * A client replaces its copy with `state` when `patch` is null, else applies `patch`.
 */
export interface DocumentChange {
  collection: string;
  id: string;
  version: number;
  op: 'SNAPSHOT' | 'SET' | 'PATCH' | 'DELETE';
  exists: boolean;
  updatedAt: string | null;
  patch: readonly unknown[] | null;
  state: Record<string, unknown> | null;
}
