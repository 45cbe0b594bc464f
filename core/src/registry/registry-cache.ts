import type { Queryable } from '../db/queryable.js';
import type { Scope } from '../redis/keys.js';
import { listTopics, registryRevision, type Topic } from './topics.js';

/**
 * The topics of one environment at one registry revision. Immutable: a change produces a new TopicSet,
 * so caches keyed by its identity (the GraphQL schema cache) rebuild exactly when the registry changes.
 */
export interface TopicSet {
  readonly scope: Scope;
  readonly revision: number;
  readonly topics: readonly Topic[];
  readonly byName: ReadonlyMap<string, Topic>;
}

export interface RegistryCache {
  /** The current topics of an environment, read from PostgreSQL at most once per change. */
  get(scope: Scope): Promise<TopicSet>;
  /** Forgets an environment's topics; the next `get` reads them again. */
  invalidate(scope: Scope): void;
}

export interface RegistryCacheOptions {
  db: Queryable;
  /**
   * How long a cached TopicSet is trusted without asking PostgreSQL for the revision, in case a change
   * announcement over Redis was missed. @default 30000 (30 seconds)
   */
  revalidateAfterMs?: number;
}

interface Entry {
  set: Promise<TopicSet>;
  checkedAt: number;
}

const scopeKey = (scope: Scope): string => `${scope.applicationId}:${scope.environment}`;

export function createRegistryCache(options: RegistryCacheOptions): RegistryCache {
  const { db, revalidateAfterMs = 30_000 } = options;
  const entries = new Map<string, Entry>();

  async function load(scope: Scope): Promise<TopicSet> {
    const revision = await registryRevision(db, scope);
    const topics = await listTopics(db, scope.applicationId, scope.environment);
    return { scope, revision, topics, byName: new Map(topics.map((t) => [t.name, t])) };
  }

  return {
    get(scope) {
      const key = scopeKey(scope);
      const entry = entries.get(key);
      const now = Date.now();
      if (entry && now - entry.checkedAt < revalidateAfterMs) return entry.set;
      if (entry) {
        // Stale by age only: keep the same TopicSet (and so every cache keyed by it) when nothing changed.
        const previous = entry.set;
        const refreshed = (async () => {
          const old = await previous;
          const revision = await registryRevision(db, scope);
          return revision === old.revision ? old : load(scope);
        })();
        entries.set(key, { set: refreshed, checkedAt: now });
        refreshed.catch(() => entries.delete(key));
        return refreshed;
      }
      const set = load(scope);
      entries.set(key, { set, checkedAt: now });
      set.catch(() => entries.delete(key));
      return set;
    },
    invalidate(scope) {
      entries.delete(scopeKey(scope));
    },
  };
}
