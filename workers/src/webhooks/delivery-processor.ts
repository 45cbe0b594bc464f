import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { hasEarlierUnfinished, markDeliveryDead, withJitter, type Platform, type WebhookJobData } from '@realtime/core';
import { SLOW_FOR_MS, answeredSlowly, type Attempter } from './attempt.js';
import type { SendResult } from './sender.js';
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
  /** The worker's concurrency: the slots its jobs share (see createSlotShares). */
  concurrency: number;
}

/** First and longest wait of a job put back because its endpoint held its share of the slots. */
const DEFER_FIRST_MS = 250;
const DEFER_MAX_MS = 30_000;

/**
 * Which endpoint may take one of the worker's slots. The first three quarters go to any job, and so do the
 * others, except to an endpoint that is slow (an attempt without a response, or slower than a second, in the
 * last 30 s) and already holds a tenth of them (at least one). Without it, the queued retries of endpoints that
 * hang took every slot for as long as their timeouts, and every other tenant's queued deliveries waited behind
 * them (head-of-line blocking). Endpoints that answer are never held back: a job put back costs the worker more
 * than an attempt (with every job of a 50 ms endpoint subject to a share, 4,000 deliveries took 2.99 CPU-s
 * instead of 1.51, at a quarter of the rate).
 */
export function createSlotShares(concurrency: number, now: () => number = Date.now) {
  const inFlight = new Map<string, number>();
  const slowUntil = new Map<string, number>();
  const open = concurrency - Math.max(1, Math.floor(concurrency / 4));
  const slowShare = Math.max(1, Math.floor(concurrency / 10));
  let total = 0;
  const slow = (endpointId: string): boolean => {
    const until = slowUntil.get(endpointId);
    if (until === undefined) return false;
    if (until > now()) return true;
    slowUntil.delete(endpointId);
    return false;
  };
  return {
    /** Takes a slot for the endpoint; false (nothing taken) when only the last quarter is left and it is slow and holds a tenth. */
    take(endpointId: string): boolean {
      const held = inFlight.get(endpointId) ?? 0;
      if (total >= concurrency || (total >= open && held >= slowShare && slow(endpointId))) return false;
      inFlight.set(endpointId, held + 1);
      total += 1;
      return true;
    },
    /** Gives the slot back, noting how the endpoint answered (null: no attempt was made). */
    release(endpointId: string, result: SendResult | null): void {
      const held = (inFlight.get(endpointId) ?? 1) - 1;
      if (held > 0) inFlight.set(endpointId, held);
      else inFlight.delete(endpointId);
      total = Math.max(0, total - 1);
      if (!result) return;
      if (answeredSlowly(result)) slowUntil.set(endpointId, now() + SLOW_FOR_MS);
      else slowUntil.delete(endpointId);
    },
  };
}

/** Puts a job back in the queue for `waitMs` with `data` (not an attempt: BullMQ's DelayedError ends the run). */
async function putBack(job: Job<WebhookJobData>, token: string, data: WebhookJobData, waitMs: number): Promise<never> {
  await job.updateData(data);
  await job.moveToDelayed(Date.now() + waitMs, token);
  throw new DelayedError();
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
  const shares = createSlotShares(options.concurrency);

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
        return putBack(job, token, { ...job.data, waits }, Math.min(100 * 2 ** Math.min(waits, 9), 30_000));
      }
    }

    if (token && !shares.take(endpointId)) {
      // Only reserved slots are left and its endpoint is slow and holds its share: back to the queue (not an attempt), for longer each time.
      const deferrals = (job.data.deferrals ?? 0) + 1;
      return putBack(job, token, { ...job.data, deferrals }, withJitter(Math.min(DEFER_FIRST_MS * 2 ** Math.min(deferrals - 1, 10), DEFER_MAX_MS)));
    }
    const before = job.data.attemptsBefore ?? 0;
    let outcome: Awaited<ReturnType<Attempter>> | undefined;
    try {
      outcome = await attempt({
        deliveryId,
        endpoint,
        event,
        attempt: before + job.attemptsMade + 1,
        attempts: before + (job.opts.attempts ?? 1),
      });
    } finally {
      if (token) shares.release(endpointId, outcome?.result ?? null);
    }
    if (outcome.kind === 'succeeded') return;
    if (outcome.kind === 'gone') throw new UnrecoverableError('HTTP 410: endpoint disabled');
    throw new AttemptFailedError(outcome.error, outcome.delayMs);
  };
}
