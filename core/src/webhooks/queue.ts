import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { EnvironmentName, EventEnvelope } from '../protocol.js';
import { webhookJobId, type QueuedDelivery } from './deliveries.js';

/** What one BullMQ job carries: one generation of one delivery, scoped by application and environment. */
export interface WebhookJobData {
  applicationId: string;
  environment: EnvironmentName;
  deliveryId: string;
  endpointId: string;
  generation: number;
  /** `live`, `replay:<id>` or `test:<id>` (see WebhookDelivery.origin). */
  origin: string;
  event: EventEnvelope;
  /** Times a FIFO delivery waited for an earlier one of its subject (not attempts). */
  waits?: number;
  /** Times the job was put back because its endpoint held its share of the worker's slots (not attempts). */
  deferrals?: number;
  /**
   * Attempts of this generation made before the job existed (the dispatcher sends first attempts itself and
   * queues only retries): the job's attempt numbers start after them. @default 0
   */
  attemptsBefore?: number;
}

export type WebhookQueue = Queue<WebhookJobData>;

/** The queue's name; its keys live under `<REALTIME_REDIS_PREFIX>:bull:webhooks:*`. */
export const WEBHOOK_QUEUE = 'webhooks';

/** BullMQ's `prefix` option: the platform's key prefix, so test runs and deployments never share a queue. */
export const webhookQueuePrefix = (config: Config): string => `${config.redisKeyPrefix}:bull`;

/** Name of the custom backoff strategy that reads REALTIME_WEBHOOK_RETRY_SCHEDULE (see the worker). */
export const WEBHOOK_BACKOFF = 'webhook-schedule';

/** A delay with ±10 % jitter, so retries of many deliveries that failed together do not arrive together. */
export function withJitter(ms: number, random: () => number = Math.random): number {
  return ms <= 0 ? 0 : Math.round(ms * (0.9 + random() * 0.2));
}

/** Creates a producer for the webhook queue on an existing connection (not closed with the queue). */
export function createWebhookQueue(connection: Redis, config: Config): WebhookQueue {
  return new Queue<WebhookJobData>(WEBHOOK_QUEUE, { connection, prefix: webhookQueuePrefix(config) });
}

const queues = new WeakMap<object, WebhookQueue>();

/** One queue producer per platform, on the platform's command connection (for the API's redeliver, replay, test). */
export function webhookQueueOf(platform: { config: Config; redis: Redis }): WebhookQueue {
  let queue = queues.get(platform);
  if (!queue) {
    queue = createWebhookQueue(platform.redis, platform.config);
    queues.set(platform, queue);
  }
  return queue;
}

/**
 * Adds one job per delivery (one round trip for the batch). Job ids are `<deliveryId>.<generation>`: adding
 * a job that already exists does nothing, so enqueueing the same delivery twice sends it once. The first
 * attempt waits the schedule's first delay (redeliveries go at once; a retry of an attempt made without a
 * job waits its `delayMs`); retries follow the schedule, and a delivery never gets more attempts per
 * generation than the schedule has entries.
 */
export async function enqueueDeliveries(queue: WebhookQueue, config: Config, deliveries: readonly QueuedDelivery[]): Promise<void> {
  if (deliveries.length === 0) return;
  const schedule = config.webhooks.retryScheduleMs;
  await queue.addBulk(
    deliveries.map((d) => ({
      name: d.event.topic,
      data: {
        applicationId: d.event.applicationId,
        environment: d.event.environment,
        deliveryId: d.id,
        endpointId: d.endpointId,
        generation: d.generation,
        origin: d.origin,
        event: d.event,
        ...(d.attemptsMade ? { attemptsBefore: d.attemptsMade } : {}),
      },
      opts: {
        jobId: webhookJobId(d.id, d.generation),
        attempts: Math.max(1, schedule.length - (d.attemptsMade ?? 0)),
        backoff: { type: WEBHOOK_BACKOFF },
        delay: d.delayMs ?? (d.generation === 0 ? withJitter(schedule[0] ?? 0) : 0),
        removeOnComplete: true,
        removeOnFail: true,
      },
    })),
  );
}
