import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@realtime/core';

describe('configuration', () => {
  it('should default to the documented values', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 4000,
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/realtime',
      redisUrl: 'redis://127.0.0.1:6379',
      redisKeyPrefix: 'rt',
      maxPayloadBytes: 262144,
      maxSubscriptionsPerConnection: 100,
      maxWsMessageBytes: 65536,
      listenBacklog: 4096,
      operationCacheSize: 4096,
      maxQueryTokens: 2000,
      adminPassword: undefined,
    });
  });

  it('should refuse malformed numbers and prefixes, naming the variable', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ REALTIME_MAX_PAYLOAD_BYTES: '0' })).toThrow(/REALTIME_MAX_PAYLOAD_BYTES/);
    expect(() => loadConfig({ REALTIME_REDIS_PREFIX: 'a:b' })).toThrow(/REALTIME_REDIS_PREFIX/);
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
    expect(() => loadConfig({ REALTIME_LISTEN_BACKLOG: '0' })).toThrow(/REALTIME_LISTEN_BACKLOG/);
  });

  it('should send first attempts directly, at most half the webhook slots to one endpoint, unless told otherwise', () => {
    expect(loadConfig({}).webhooks).toMatchObject({ concurrency: 50, directFirstAttempts: true, directPerEndpoint: 25 });
    expect(loadConfig({ REALTIME_WEBHOOK_CONCURRENCY: '7' }).webhooks.directPerEndpoint).toBe(4);
    expect(loadConfig({ REALTIME_WEBHOOK_DIRECT: '0', REALTIME_WEBHOOK_DIRECT_PER_ENDPOINT: '10' }).webhooks).toMatchObject({ directFirstAttempts: false, directPerEndpoint: 10 });
    expect(() => loadConfig({ REALTIME_WEBHOOK_DIRECT: 'maybe' })).toThrow(/REALTIME_WEBHOOK_DIRECT must be 1 or 0/);
    expect(() => loadConfig({ REALTIME_WEBHOOK_DIRECT_PER_ENDPOINT: '60' })).toThrow(/REALTIME_WEBHOOK_DIRECT_PER_ENDPOINT must be at most REALTIME_WEBHOOK_CONCURRENCY \(50\)/);
    expect(() => loadConfig({ REALTIME_WEBHOOK_DIRECT_PER_ENDPOINT: '0' })).toThrow(/REALTIME_WEBHOOK_DIRECT_PER_ENDPOINT/);
  });
});
