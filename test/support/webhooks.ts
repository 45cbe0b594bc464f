/**
 * A platform with the webhooks role running in this process and a local receiver, set up before a describe
 * block's tests and removed after them (its own database and Redis prefix).
 */
import { afterAll, beforeAll } from 'vitest';
import { buildApp, type App } from '@realtime/server';
import { startWebhooks, type WebhookRoleOptions } from '@realtime/workers';
import type { Config } from '@realtime/core';
import { startReceiver, type Receiver } from './receiver.js';
import { cleanupConfig, testConfig } from './services.js';

export interface WebhookHarness {
  readonly config: Config;
  readonly app: App;
  readonly url: string;
  readonly receiver: Receiver;
}

/** Call inside a `describe`: the returned object's fields are set once `beforeAll` has run. */
export function useWebhookHarness(env: Record<string, string>, role: Omit<WebhookRoleOptions, 'log'> = {}): WebhookHarness {
  const config = testConfig({ REALTIME_WEBHOOK_ALLOW_PRIVATE: '1', ...env });
  const harness = { config } as { config: Config; app: App; url: string; receiver: Receiver };
  let worker: { stop(): Promise<void> } | undefined;

  beforeAll(async () => {
    harness.app = await buildApp({ config });
    harness.url = await harness.app.start();
    worker = await startWebhooks(harness.app.platform, { ...role, log: () => undefined });
    harness.receiver = await startReceiver();
  });

  afterAll(async () => {
    await worker?.stop();
    await harness.app?.stop();
    await harness.receiver?.close();
    await cleanupConfig(config);
  });

  return harness;
}
