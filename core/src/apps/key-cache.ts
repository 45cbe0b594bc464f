import type { KeyPrincipal } from '../auth/principal.js';
import type { Queryable } from '../db/queryable.js';
import { resolveApiKey } from './api-keys.js';

export interface KeyCache {
  /** The principal of a live key secret, or undefined. Cached briefly so publish does not query per event. */
  resolve(secret: string): Promise<KeyPrincipal | undefined>;
  /** Drops a revoked key at once (called on the revocation announcement). */
  forgetKey(keyId: string): void;
}

export interface KeyCacheOptions {
  db: Queryable;
  /** How long a resolved key is trusted; bounds how long a missed revocation can go unnoticed. @default 5000 */
  ttlMs?: number;
  /** Most secrets kept; the oldest is dropped past it. @default 10000 */
  maxEntries?: number;
}

export function createKeyCache(options: KeyCacheOptions): KeyCache {
  const { db, ttlMs = 5_000, maxEntries = 10_000 } = options;
  const entries = new Map<string, { principal: Promise<KeyPrincipal | undefined>; expiresAt: number }>();

  return {
    resolve(secret) {
      const now = Date.now();
      const entry = entries.get(secret);
      if (entry && entry.expiresAt > now) return entry.principal;
      const principal = resolveApiKey(db, secret);
      if (entries.size >= maxEntries) {
        const oldest = entries.keys().next();
        if (!oldest.done) entries.delete(oldest.value);
      }
      entries.set(secret, { principal, expiresAt: now + ttlMs });
      principal.catch(() => entries.delete(secret));
      return principal;
    },
    forgetKey(keyId) {
      for (const [secret, entry] of entries) {
        void entry.principal.then((p) => {
          if (p?.keyId === keyId) entries.delete(secret);
        });
      }
    },
  };
}
