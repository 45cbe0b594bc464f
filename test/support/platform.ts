/**
 * A platform (the API role) in this process, set up before a describe block's tests and removed after them,
 * with its own database and Redis prefix.
 */
import { afterAll, beforeAll } from 'vitest';
import { buildApp, type App } from '@realtime/server';
import type { Config } from '@realtime/core';
import { cleanupConfig, testConfig } from './services.js';

export interface PlatformHarness {
  readonly config: Config;
  readonly app: App;
  readonly url: string;
}

/** Call inside a `describe`: the returned object's fields are set once `beforeAll` has run. */
export function usePlatform(env: Record<string, string> = {}): PlatformHarness {
  const config = testConfig(env);
  const harness = { config } as { config: Config; app: App; url: string };

  beforeAll(async () => {
    harness.app = await buildApp({ config });
    harness.url = await harness.app.start();
  });

  afterAll(async () => {
    await harness.app?.stop();
    await cleanupConfig(config);
  });

  return harness;
}
