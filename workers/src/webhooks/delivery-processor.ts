import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { hasEarlierUnfinished, markDeliveryDead, type Platform, type WebhookJobData } from '@realtime/core';
import type { Attempter } from './attempt.js';
import type { EndpointCache } from './endpoint-cache.js';

/** Thrown to BullMQ after a failed attempt; the backoff strategy reads the delay computed here. */
export class AttemptFailedError extends Error {
  override name = 'AttemptFailedError';
  constructor(
    message: string,
    /** Milliseconds until the next attempt (schedule with jitter, or the endpoint's Retry-After). */
    readonly delayMs: number,
  ) {
    super(message);
  }
}

export interface DeliveryProcessorOptions {
  platform: Platform;
  endpoints: EndpointCache;
  /** Sends and records one attempt (shared with the dispatcher's first attempts). */
  attempt: Attempter;
}

/**
 * Runs one job: one attempt of one delivery (see createAttempter for the outcomes). A failed attempt throws
 * AttemptFailedError with the delay until the next one, a 410 an UnrecoverableError. The attempt is recorded
 * before the job completes: a crash in between makes BullMQ run the job again (at-least-once), with the same
 * webhook-id. A job queued after the dispatcher's own first attempt numbers its attempts after that one.
 */
export function createDeliveryProcessor(options: DeliveryProcessorOptions): (job: Job<WebhookJobData>, token?: string) => Promise<void> {
  const { platform, endpoints, attempt } = options;
  const { pool: db } = platform;

  return async (job, token) => {
    const { deliveryId, endpointId, event, origin, generation } = job.data;
    let endpoint = await endpoints.get(endpointId);
    if (endpoint && (endpoint.status !== 'ENABLED' || Date.parse(event.time) < endpoint.activeSince.getTime())) {
      // About to drop it: make sure the cached endpoint is not older than an enable this process has not heard of yet.
      endpoint = await endpoints.get(endpointId, true);
    }
    if (!endpoint) return; // deleted with its deliveries
    if (endpoint.status !== 'ENABLED') {
      await markDeliveryDead(db, deliveryId, `not sent: the endpoint is disabled (${endpoint.disabledReason ?? 'by a user'})`);
      return;
    }
    if (origin === 'live' && generation === 0 && Date.parse(event.time) < endpoint.activeSince.getTime()) {
      // Published while the endpoint was disabled, and queued before the dispatcher heard of it.
      await markDeliveryDead(db, deliveryId, 'not sent: published while the endpoint was disabled');
      return;
    }
    if (endpoint.ordered && event.subject !== null && token) {
      const waiting = await hasEarlierUnfinished(db, { id: deliveryId, endpointId, subject: event.subject, eventTime: event.time, eventId: event.id });
      if (waiting) {
        // FIFO per subject: wait (not an attempt) until the earlier event succeeded or was dead-lettered.
        const waits = (job.data.waits ?? 0) + 1;
        await job.updateData({ ...job.data, waits });
        await job.moveToDelayed(Date.now() + Math.min(100 * 2 ** Math.min(waits, 9), 30_000), token);
        throw new DelayedError();
      }
    }

    const before = job.data.attemptsBefore ?? 0;
    const outcome = await attempt({
      deliveryId,
      endpoint,
      event,
      attempt: before + job.attemptsMade + 1,
      attempts: before + (job.opts.attempts ?? 1),
    });
    if (outcome.kind === 'succeeded') return;
    if (outcome.kind === 'gone') throw new UnrecoverableError('HTTP 410: endpoint disabled');
    throw new AttemptFailedError(outcome.error, outcome.delayMs);
  };
}
