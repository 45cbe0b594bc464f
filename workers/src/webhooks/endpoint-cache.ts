import { findWebhookEndpointRecord, type Queryable, type WebhookEndpointRecord } from '@realtime/core';

export interface EndpointCache {
  /** The endpoint, or undefined when it was deleted; `fresh` reads PostgreSQL now (and caches the answer). */
  get(id: string, fresh?: boolean): Promise<WebhookEndpointRecord | undefined>;
  /** Forgets every endpoint (on a `webhooks-changed` announcement). */
  clear(): void;
}

/**
 * Endpoints as the delivery worker sees them: read from PostgreSQL at most once per `ttlMs` per endpoint, and
 * forgotten at once when any instance announces a change, so disabling or deleting takes effect promptly.
 */
export function createEndpointCache(options: { db: Queryable; ttlMs?: number }): EndpointCache {
  const { db, ttlMs = 2_000 } = options;
  const entries = new Map<string, { record: Promise<WebhookEndpointRecord | undefined>; at: number }>();
  return {
    get(id, fresh = false) {
      const now = Date.now();
      const entry = entries.get(id);
      if (!fresh && entry && now - entry.at < ttlMs) return entry.record;
      const record = findWebhookEndpointRecord(db, id);
      entries.set(id, { record, at: now });
      record.catch(() => entries.delete(id));
      return record;
    },
    clear() {
      entries.clear();
    },
  };
}
