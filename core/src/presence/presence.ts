import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Scope } from '../redis/keys.js';
import { createMessageDecoder, type Subscriber } from '../redis/subscriber.js';
import { JOIN_SCRIPT, LEAVE_SCRIPT, SWEEP_SCRIPT } from './presence-scripts.js';

export interface PresenceMember {
  id: string;
  data: unknown;
}

export type PresenceChange = { type: 'JOIN' | 'LEAVE'; member: PresenceMember };

export interface PresenceKeys {
  entries: string;
  data: string;
  counts: string;
  channel: string;
}

export const presenceKeys = (prefix: string, scope: Scope, topic: string): PresenceKeys => {
  const base = `${prefix}:${scope.applicationId}:${scope.environment}`;
  return { entries: `${base}:pe:${topic}`, data: `${base}:pd:${topic}`, counts: `${base}:pn:${topic}`, channel: `${base}:pc:${topic}` };
};

export interface Presence {
  /** Enters a member into a topic's presence until the returned function is called (or heartbeats stop). */
  join(keys: PresenceKeys, member: PresenceMember): Promise<() => Promise<void>>;
  /** The members present now (expired entries swept first), one per member id. */
  snapshot(keys: PresenceKeys): Promise<PresenceMember[]>;
  /** Listens to JOIN / LEAVE changes of a topic; resolves once Redis confirms. */
  listen(keys: PresenceKeys, listener: (change: PresenceChange) => void): Promise<() => void>;
  close(): Promise<void>;
}

export interface PresenceOptions {
  redis: Redis;
  subscriber: Subscriber;
  /** An entry lives this long without a heartbeat. @default 30000 */
  ttlMs?: number;
  /** Heartbeat and sweep period. @default 10000 */
  heartbeatMs?: number;
}

type Script = (entries: string, data: string, counts: string, ...args: (string | number)[]) => Promise<number>;

/**
 * Presence for one process: joins, heartbeats for its own entries, and sweeps of the topics it watches so
 * members of a server that died leave within `ttlMs` + `heartbeatMs` — no ghost members after a restart.
 */
export function createPresence(options: PresenceOptions): Presence {
  const { redis, subscriber, ttlMs = 30_000, heartbeatMs = 10_000 } = options;
  for (const [name, lua] of [['presenceJoin', JOIN_SCRIPT], ['presenceLeave', LEAVE_SCRIPT], ['presenceSweep', SWEEP_SCRIPT]] as const) {
    if (!(name in redis)) redis.defineCommand(name, { numberOfKeys: 3, lua });
  }
  const scripts = redis as unknown as { presenceJoin: Script; presenceLeave: Script; presenceSweep: Script };
  const mine = new Map<string, { keys: PresenceKeys; entry: string; member: PresenceMember }>();
  /** One object per change message for every watcher of the process (they share one execution per change). */
  const decodeChange = createMessageDecoder<PresenceChange>();
  const watched = new Map<string, { keys: PresenceKeys; watchers: number }>();

  const sweep = (keys: PresenceKeys): Promise<number> => scripts.presenceSweep(keys.entries, keys.data, keys.counts, keys.channel, Date.now());

  const timer = setInterval(() => {
    const expiry = Date.now() + ttlMs;
    // The join script refreshes an entry, and restores one swept after a stall longer than the TTL.
    for (const { keys, entry, member } of mine.values()) {
      void scripts.presenceJoin(keys.entries, keys.data, keys.counts, keys.channel, entry, member.id, JSON.stringify(member), expiry).catch(() => undefined);
    }
    for (const { keys } of watched.values()) void sweep(keys).catch(() => undefined);
  }, heartbeatMs);
  timer.unref();

  return {
    async join(keys, member) {
      const entry = `${randomUUID()}|${member.id}`;
      await scripts.presenceJoin(keys.entries, keys.data, keys.counts, keys.channel, entry, member.id, JSON.stringify(member), Date.now() + ttlMs);
      const handle = randomUUID();
      mine.set(handle, { keys, entry, member });
      return async () => {
        if (!mine.delete(handle)) return;
        await scripts.presenceLeave(keys.entries, keys.data, keys.counts, keys.channel, entry, member.id);
      };
    },
    async snapshot(keys) {
      await sweep(keys);
      const values = await redis.hvals(keys.data);
      const members = new Map<string, PresenceMember>();
      for (const value of values) {
        const member = JSON.parse(value) as PresenceMember;
        members.set(member.id, member);
      }
      return [...members.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },
    async listen(keys, listener) {
      const watch = watched.get(keys.channel) ?? { keys, watchers: 0 };
      watch.watchers += 1;
      watched.set(keys.channel, watch);
      const stop = await subscriber.raw(keys.channel, (message) => {
        try {
          listener(decodeChange(message));
        } catch {
          // Malformed presence messages are ignored.
        }
      });
      return () => {
        stop();
        watch.watchers -= 1;
        if (watch.watchers === 0) watched.delete(keys.channel);
      };
    },
    async close() {
      clearInterval(timer);
      await Promise.all([...mine.values()].map(({ keys, entry }) =>
        scripts.presenceLeave(keys.entries, keys.data, keys.counts, keys.channel, entry, entry.slice(entry.indexOf('|') + 1)).catch(() => 0),
      ));
      mine.clear();
    },
  };
}
