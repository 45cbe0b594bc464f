/** The control plane and the publish path against real PostgreSQL and Redis, each run in its own database and prefix. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createApiKey,
  createApplication,
  createPlatform,
  createSession,
  ensureOwner,
  hashSecret,
  migrate,
  readHistoryBatch,
  registerTopic,
  resolveApiKey,
  resolveSession,
  revokeApiKey,
  topicKeys,
  type KeyPrincipal,
  type Platform,
} from '@realtime/core';
import { cleanupConfig, testConfig } from '../../test/support/services.js';

describe('platform (real PostgreSQL and Redis)', () => {
  const config = testConfig({ REALTIME_ADMIN_PASSWORD: '' });
  let platform: Platform;
  let generated: string | undefined;
  let key: KeyPrincipal;
  let secret: string;

  beforeAll(async () => {
    platform = await createPlatform({ config, onGeneratedPassword: (_email, password) => (generated = password) });
    const app = await createApplication(platform.pool, { name: 'Test' });
    const created = await createApiKey(platform.pool, { applicationId: app.id, environment: 'DEV', kind: 'SECRET' });
    secret = created.secret;
    key = (await resolveApiKey(platform.pool, secret))!;
    await registerTopic(platform.pool, {
      applicationId: app.id,
      environment: 'DEV',
      name: 'order.updated',
      schema: { type: 'object', properties: { status: { enum: ['NEW', 'PAID'] } }, required: ['status'] },
    });
  });

  afterAll(async () => {
    await platform?.close();
    await cleanupConfig(config);
  });

  describe('start', () => {
    it('should create the database, migrate it, and generate the first owner password once', async () => {
      expect(generated).toMatch(/^[A-Za-z0-9_-]{24}$/);
      expect(await migrate(platform.pool)).toEqual([]);
      expect(await ensureOwner(platform.pool, { email: 'x@y.z', password: undefined })).toEqual({ created: false, generatedPassword: undefined });
      const { rows } = await platform.pool.query<{ password_hash: string }>('SELECT password_hash FROM users');
      expect(rows).toHaveLength(1);
      expect(rows[0]!.password_hash).toMatch(/^scrypt\$/);
      expect(rows[0]!.password_hash).not.toContain(generated);
    });

    it('should fail fast naming the URL when PostgreSQL or Redis is unreachable', async () => {
      await expect(createPlatform({ config: { ...config, databaseUrl: 'postgres://postgres@127.0.0.1:1/realtime' } })).rejects.toThrow(
        /PostgreSQL is unreachable at postgres:\/\/postgres@127\.0\.0\.1:1\/realtime.*pg_ctlcluster/,
      );
      await expect(createPlatform({ config: { ...config, redisUrl: 'redis://127.0.0.1:1' } })).rejects.toThrow(
        /Redis is unreachable at redis:\/\/127\.0\.0\.1:1.*redis-server/,
      );
    });
  });

  describe('secrets at rest', () => {
    it('should store only the hash of API keys and sessions', async () => {
      const dump = JSON.stringify((await platform.pool.query('SELECT * FROM api_keys')).rows);
      expect(dump).not.toContain(secret);
      expect(dump).toContain(hashSecret(secret));
      const { rows } = await platform.pool.query<{ id: string }>('SELECT id FROM users');
      const sessionId = await createSession(platform.pool, rows[0]!.id, 60);
      expect(Buffer.from(sessionId, 'base64url')).toHaveLength(16);
      expect(JSON.stringify((await platform.pool.query('SELECT * FROM sessions')).rows)).not.toContain(sessionId);
      expect(await resolveSession(platform.pool, sessionId)).toMatchObject({ kind: 'user' });
    });

    it('should stop resolving a key once it is revoked', async () => {
      const extra = await createApiKey(platform.pool, { applicationId: key.applicationId, environment: 'DEV', kind: 'PUBLISHABLE' });
      expect(await resolveApiKey(platform.pool, extra.secret)).toMatchObject({ keyKind: 'PUBLISHABLE' });
      await revokeApiKey(platform.pool, extra.key.id);
      expect(await resolveApiKey(platform.pool, extra.secret)).toBeUndefined();
    });
  });

  describe('publish', () => {
    const keys = (): ReturnType<typeof topicKeys> => topicKeys(config.redisKeyPrefix, key, 'order.updated');

    it('should append the event to history and publish it in one step, with a cursor naming its entry', async () => {
      const event = await platform.publisher.publish(key, { topic: 'order.updated', data: { status: 'NEW' }, subject: 'o-1' });
      const [epoch, offset, position] = event.cursor.split('_');
      expect(await platform.redis.get(keys().offset)).toBe(offset);
      expect(await platform.redis.get(keys().epoch)).toBe(epoch);
      const entries = await platform.redis.xrange(keys().history, position!, position!);
      expect(entries).toHaveLength(1);
      const stored = JSON.parse(entries[0]![1][3]!) as Record<string, unknown>;
      expect(stored).toMatchObject({ id: event.id, topic: 'order.updated', subject: 'o-1', data: { status: 'NEW' }, schemaVersion: 1 });
      expect(stored).not.toHaveProperty('cursor');
      expect(entries[0]![1][0]).toBe('o');
      expect(entries[0]![1][1]).toBe(offset);
    });

    it('should read one subject’s history without decoding other subjects’ events, and report the whole read for resuming', async () => {
      const odd = 'ü "quoted" \\ o-7';
      const published = [];
      for (const subject of ['o-7', 'o-8', odd, null, 'o-7']) {
        published.push(await platform.publisher.publish(key, { topic: 'order.updated', data: { status: 'NEW' }, ...(subject ? { subject } : {}) }));
      }
      // An event of another subject whose data has a `subject` of the same value is decoded; the subscription's filter drops it.
      const lookalike = await platform.publisher.publish(key, { topic: 'order.updated', data: { status: 'NEW', subject: 'o-7' }, subject: 'o-9' });
      const after = published[0]!.cursor.split('_');
      const epoch = after[0]!;
      const position = after[2]!;
      const read = await readHistoryBatch(platform.redis, keys(), epoch, position, 100, 'o-7');
      expect(read.count).toBe(5); // every entry after the cursor was read…
      expect(read.events.map((e) => e.id)).toEqual([published[4]!.id, lookalike.id]); // …only these decoded
      expect(read.events[0]!.cursor).toBe(published[4]!.cursor);
      expect(read.first).toEqual({ position: published[1]!.cursor.split('_')[2], offset: Number(published[1]!.cursor.split('_')[1]) });
      expect(read.last).toBe(lookalike.cursor.split('_')[2]);
      const oddRead = await readHistoryBatch(platform.redis, keys(), epoch, position, 100, odd);
      expect(oddRead.events.map((e) => e.id)).toEqual([published[2]!.id]);
      expect((await readHistoryBatch(platform.redis, keys(), epoch, position, 100)).events).toHaveLength(5);
    });

    it('should keep events of one topic in publish order in history', async () => {
      const events = [];
      for (let i = 0; i < 20; i += 1) events.push(await platform.publisher.publish(key, { topic: 'order.updated', data: { status: 'PAID' } }));
      const positions = events.map((e) => e.cursor.split('_')[2]!);
      // Offsets count up by one with no holes.
      const offsets = events.map((e) => Number(e.cursor.split('_')[1]));
      expect(offsets).toEqual(offsets.map((_, i) => offsets[0]! + i));
      const sorted = [...positions].sort((x, y) => {
        const [xm, xs] = x.split('-').map(BigInt) as [bigint, bigint];
        const [ym, ys] = y.split('-').map(BigInt) as [bigint, bigint];
        return xm === ym ? Number(xs - ys) : Number(xm - ym);
      });
      expect(positions).toEqual(sorted);
    });

    it('should return the original event for a repeated idempotency key and publish nothing', async () => {
      const seen: string[] = [];
      const stop = await platform.subscriber.listen(keys().channel, (e) => seen.push(e.id));
      const before = await platform.redis.xlen(keys().history);
      const first = await platform.publisher.publish(key, { topic: 'order.updated', data: { status: 'NEW' }, idempotencyKey: 'order-7-created' });
      const repeat = await platform.publisher.publish(key, { topic: 'order.updated', data: { status: 'NEW' }, idempotencyKey: 'order-7-created' });
      expect(repeat).toEqual(first);
      expect(await platform.redis.xlen(keys().history)).toBe(before + 1);
      const other = await platform.publisher.publish(key, { topic: 'order.updated', data: { status: 'NEW' }, idempotencyKey: 'order-8-created' });
      expect(other.id).not.toBe(first.id);
      const deadline = Date.now() + 5_000;
      while (seen.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(seen).toEqual([first.id, other.id]);
      stop();
      const ttl = await platform.redis.ttl(`${config.redisKeyPrefix}:${key.applicationId}:DEV:idem:order.updated:order-7-created`);
      expect(ttl).toBeGreaterThan(290);
      expect(ttl).toBeLessThanOrEqual(300);
      await expect(platform.publisher.publish(key, { topic: 'order.updated', data: { status: 'NEW' }, idempotencyKey: 'has space' })).rejects.toThrow(/idempotencyKey/);
    });

    it('should refuse publishes past the per-key rate with RATE_LIMITED', async () => {
      const { createPublisher } = await import('@realtime/core');
      const limited = createPublisher({ redis: platform.redis, db: platform.pool, registry: platform.registry, keyPrefix: config.redisKeyPrefix, ratePerKey: 5 });
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, () => limited.publish(key, { topic: 'order.updated', data: { status: 'NEW' } })),
      );
      // 20 publishes within at most two one-second windows: at most 10 pass.
      const refused = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as { code: string; extensions: { retryAfterMs: number } });
      expect(refused.length).toBeGreaterThanOrEqual(10);
      for (const error of refused) {
        expect(error.code).toBe('RATE_LIMITED');
        expect(error.extensions.retryAfterMs).toBeGreaterThan(0);
        expect(error.extensions.retryAfterMs).toBeLessThanOrEqual(1000);
      }
    });

    it('should store nothing for a refused event', async () => {
      const before = await platform.redis.xlen(keys().history);
      await expect(platform.publisher.publish(key, { topic: 'order.updated', data: { status: 'LOST' } })).rejects.toThrow(/\/status/);
      await expect(platform.publisher.publish(key, { topic: 'order.gone', data: {} })).rejects.toThrow(/not registered/);
      await expect(
        platform.publisher.publish(key, { topic: 'order.updated', data: { status: 'NEW', pad: 'x'.repeat(config.maxPayloadBytes) } }),
      ).rejects.toThrow(/limit/);
      expect(await platform.redis.xlen(keys().history)).toBe(before);
    });
  });

  describe('platform producers', () => {
    it('should publish with a fixed id and source, and return the stored event when the same id repeats', async () => {
      const scope = { applicationId: key.applicationId, environment: key.environment };
      const keys = topicKeys(config.redisKeyPrefix, key, 'order.updated');
      const before = await platform.redis.xlen(keys.history);
      const first = await platform.publisher.publishSystem(scope, { topic: 'order.updated', data: { status: 'NEW' }, id: 'cdc-src-0-16B3-1', source: '/cdc/src' });
      const again = await platform.publisher.publishSystem(scope, { topic: 'order.updated', data: { status: 'NEW' }, id: 'cdc-src-0-16B3-1', source: '/cdc/src' });
      expect(first).toMatchObject({ id: 'cdc-src-0-16B3-1', source: '/cdc/src' });
      expect(again).toEqual(first);
      expect(await platform.redis.xlen(keys.history)).toBe(before + 1);
    });

    it('should register a platform topic on first use and refuse it to users', async () => {
      const { publishPlatformEvent } = await import('@realtime/core');
      const scope = { applicationId: key.applicationId, environment: key.environment };
      const event = await publishPlatformEvent(platform, scope, {
        topic: 'realtime.webhook.endpoint.disabled',
        subject: 'ep-1',
        data: { endpointId: 'ep-1', url: 'https://example.com/hook', reason: 'answered 410 Gone' },
      });
      expect(event).toMatchObject({ topic: 'realtime.webhook.endpoint.disabled', subject: 'ep-1', source: '/platform' });
      await expect(platform.publisher.publish(key, { topic: 'realtime.webhook.endpoint.disabled', data: { endpointId: 'x', url: 'x', reason: 'x' } })).rejects.toMatchObject({ code: 'FORBIDDEN' });
      await expect(
        registerTopic(platform.pool, { ...scope, name: 'realtime.mine', schema: { type: 'object' } }),
      ).rejects.toThrow(/reserved for platform events/);
    });
  });

  describe('registry', () => {
    it('should treat re-registering an identical schema as a no-op and another schema as a conflict', async () => {
      const schema = { type: 'object', properties: { status: { enum: ['NEW', 'PAID'] } }, required: ['status'] };
      const again = await registerTopic(platform.pool, { applicationId: key.applicationId, environment: 'DEV', name: 'order.updated', schema: { required: ['status'], properties: schema.properties, type: 'object' } });
      expect(again.created).toBe(false);
      await expect(
        registerTopic(platform.pool, { applicationId: key.applicationId, environment: 'DEV', name: 'order.updated', schema: { type: 'object' } }),
      ).rejects.toMatchObject({ code: 'CONFLICT' });
    });

    it('should refuse a topic whose field name another topic already takes', async () => {
      await expect(
        registerTopic(platform.pool, { applicationId: key.applicationId, environment: 'DEV', name: 'order_updated', schema: { type: 'object' } }),
      ).rejects.toThrow(/would take the GraphQL field "orderUpdated"/);
    });

    it('should see a new topic on another instance as soon as it is announced', async () => {
      const other = await createPlatform({ config, bootstrapOwner: false });
      try {
        const scope = { applicationId: key.applicationId, environment: key.environment };
        expect((await other.registry.get(scope)).byName.has('order.shipped')).toBe(false);
        await registerTopic(platform.pool, { ...scope, name: 'order.shipped', schema: { type: 'object' } });
        await platform.announce({ type: 'registry-changed', scope });
        const deadline = Date.now() + 5_000;
        while (!(await other.registry.get(scope)).byName.has('order.shipped')) {
          if (Date.now() > deadline) throw new Error('the other instance never saw the new topic');
          await new Promise((r) => setTimeout(r, 20));
        }
      } finally {
        await other.close();
      }
    });
  });
});
