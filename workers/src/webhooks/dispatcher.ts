import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import {
  compileEndpointMatcher,
  endpointCoversTopic,
  enqueueDeliveries,
  formatCursor,
  insertDeliveries,
  listEnabledWebhookEndpoints,
  topicKeys,
  webhookVersionKey,
  type EndpointMatcher,
  type EventEnvelope,
  type NewDelivery,
  type Platform,
  type Redis,
  type Scope,
  type WebhookQueue,
} from '@realtime/core';

/** The consumer group every dispatcher joins on each history stream it reads. */
export const WEBHOOK_GROUP = 'webhooks';

export interface Dispatcher {
  /** Reloads endpoints and streams now (also done periodically and on announcements). */
  refresh(): Promise<void>;
  /** Streams read right now (for tests and metrics). */
  streamCount(): number;
  stop(): Promise<void>;
}

export interface DispatcherOptions {
  platform: Platform;
  queue: WebhookQueue;
  /** Entries read per stream per round trip. @default 200 */
  batchSize?: number;
  /** How long a read blocks waiting for new entries, in ms (also bounds how late a new stream is read). @default 1000 */
  blockMs?: number;
  /** Reload endpoints this often even without announcements, in ms. @default 5000 */
  refreshMs?: number;
  /**
   * Entries another dispatcher read but did not acknowledge for this long are taken over (its process died
   * between reading and enqueueing), in ms. @default 10000
   */
  claimIdleMs?: number;
  /** How often to look for such entries, in ms. @default 5000 */
  claimIntervalMs?: number;
  /**
   * Consumers (of dispatchers that are gone) idle this long with nothing pending are removed from the
   * group, checked once per this period too, in ms. @default 3600000 (1 hour)
   */
  forgetConsumersAfterMs?: number;
  /** Told about errors the loop survives (Redis or PostgreSQL briefly down). */
  onError?: (error: unknown) => void;
}

interface StreamInfo {
  scope: Scope;
  topic: string;
  epochKey: string;
}

const scopeKey = (scope: Scope): string => `${scope.applicationId}:${scope.environment}`;
const field = (fields: string[], name: string): string | undefined => {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
};

/**
 * Turns topic history into webhook jobs without touching the publish path. The history streams of every
 * topic that an enabled endpoint covers are read through a Redis consumer group (`webhooks`, created at
 * id 0 with MKSTREAM), so any number of dispatchers share the work and an entry is acknowledged (XACK) only
 * after its deliveries are recorded in PostgreSQL and their jobs added to BullMQ. Entries a dead dispatcher
 * held are taken over with XAUTOCLAIM. Re-reading an entry is harmless: deliveries and jobs have derived ids.
 * An event goes to an endpoint when its history entry is not older than the endpoint's `activeSince`, its
 * topic matches one of the endpoint's patterns, and its filter holds.
 */
export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const {
    platform,
    queue,
    batchSize = 200,
    blockMs = 1_000,
    refreshMs = 5_000,
    claimIdleMs = 10_000,
    claimIntervalMs = 5_000,
    forgetConsumersAfterMs = 3_600_000,
  } = options;
  const onError = options.onError ?? (() => undefined);
  const { config, pool: db } = platform;
  const consumer = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const reader: Redis = platform.redis.duplicate({ connectionName: 'realtime:webhooks-dispatcher' });
  reader.on('error', () => undefined);

  let matchers = new Map<string, EndpointMatcher[]>();
  /** Each scope's endpoint version (webhookVersionKey) as of the last load; '-1' for a scope first seen then. */
  let versions = new Map<string, string>();
  let streams = new Map<string, StreamInfo>();
  const groups = new Set<string>();
  let running = true;
  let refreshing: Promise<void> | undefined;
  let refreshAgain = false;

  async function ensureGroup(key: string): Promise<void> {
    if (groups.has(key)) return;
    try {
      await platform.redis.xgroup('CREATE', key, WEBHOOK_GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!String((error as Error).message).includes('BUSYGROUP')) throw error;
    }
    groups.add(key);
  }

  async function load(): Promise<void> {
    // Versions are read before the endpoints: a change committed after this read shows as a newer version.
    const known = [...matchers.values()].map((list) => list[0]?.record).filter((r) => r !== undefined);
    const before = known.length > 0 ? await platform.redis.mget(...known.map((r) => webhookVersionKey(config.redisKeyPrefix, r))) : [];
    const seen = new Map(known.map((r, i) => [scopeKey(r), before[i] ?? '0']));
    const endpoints = await listEnabledWebhookEndpoints(db);
    const nextMatchers = new Map<string, EndpointMatcher[]>();
    const scopes = new Map<string, Scope>();
    for (const record of endpoints) {
      const key = scopeKey(record);
      scopes.set(key, { applicationId: record.applicationId, environment: record.environment });
      nextMatchers.set(key, [...(nextMatchers.get(key) ?? []), compileEndpointMatcher(record)]);
    }
    const nextStreams = new Map<string, StreamInfo>();
    for (const [key, scope] of scopes) {
      const patterns = (nextMatchers.get(key) ?? []).flatMap((m) => m.record.topics);
      for (const topic of (await platform.registry.get(scope)).topics) {
        if (!endpointCoversTopic(patterns, topic.name)) continue;
        const keys = topicKeys(config.redisKeyPrefix, scope, topic.name);
        await ensureGroup(keys.history);
        nextStreams.set(keys.history, { scope, topic: topic.name, epochKey: keys.epoch });
      }
    }
    matchers = nextMatchers;
    streams = nextStreams;
    versions = new Map([...scopes.keys()].map((key) => [key, seen.get(key) ?? '-1']));
  }

  function refresh(): Promise<void> {
    if (refreshing) {
      refreshAgain = true;
      return refreshing;
    }
    refreshing = (async () => {
      try {
        do {
          refreshAgain = false;
          await load();
        } while (refreshAgain);
      } finally {
        refreshing = undefined;
      }
    })();
    return refreshing;
  }

  /**
   * Records deliveries and jobs for a batch of one stream's entries, then acknowledges them. The scope's
   * endpoint version is checked first: an endpoint created or changed before these entries were stored is
   * loaded before they are matched.
   */
  async function handle(key: string, entries: [string, string[] | null][]): Promise<void> {
    let info = streams.get(key);
    const ids = entries.map(([id]) => id);
    if (info) {
      const version = (await platform.redis.get(webhookVersionKey(config.redisKeyPrefix, info.scope))) ?? '0';
      if (version !== versions.get(scopeKey(info.scope))) {
        await refresh();
        info = streams.get(key);
      }
    }
    if (info) {
      const epoch = (await platform.redis.get(info.epochKey)) ?? '0';
      const candidates = matchers.get(scopeKey(info.scope)) ?? [];
      const deliveries: NewDelivery[] = [];
      for (const [position, fields] of entries) {
        if (!fields) continue; // trimmed while pending
        const json = field(fields, 'e');
        if (json === undefined) continue;
        const storedAt = Number(position.slice(0, position.indexOf('-')));
        let event: EventEnvelope | undefined;
        for (const matcher of candidates) {
          event ??= JSON.parse(json) as EventEnvelope;
          if (!matcher.matches(event, storedAt)) continue;
          event.cursor = formatCursor({ epoch, offset: Number(field(fields, 'o') ?? 0), position });
          deliveries.push({ endpointId: matcher.record.id, origin: 'live', event });
        }
      }
      await enqueueDeliveries(queue, config, await insertDeliveries(db, deliveries));
    }
    if (ids.length > 0) await platform.redis.xack(key, WEBHOOK_GROUP, ...ids);
  }

  async function readLoop(): Promise<void> {
    while (running) {
      const keys = [...streams.keys()];
      if (keys.length === 0) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(blockMs, 200)));
        continue;
      }
      try {
        const result = (await reader.xreadgroup(
          'GROUP',
          WEBHOOK_GROUP,
          consumer,
          'COUNT',
          batchSize,
          'BLOCK',
          blockMs,
          'STREAMS',
          ...keys,
          ...keys.map(() => '>'),
        )) as [string, [string, string[]][]][] | null;
        for (const [key, entries] of result ?? []) await handle(key, entries);
      } catch (error) {
        if (!running) return;
        if (String((error as Error).message).includes('NOGROUP')) {
          // The history (and its group) was lost, e.g. a Redis restart: create the groups again.
          groups.clear();
          await refresh().catch(onError);
        } else {
          onError(error);
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      }
    }
  }

  async function claimOrphans(): Promise<void> {
    for (const key of streams.keys()) {
      let cursor = '0-0';
      for (let round = 0; round < 50 && running; round += 1) {
        const [next, entries] = (await platform.redis.xautoclaim(key, WEBHOOK_GROUP, consumer, claimIdleMs, cursor, 'COUNT', batchSize)) as [
          string,
          [string, string[] | null][],
          string[]?,
        ];
        if (entries.length > 0) await handle(key, entries);
        if (next === '0-0') break;
        cursor = next;
      }
    }
  }

  /** Removes consumers of dispatchers that are gone (idle long, nothing pending) so groups do not grow per restart. */
  async function forgetDeadConsumers(): Promise<void> {
    for (const key of streams.keys()) {
      const consumers = (await platform.redis.xinfo('CONSUMERS', key, WEBHOOK_GROUP)) as unknown[][];
      for (const fields of consumers) {
        const info = new Map<string, unknown>();
        for (let i = 0; i + 1 < fields.length; i += 2) info.set(String(fields[i]), fields[i + 1]);
        const name = String(info.get('name'));
        if (name !== consumer && Number(info.get('pending')) === 0 && Number(info.get('idle')) > forgetConsumersAfterMs) {
          await platform.redis.xgroup('DELCONSUMER', key, WEBHOOK_GROUP, name);
        }
      }
    }
  }

  const unsubscribe = platform.onControl((message) => {
    if (message.type === 'webhooks-changed' || message.type === 'registry-changed') refresh().catch(onError);
  });
  const refreshTimer = setInterval(() => refresh().catch(onError), refreshMs);
  let claiming = false;
  const claimTimer = setInterval(() => {
    if (claiming) return;
    claiming = true;
    claimOrphans()
      .catch(onError)
      .finally(() => (claiming = false));
  }, claimIntervalMs);

  const forgetTimer = setInterval(() => forgetDeadConsumers().catch(onError), forgetConsumersAfterMs);
  forgetTimer.unref();
  const started = refresh().then(() => claimOrphans().catch(onError));
  const loop = started.then(readLoop, (error: unknown) => {
    onError(error);
    return readLoop();
  });

  return {
    refresh,
    streamCount: () => streams.size,
    async stop() {
      running = false;
      unsubscribe();
      clearInterval(refreshTimer);
      clearInterval(claimTimer);
      clearInterval(forgetTimer);
      reader.disconnect();
      await loop.catch(() => undefined);
      await refreshing?.catch(() => undefined);
    },
  };
}
