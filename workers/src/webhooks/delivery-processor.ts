import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import {
  hasEarlierUnfinished,
  markDeliveryDead,
  signingSecrets,
  toCloudEvent,
  webhookHeaders,
  withJitter,
  type Platform,
  type WebhookJobData,
} from '@realtime/core';
import { disableEndpoint } from './disable-endpoint.js';
import type { AttemptRecorder } from './attempt-recorder.js';
import type { EndpointCache } from './endpoint-cache.js';
import type { WebhookSender } from './sender.js';

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
  sender: WebhookSender;
  endpoints: EndpointCache;
  /** Writes attempt records (batched across concurrent jobs). */
  attempts: AttemptRecorder;
  /** Identifies the platform in the User-Agent header. @default 'RealtimePlatform-Webhooks/1.0' */
  userAgent?: string;
}

const formatDuration = (ms: number): string =>
  ms % 86_400_000 === 0 ? `${ms / 86_400_000} d` : ms % 3_600_000 === 0 ? `${ms / 3_600_000} h` : `${Math.round(ms / 1000)} s`;

/**
 * Sends one attempt of one delivery and records it. Outcomes: a 2xx marks the delivery SUCCEEDED; a 410
 * marks it DEAD and disables the endpoint; any other failure marks it FAILED and throws AttemptFailedError
 * with the delay until the next attempt (Retry-After on 429/503 replaces the schedule's delay), or DEAD on
 * the last attempt. The attempt is recorded before the job completes: a crash in between makes BullMQ run
 * the job again (at-least-once), with the same webhook-id.
 */
export function createDeliveryProcessor(options: DeliveryProcessorOptions): (job: Job<WebhookJobData>, token?: string) => Promise<void> {
  const { platform, sender, endpoints, attempts, userAgent = 'RealtimePlatform-Webhooks/1.0' } = options;
  const { pool: db, secrets } = platform;
  const { retryScheduleMs: schedule, disableAfterMs } = platform.config.webhooks;

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

    const body = JSON.stringify(toCloudEvent(event));
    const headers = {
      'content-type': 'application/json',
      'user-agent': userAgent,
      ...webhookHeaders(signingSecrets(endpoint, secrets), event.id, Math.floor(Date.now() / 1000), body),
    };
    const result = await sender.send(endpoint.url, headers, body);
    const attempt = job.attemptsMade + 1;
    const last = attempt >= (job.opts.attempts ?? 1);
    const base = {
      deliveryId,
      endpointId,
      succeeded: result.ok,
      statusCode: result.statusCode,
      latencyMs: result.latencyMs,
      responseExcerpt: result.responseExcerpt,
      error: result.error,
    };
    if (result.ok) {
      await attempts.record({ ...base, status: 'SUCCEEDED', nextAttemptAt: null });
      return;
    }
    if (result.statusCode === 410) {
      await attempts.record({ ...base, status: 'DEAD', nextAttemptAt: null });
      await disableEndpoint(platform, endpointId, 'the endpoint answered 410 Gone');
      throw new UnrecoverableError('HTTP 410: endpoint disabled');
    }
    const delayMs = last ? 0 : (result.retryAfterMs ?? withJitter(schedule[attempt] ?? schedule[schedule.length - 1] ?? 0));
    const { failingSince } = await attempts.record({
      ...base,
      status: last ? 'DEAD' : 'FAILED',
      nextAttemptAt: last ? null : new Date(Date.now() + delayMs),
    });
    if (failingSince && Date.now() - failingSince.getTime() >= disableAfterMs) {
      await disableEndpoint(platform, endpointId, `no successful delivery for ${formatDuration(disableAfterMs)}`);
    }
    throw new AttemptFailedError(result.error ?? 'failed', delayMs);
  };
}
