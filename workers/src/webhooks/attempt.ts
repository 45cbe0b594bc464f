import {
  signingSecrets,
  toCloudEvent,
  webhookHeaders,
  withJitter,
  type EventEnvelope,
  type NewDelivery,
  type Platform,
  type WebhookEndpointRecord,
} from '@realtime/core';
import type { AttemptRecorder } from './attempt-recorder.js';
import { disableEndpoint } from './disable-endpoint.js';
import type { SendResult, WebhookSender } from './sender.js';

/**
 * What one attempt came to, once recorded: `succeeded` (2xx), `gone` (410: the delivery is DEAD and the
 * endpoint disabled), or `failed`, with the delay until the next attempt, or `last` when none is left (DEAD).
 */
export type AttemptOutcome =
  | { kind: 'succeeded'; result: SendResult }
  | { kind: 'gone'; result: SendResult }
  | { kind: 'failed'; result: SendResult; error: string; delayMs: number; last: boolean };

export interface AttemptInput {
  deliveryId: string;
  endpoint: WebhookEndpointRecord;
  event: EventEnvelope;
  /** This attempt's number in its generation, from 1. */
  attempt: number;
  /** Attempts the generation may make in all (the retry schedule's length). */
  attempts: number;
  /** The delivery has no row yet: it is created with this attempt's record (the dispatcher's first attempts). */
  create?: NewDelivery;
  /** Told when the HTTP exchange is over, before the attempt is recorded (the dispatcher frees its slot then). */
  onSent?: () => void;
}

export type Attempter = (input: AttemptInput) => Promise<AttemptOutcome>;

/** An answer slower than this (ms), or none at all, marks an endpoint slow, for SLOW_FOR_MS (dispatcher and worker alike). */
export const SLOW_ANSWER_MS = 1_000;
export const SLOW_FOR_MS = 30_000;

/** True when an attempt got no response, or one slower than `slowMs`. */
export const answeredSlowly = (result: SendResult, slowMs: number = SLOW_ANSWER_MS): boolean =>
  result.statusCode === null || result.latencyMs > slowMs;

export interface AttempterOptions {
  platform: Platform;
  sender: WebhookSender;
  /** Writes attempt records (batched across concurrent attempts). */
  attempts: AttemptRecorder;
  /** Identifies the platform in the User-Agent header. @default 'RealtimePlatform-Webhooks/1.0' */
  userAgent?: string;
}

const formatDuration = (ms: number): string =>
  ms % 86_400_000 === 0 ? `${ms / 86_400_000} d` : ms % 3_600_000 === 0 ? `${ms / 3_600_000} h` : `${Math.round(ms / 1000)} s`;

/**
 * Sends one signed attempt of one delivery and records it before resolving: a 2xx marks the delivery
 * SUCCEEDED; a 410 marks it DEAD and disables the endpoint; any other failure marks it FAILED with the time
 * of the next attempt (Retry-After on 429/503 replaces the schedule's delay), or DEAD on the last one, and
 * disables an endpoint that has failed without a success for REALTIME_WEBHOOK_DISABLE_AFTER. Used alike by
 * the dispatcher (first attempts) and the BullMQ worker (retries, redeliveries, replays, tests).
 */
export function createAttempter(options: AttempterOptions): Attempter {
  const { platform, sender, attempts, userAgent = 'RealtimePlatform-Webhooks/1.0' } = options;
  const { secrets } = platform;
  const { retryScheduleMs: schedule, disableAfterMs } = platform.config.webhooks;

  return async ({ deliveryId, endpoint, event, attempt, attempts: total, create, onSent }) => {
    const body = JSON.stringify(toCloudEvent(event));
    const headers = {
      'content-type': 'application/json',
      'user-agent': userAgent,
      ...webhookHeaders(signingSecrets(endpoint, secrets), event.id, Math.floor(Date.now() / 1000), body),
    };
    const result = await sender.send(endpoint.url, headers, body);
    onSent?.();
    const last = attempt >= total;
    const base = {
      deliveryId,
      create,
      endpointId: endpoint.id,
      succeeded: result.ok,
      statusCode: result.statusCode,
      latencyMs: result.latencyMs,
      responseExcerpt: result.responseExcerpt,
      error: result.error,
    };
    if (result.ok) {
      await attempts.record({ ...base, status: 'SUCCEEDED', nextAttemptAt: null });
      return { kind: 'succeeded', result };
    }
    if (result.statusCode === 410) {
      await attempts.record({ ...base, status: 'DEAD', nextAttemptAt: null });
      await disableEndpoint(platform, endpoint.id, 'the endpoint answered 410 Gone');
      return { kind: 'gone', result };
    }
    const delayMs = last ? 0 : (result.retryAfterMs ?? withJitter(schedule[attempt] ?? schedule[schedule.length - 1] ?? 0));
    const { failingSince } = await attempts.record({
      ...base,
      status: last ? 'DEAD' : 'FAILED',
      nextAttemptAt: last ? null : new Date(Date.now() + delayMs),
    });
    if (failingSince && Date.now() - failingSince.getTime() >= disableAfterMs) {
      await disableEndpoint(platform, endpoint.id, `no successful delivery for ${formatDuration(disableAfterMs)}`);
    }
    return { kind: 'failed', result, error: result.error ?? 'failed', delayMs, last };
  };
}
