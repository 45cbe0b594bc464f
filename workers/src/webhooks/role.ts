import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import {
  WEBHOOK_QUEUE,
  createWebhookQueue,
  deleteExpiredDeliveries,
  markDeliveryDead,
  webhookQueuePrefix,
  withJitter,
  type Platform,
  type WebhookJobData,
} from '@realtime/core';
import type { WorkerRole } from '../roles.js';
import { createAttempter } from './attempt.js';
import { createAttemptRecorder } from './attempt-recorder.js';
import { AttemptFailedError, createDeliveryProcessor } from './delivery-processor.js';
import { createDispatcher, type DispatcherOptions } from './dispatcher.js';
import { createEndpointCache } from './endpoint-cache.js';
import { createWebhookSender } from './sender.js';

export interface WebhookRoleOptions {
  /** BullMQ lock of an active job, renewed every half of it; a dead worker's jobs run again after it. @default 10000 */
  lockDurationMs?: number;
  /** How often workers look for jobs whose worker died. @default 5000 */
  stalledIntervalMs?: number;
  /** How often expired deliveries and attempts are deleted. @default 3600000 (1 hour) */
  retentionIntervalMs?: number;
  /** Dispatcher tuning (batch size, claim of a dead dispatcher's entries…). @default the dispatcher's defaults */
  dispatcher?: Pick<DispatcherOptions, 'batchSize' | 'blockMs' | 'refreshMs' | 'claimIdleMs' | 'claimIntervalMs' | 'forgetConsumersAfterMs'>;
  /**
   * The dispatcher sends first attempts itself (up to REALTIME_WEBHOOK_CONCURRENCY at once, besides the
   * worker's) and queues only retries; false queues every delivery. Either way the outcome is the same.
   * @default REALTIME_WEBHOOK_DIRECT (true)
   */
  directFirstAttempts?: boolean;
  /** Where the role reports errors it survives. @default stderr */
  log?: (message: string, detail: Record<string, unknown>) => void;
}

/**
 * Starts webhook dispatch in this process: the dispatcher (history streams → deliveries, first attempts and
 * jobs), the BullMQ worker that sends the queued ones and the retries, and the retention sweep. Any number of
 * processes may run it.
 */
export async function startWebhooks(platform: Platform, options: WebhookRoleOptions = {}): Promise<{ stop(): Promise<void> }> {
  const {
    lockDurationMs = 10_000,
    stalledIntervalMs = 5_000,
    retentionIntervalMs = 3_600_000,
    log = (message: string, detail: Record<string, unknown>) =>
      process.stderr.write(`${JSON.stringify({ level: 'warn', msg: message, role: 'webhooks', ...detail })}\n`),
  } = options;
  const { config } = platform;
  const settings = config.webhooks;
  const queue = createWebhookQueue(platform.redis, config);
  const sender = createWebhookSender({
    connectTimeoutMs: settings.connectTimeoutMs,
    timeoutMs: settings.timeoutMs,
    allowPrivate: settings.allowPrivate,
  });
  const endpoints = createEndpointCache({ db: platform.pool });
  const unsubscribe = platform.onControl((message) => {
    if (message.type === 'webhooks-changed') endpoints.clear();
  });

  // BullMQ's worker needs a connection that never gives up on a command (maxRetriesPerRequest: null).
  const connection = new Redis(config.redisUrl, { maxRetriesPerRequest: null, connectionName: 'realtime:webhooks-worker' });
  connection.on('error', () => undefined);
  const attempt = createAttempter({ platform, sender, attempts: createAttemptRecorder({ db: platform.pool }) });
  const worker = new Worker<WebhookJobData>(WEBHOOK_QUEUE, createDeliveryProcessor({ platform, endpoints, attempt, concurrency: settings.concurrency }), {
    connection,
    prefix: webhookQueuePrefix(config),
    concurrency: settings.concurrency,
    lockDuration: lockDurationMs,
    stalledInterval: stalledIntervalMs,
    maxStalledCount: 10,
    settings: {
      backoffStrategy: (attemptsMade: number, _type?: string, error?: Error) =>
        error instanceof AttemptFailedError
          ? error.delayMs
          : withJitter(settings.retryScheduleMs[attemptsMade] ?? settings.retryScheduleMs[settings.retryScheduleMs.length - 1] ?? 0),
    },
  });
  worker.on('error', (error) => log('webhook worker error', { error: String(error) }));
  worker.on('failed', (job, error) => {
    // Failures the processor did not record itself: a job that stalled too often, or an unexpected error on its last attempt.
    if (!job || error instanceof AttemptFailedError || error.name === 'UnrecoverableError') return;
    if (job.attemptsMade >= (job.opts.attempts ?? 1) || /stalled/i.test(error.message)) {
      markDeliveryDead(platform.pool, job.data.deliveryId, error.message).catch(() => undefined);
    }
  });

  const dispatcher = createDispatcher({
    ...options.dispatcher,
    platform,
    queue,
    // Only when nothing is to wait before a first attempt (the schedule's first delay is zero, as by default).
    ...((options.directFirstAttempts ?? settings.directFirstAttempts) && (settings.retryScheduleMs[0] ?? 0) === 0
      ? { direct: { attempt, concurrency: settings.concurrency, perEndpoint: settings.directPerEndpoint } }
      : {}),
    onError: (error) => log('webhook dispatcher error', { error: String(error) }),
  });

  // One sweep at a time; stop() ends the running one between two batches and waits for it.
  const retention = new AbortController();
  let sweeping: Promise<void> | undefined;
  const sweep = (): void => {
    sweeping ??= deleteExpiredDeliveries(platform.pool, settings.retentionMs, { signal: retention.signal })
      .then(
        () => undefined,
        (error: unknown) => log('webhook retention failed', { error: String(error) }),
      )
      .finally(() => (sweeping = undefined));
  };
  const retentionTimer = setInterval(sweep, retentionIntervalMs);
  retentionTimer.unref();
  sweep();

  return {
    async stop() {
      clearInterval(retentionTimer);
      retention.abort();
      await sweeping;
      unsubscribe();
      await dispatcher.stop();
      await worker.close();
      await queue.close();
      await sender.close();
      connection.disconnect();
    },
  };
}

export const webhooksRole: WorkerRole = {
  name: 'webhooks',
  description: 'Webhook dispatch: history streams → signed HTTP deliveries, retries through BullMQ, dead letters.',
  start: (platform) => startWebhooks(platform),
};
