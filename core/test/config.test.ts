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
      adminPassword: undefined,
    });
  });

  it('should refuse malformed numbers and prefixes, naming the variable', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ REALTIME_MAX_PAYLOAD_BYTES: '0' })).toThrow(/REALTIME_MAX_PAYLOAD_BYTES/);
    expect(() => loadConfig({ REALTIME_REDIS_PREFIX: 'a:b' })).toThrow(/REALTIME_REDIS_PREFIX/);
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
  });
});
