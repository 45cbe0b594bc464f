import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import {
  compileEndpointMatcher,
  deliveryIdFor,
  endpointCoversTopic,
  enqueueDeliveries,
  findUnrecordedDeliveries,
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
  type QueuedDelivery,
  type WebhookEndpointRecord,
  type WebhookQueue,
} from '@realtime/core';
import { SLOW_ANSWER_MS, SLOW_FOR_MS, answeredSlowly, type Attempter } from './attempt.js';
import { createLatencyFloor } from './latency-floor.js';

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
  /**
   * First attempts sent by the dispatcher itself, without a BullMQ job (only retries are queued). Omitted: every
   * delivery goes through the queue.
   */
  direct?: DirectOptions;
}

export interface DirectOptions {
  /** Sends and records one attempt (the worker's own). */
  attempt: Attempter;
  /** First attempts in flight at once. */
  concurrency: number;
  /** First attempts in flight at once to one endpoint. @default half of `concurrency` */
  perEndpoint?: number;
  /**
   * How long a batch waits for a free slot before it queues the delivery instead, in ms; an endpoint whose
   * own slots stayed full that long has the rest of the batch queued. @default 50
   */
  maxWaitMs?: number;
  /** An attempt slower than this, or without a response, sends its endpoint's deliveries to the queue for `coolDownMs`. @default 1000 */
  slowMs?: number;
  /** @default 30000 */
  coolDownMs?: number;
}

interface StreamInfo {
  scope: Scope;
  topic: string;
  epochKey: string;
}

/**
 * Batches still choosing between a direct attempt and the queue for their deliveries, before the read loop
 * waits for one. Batches that have only attempts in flight left do not count: a hanging endpoint's attempts
 * (bounded by its slots) never stop the reading of other tenants' entries.
 */
const MAX_DECIDING_BATCHES = 2;
/** An endpoint whose fastest answer lately took this long, with all its direct slots taken, is not waited for. */
const PATIENT_LATENCY_MS = 40;
/** Direct attempts sent but not yet recorded, per slot, before no new one starts (PostgreSQL falling behind). */
const UNRECORDED_PER_SLOT = 4;

const scopeKey = (scope: Scope): string => `${scope.applicationId}:${scope.environment}`;
const field = (fields: string[], name: string): string | undefined => {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
};

/**
 * Turns topic history into webhook deliveries without touching the publish path. The history streams of every
 * topic that an enabled endpoint covers are read through a Redis consumer group (`webhooks`, created at
 * id 0 with MKSTREAM), so any number of dispatchers share the work. An event goes to an endpoint when its
 * history entry is not older than the endpoint's `activeSince`, its topic matches one of the endpoint's
 * patterns, and its filter holds. Each such delivery is either sent at once by the dispatcher (`direct`: a
 * healthy, unordered endpoint with a free slot and no delay before the first attempt), its row written with
 * that attempt's outcome, or recorded in PostgreSQL and queued as a BullMQ job. A failed direct attempt queues
 * its retry. An entry is acknowledged (XACK) only once every one of its deliveries is queued or has its first
 * attempt recorded (and its retry queued), so a crash in between leaves it pending. Entries a dead dispatcher held are taken over with
 * XAUTOCLAIM (a live one keeps the entries of its attempts in flight from looking idle); re-reading an entry
 * is harmless: deliveries and jobs have derived ids, finished deliveries are skipped, and an unfinished one
 * found again is queued.
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

  // The direct path's settings with their defaults, resolved once (undefined: every delivery is queued).
  const direct: Required<DirectOptions> | undefined = options.direct && {
    perEndpoint: Math.max(1, Math.ceil(options.direct.concurrency / 2)),
    maxWaitMs: 50,
    slowMs: SLOW_ANSWER_MS,
    coolDownMs: SLOW_FOR_MS,
    ...options.direct,
  };
  let matchers = new Map<string, EndpointMatcher[]>();
  let endpointsById = new Map<string, WebhookEndpointRecord>();
  // Direct first attempts: slots in use (in all and per endpoint), the read loop waiting for one, endpoints
  // sent to the queue for a while (slow or unanswering), and the entries of attempts in flight, per stream.
  let slotsInUse = 0;
  const slotsByEndpoint = new Map<string, number>();
  /** When a slot was last freed, in all and per endpoint (a wait for a slot is measured from the later of its start and that). */
  let lastFreedAt = 0;
  const lastFreedAtOf = new Map<string, number>();
  let slotWaiters: (() => void)[] = [];
  const queueOnlyUntil = new Map<string, number>();
  /** Each endpoint's fastest direct answer lately (see createLatencyFloor). */
  const fastest = createLatencyFloor();
  const heldIds = new Map<string, Set<string>>();
  /** Batches with direct attempts not yet all recorded and acknowledged (stop waits for them). */
  const inFlightBatches = new Set<Promise<void>>();
  /** Batches still deciding, each settled once all its deliveries are started or queued. */
  const decidingBatches = new Set<Promise<void>>();
  /**
   * Deliveries whose direct first attempt is in flight or not yet recorded. The same delivery read again
   * meanwhile (its event id published again, or taken over) is left to that attempt: it has no row yet, so it
   * would look new and be sent twice. The attempt's own entry stays pending until it is recorded.
   */
  const attemptsUnrecorded = new Set<string>();
  /** Direct first attempts started and not yet recorded (bounded by UNRECORDED_PER_SLOT). */
  let unrecorded = 0;
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
    endpointsById = new Map(endpoints.map((record) => [record.id, record]));
    // What was learned about endpoints that are gone (deleted or disabled) is forgotten with them.
    fastest.prune((id) => endpointsById.has(id));
    for (const map of [queueOnlyUntil, lastFreedAtOf]) for (const id of map.keys()) if (!endpointsById.has(id)) map.delete(id);
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
  async function handle(key: string, entries: [string, string[] | null][], firstRead: boolean): Promise<void> {
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
      const positions = new Map<string, string>();
      for (const [position, fields] of entries) {
        if (!fields) continue; // trimmed while pending
        const json = field(fields, 'e');
        if (json === undefined) continue;
        const storedAt = Number(position.slice(0, position.indexOf('-')));
        let event: EventEnvelope | undefined;
        let eventJson: string | undefined;
        for (const matcher of candidates) {
          event ??= JSON.parse(json) as EventEnvelope;
          if (!matcher.matches(event, storedAt)) continue;
          if (eventJson === undefined) {
            event.cursor = formatCursor({ epoch, offset: Number(field(fields, 'o') ?? 0), position });
            // The stored entry has no cursor (it is derived from the position); jsonb keeps the last of a repeated key.
            eventJson = json.length > 2 && json.endsWith('}') ? `${json.slice(0, -1)},"cursor":${JSON.stringify(event.cursor)}}` : JSON.stringify(event);
          }
          deliveries.push({ endpointId: matcher.record.id, origin: 'live', event, eventJson });
          positions.set(event.id, position);
        }
      }
      // Entries read for the first time (not taken over) have deliveries nobody tried: with first attempts sent
      // directly, their rows are written with those attempts (or when queued), not before.
      let recorded: QueuedDelivery[];
      if (direct && firstRead) {
        // Claimed here, with no await between the check and the claim: a batch handled meanwhile (a takeover
        // runs beside the read loop) may have found the same delivery unrecorded too.
        recorded = (await findUnrecordedDeliveries(db, deliveries)).filter((d) => {
          if (!d.fresh) return true;
          if (attemptsUnrecorded.has(d.id)) return false;
          attemptsUnrecorded.add(d.id);
          return true;
        });
      } else {
        // Not recorded here while this process's first attempt is unrecorded: its row comes with that attempt.
        const wanted =
          attemptsUnrecorded.size === 0
            ? deliveries
            : deliveries.filter((d) => !attemptsUnrecorded.has(deliveryIdFor(d.endpointId, d.event.id, d.origin)));
        recorded = await insertDeliveries(db, wanted);
      }
      if (direct && recorded.some((d) => d.fresh)) {
        // Not awaited: the next batch is read and recorded while these are sent (MAX_DECIDING_BATCHES bounds it).
        const held = heldOf(key);
        for (const id of ids) held.add(id);
        let decided: () => void = () => undefined;
        const deciding: Promise<void> = new Promise<void>((resolve) => (decided = resolve)).finally(() => decidingBatches.delete(deciding));
        decidingBatches.add(deciding);
        const tracked: Promise<void> = sendFirstAttempts(key, ids, positions, recorded, decided)
          .catch(onError)
          .finally(() => {
            decided();
            inFlightBatches.delete(tracked);
          });
        inFlightBatches.add(tracked);
        return;
      }
      await enqueueDeliveries(queue, config, recorded);
    }
    if (ids.length > 0) await platform.redis.xack(key, WEBHOOK_GROUP, ...ids);
  }

  /**
   * Sends the first attempt of each fresh delivery that may go direct, queues the others, and acknowledges
   * the entries once the attempts are recorded. An entry whose attempt could not be recorded (PostgreSQL or
   * Redis down) stays pending and is taken over later.
   */
  async function sendFirstAttempts(
    key: string,
    ids: string[],
    positions: Map<string, string>,
    recorded: QueuedDelivery[],
    decided: () => void,
  ): Promise<void> {
    const settings = direct as Required<DirectOptions>;
    const queued: QueuedDelivery[] = [];
    const started: Promise<void>[] = [];
    const failedEntries = new Set<string>();
    const saturated = new Set<string>();
    let full = false;
    for (const delivery of recorded) {
      const endpoint = endpointsById.get(delivery.endpointId);
      const now = Date.now();
      if (
        full ||
        !delivery.fresh ||
        !endpoint ||
        endpoint.ordered ||
        saturated.has(delivery.endpointId) ||
        (queueOnlyUntil.get(delivery.endpointId) ?? 0) > now
      ) {
        queued.push(delivery);
        continue;
      }
      const slot = await acquireSlot(delivery.endpointId, settings.maxWaitMs);
      if (slot !== 'ok') {
        if (slot === 'full') full = true;
        else saturated.add(delivery.endpointId);
        queued.push(delivery);
        continue;
      }
      started.push(
        firstAttempt(delivery, endpoint).catch((error: unknown) => {
          failedEntries.add(positions.get(delivery.event.id) ?? '');
          onError(error);
        }),
      );
    }
    try {
      // Deliveries not recorded yet get their rows before their jobs (insertDeliveries skips an empty list).
      const recordedNow = await insertDeliveries(db, queued.filter((d) => d.unrecorded));
      await enqueueDeliveries(queue, config, [...queued.filter((d) => !d.unrecorded), ...recordedNow]);
    } catch (error) {
      for (const id of ids) failedEntries.add(id);
      onError(error);
    } finally {
      // Queued, or left pending for a takeover: no longer this process's to send.
      for (const delivery of queued) attemptsUnrecorded.delete(delivery.id);
    }
    decided();
    await Promise.all(started);
    const done = ids.filter((id) => !failedEntries.has(id));
    try {
      if (done.length > 0) await platform.redis.xack(key, WEBHOOK_GROUP, ...done);
    } finally {
      const held = heldOf(key);
      for (const id of ids) held.delete(id);
      if (held.size === 0) heldIds.delete(key);
    }
  }

  async function firstAttempt(delivery: QueuedDelivery, endpoint: WebhookEndpointRecord): Promise<void> {
    const settings = direct as Required<DirectOptions>;
    const attempts = config.webhooks.retryScheduleMs.length;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      releaseSlot(endpoint.id);
    };
    unrecorded += 1;
    try {
      // The slot bounds requests in flight; recording the attempt (group commit) happens after it is freed.
      const outcome = await settings.attempt({
        deliveryId: delivery.id,
        endpoint,
        event: delivery.event,
        attempt: 1,
        attempts,
        create: delivery.unrecorded ? delivery : undefined,
        onSent: release,
      });
      fastest.note(endpoint.id, outcome.result.latencyMs);
      if (answeredSlowly(outcome.result, settings.slowMs)) {
        queueOnlyUntil.set(endpoint.id, Date.now() + settings.coolDownMs);
      }
      if (outcome.kind === 'failed' && !outcome.last) {
        await enqueueDeliveries(queue, config, [{ ...delivery, attemptsMade: 1, delayMs: outcome.delayMs }]);
      }
    } finally {
      unrecorded -= 1;
      attemptsUnrecorded.delete(delivery.id);
      release();
      wakeSlotWaiters();
    }
  }

  /**
   * Takes a slot for a direct attempt, waiting for one until `waitMs` pass without a slot it could use being
   * freed: `full` when every slot stayed taken, `endpoint` when its own did. Slots that keep freeing are
   * waited for however long a backlog takes (queueing would only add work); a hanging endpoint's are not.
   */
  async function acquireSlot(endpointId: string, waitMs: number): Promise<'ok' | 'full' | 'endpoint'> {
    const settings = direct as Required<DirectOptions>;
    const { perEndpoint } = settings;
    const since = Date.now();
    for (;;) {
      const mine = slotsByEndpoint.get(endpointId) ?? 0;
      if (slotsInUse < settings.concurrency && mine < perEndpoint && unrecorded < settings.concurrency * UNRECORDED_PER_SLOT) {
        slotsInUse += 1;
        slotsByEndpoint.set(endpointId, mine + 1);
        return 'ok';
      }
      // An endpoint at its own limit that answers slowly frees a slot only every so often: its deliveries go
      // to the queue at once (the worker's slots add to its concurrency) rather than wait.
      if (mine >= perEndpoint && fastest.of(endpointId) >= PATIENT_LATENCY_MS) return 'endpoint';
      const progress = mine < perEndpoint ? lastFreedAt : (lastFreedAtOf.get(endpointId) ?? 0);
      const left = Math.max(since, progress) + waitMs - Date.now();
      if (left <= 0 || !running) return mine < perEndpoint ? 'full' : 'endpoint';
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        slotWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  function releaseSlot(endpointId: string): void {
    slotsInUse -= 1;
    lastFreedAt = Date.now();
    lastFreedAtOf.set(endpointId, lastFreedAt);
    const mine = (slotsByEndpoint.get(endpointId) ?? 1) - 1;
    if (mine > 0) slotsByEndpoint.set(endpointId, mine);
    else slotsByEndpoint.delete(endpointId);
    wakeSlotWaiters();
  }

  function wakeSlotWaiters(): void {
    const waiters = slotWaiters;
    slotWaiters = [];
    for (const wake of waiters) wake();
  }

  function heldOf(key: string): Set<string> {
    let held = heldIds.get(key);
    if (!held) {
      held = new Set();
      heldIds.set(key, held);
    }
    return held;
  }

  async function readLoop(): Promise<void> {
    while (running) {
      while (decidingBatches.size >= MAX_DECIDING_BATCHES) await Promise.race(decidingBatches);
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
        for (const [key, entries] of result ?? []) await handle(key, entries, true);
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
    // Entries of direct attempts still in flight are claimed again by this consumer, which resets their idle
    // time: no other dispatcher takes them over while this one lives (an attempt may take REALTIME_WEBHOOK_TIMEOUT_MS).
    for (const [key, held] of heldIds) {
      if (held.size > 0) await platform.redis.xclaim(key, WEBHOOK_GROUP, consumer, 0, ...held, 'JUSTID');
    }
    for (const key of streams.keys()) {
      let cursor = '0-0';
      for (let round = 0; round < 50 && running; round += 1) {
        const [next, entries] = (await platform.redis.xautoclaim(key, WEBHOOK_GROUP, consumer, claimIdleMs, cursor, 'COUNT', batchSize)) as [
          string,
          [string, string[] | null][],
          string[]?,
        ];
        const held = heldIds.get(key);
        const orphans = held ? entries.filter(([id]) => !held.has(id)) : entries;
        if (orphans.length > 0) await handle(key, orphans, false);
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
      // First attempts in flight end (each within REALTIME_WEBHOOK_TIMEOUT_MS) and are recorded and acknowledged.
      while (inFlightBatches.size > 0) await Promise.all([...inFlightBatches]);
    },
  };
}
