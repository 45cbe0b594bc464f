import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { Queryable } from '../db/queryable.js';
import { badInput } from '../errors.js';
import { buildEnvelope } from '../events/envelope.js';
import { formatCursor, type EventEnvelope } from '../protocol.js';
import { topicKeys } from '../redis/keys.js';
import type { RegistryCache } from '../registry/registry-cache.js';
import { v7 as uuidv7 } from 'uuid';
import { findDelivery, insertDeliveries, restartDelivery, type NewDelivery, type WebhookDelivery } from './deliveries.js';
import { endpointCoversTopic, type WebhookEndpoint } from './endpoints.js';
import { compileWebhookFilter } from './filter.js';
import { enqueueDeliveries, type WebhookQueue } from './queue.js';

/** What the webhook operations of the API need. */
export interface WebhookOperationDeps {
  db: Queryable;
  redis: Redis;
  config: Config;
  registry: RegistryCache;
  queue: WebhookQueue;
}

/** Most events one replay re-sends; a longer range is cut there (the result says so). */
export const MAX_REPLAY_EVENTS = 10_000;

/** The topic of test webhooks (sendTestWebhook); never published, never in history. */
export const TEST_WEBHOOK_TOPIC = 'realtime.webhook.test';

/**
 * Re-sends to one endpoint every event of its topics (and filter) whose history entry lies in
 * [since, until], as new deliveries (origin `replay:<id>`) with the events' own ids as webhook-id. Events
 * already trimmed from history cannot be replayed.
 */
export async function replayWebhookEndpoint(
  deps: WebhookOperationDeps,
  endpoint: WebhookEndpoint,
  range: { since: Date; until: Date },
): Promise<{ replayId: string; queued: number; truncated: boolean }> {
  const since = range.since.getTime();
  const until = range.until.getTime();
  if (!(since <= until)) throw badInput('since must not be after until', { field: 'since' });
  const scope = { applicationId: endpoint.applicationId, environment: endpoint.environment };
  const filter = compileWebhookFilter(endpoint.filter);
  const replayId = uuidv7();
  const origin = `replay:${replayId}`;
  const topics = (await deps.registry.get(scope)).topics.filter((t) => endpointCoversTopic(endpoint.topics, t.name));
  let queued = 0;
  let truncated = false;
  for (const topic of topics) {
    const keys = topicKeys(deps.config.redisKeyPrefix, scope, topic.name);
    const epoch = (await deps.redis.get(keys.epoch)) ?? '0';
    let start = String(since);
    for (;;) {
      const entries = await deps.redis.xrange(keys.history, start, `${until}`, 'COUNT', 500);
      const batch: NewDelivery[] = [];
      for (const [position, fields] of entries) {
        const offsetAt = fields.indexOf('o');
        const envelopeAt = fields.indexOf('e');
        if (envelopeAt < 0) continue;
        const event = JSON.parse(fields[envelopeAt + 1] as string) as EventEnvelope;
        event.cursor = formatCursor({ epoch, offset: Number(offsetAt >= 0 ? fields[offsetAt + 1] : 0), position });
        if (!filter(event)) continue;
        if (queued + batch.length >= MAX_REPLAY_EVENTS) {
          truncated = true;
          break;
        }
        batch.push({ endpointId: endpoint.id, origin, event });
      }
      await enqueueDeliveries(deps.queue, deps.config, await insertDeliveries(deps.db, batch));
      queued += batch.length;
      const last = entries[entries.length - 1];
      if (truncated || entries.length < 500 || !last) break;
      start = `(${last[0]}`;
    }
    if (truncated) break;
  }
  return { replayId, queued, truncated };
}

/** Sends a delivery again as a new generation (a dead letter, or any other), at once. */
export async function redeliverWebhook(deps: WebhookOperationDeps, deliveryId: string): Promise<WebhookDelivery | undefined> {
  const delivery = await restartDelivery(deps.db, deliveryId);
  if (!delivery) return undefined;
  await enqueueDeliveries(deps.queue, deps.config, [
    { id: delivery.id, generation: delivery.generation, endpointId: delivery.endpointId, origin: delivery.origin, event: delivery.event },
  ]);
  return delivery;
}

/** Sends a synthetic `realtime.webhook.test` event to one endpoint (signed like any other), for setup. */
export async function sendTestWebhook(deps: WebhookOperationDeps, endpoint: WebhookEndpoint): Promise<WebhookDelivery> {
  const event = buildEnvelope({
    topic: TEST_WEBHOOK_TOPIC,
    applicationId: endpoint.applicationId,
    environment: endpoint.environment,
    schemaVersion: 1,
    source: '/platform',
    data: { endpointId: endpoint.id, message: 'A test webhook from the Realtime Platform: your endpoint is reachable and verifies signatures.' },
  });
  const queued = await insertDeliveries(deps.db, [{ endpointId: endpoint.id, origin: `test:${event.id}`, event }]);
  await enqueueDeliveries(deps.queue, deps.config, queued);
  const delivery = queued[0] && (await findDelivery(deps.db, queued[0].id));
  if (!delivery) throw new Error('test delivery was not recorded');
  return delivery;
}
