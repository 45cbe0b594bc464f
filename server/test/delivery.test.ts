/** Delivery guarantees over real sockets: resume without gap or duplicate, and explicit gap signals. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { buildApp, type App } from '@realtime/server';
import { connectWs, gql, subscribe, type WsConnection } from '../../test/support/clients.js';
import { ownerWithApplication } from '../../test/support/fixtures.js';
import { cleanupConfig, eventually, startPrivateRedis, testConfig, type PrivateRedis } from '../../test/support/services.js';

interface Setup {
  cookie: string;
  app: string;
  pk: string;
  sk: string;
}

async function setUp(url: string, retention?: { maxEvents: number }): Promise<Setup> {
  const owner = await ownerWithApplication(url, 'D');
  const registered = await gql(url, `mutation($app: ID!, $retention: RetentionInput) { registerTopic(input: { applicationId: $app, environment: DEV, name: "tick", retention: $retention, schema: { type: "object", properties: { n: { type: "integer" } }, required: ["n"] } }) { id } }`, { app: owner.app, retention }, { cookie: owner.cookie });
  expect(registered.errors).toBeUndefined();
  return owner;
}

const publish = async (url: string, sk: string, n: number): Promise<{ id: string; cursor: string }> => {
  const response = await gql<{ publish: { event: { id: string; cursor: string } } }>(url, `mutation($n: Int!) { publish(input: { topic: "tick", data: { n: $n } }) { event { id cursor } } }`, { n }, { key: sk });
  if (!response.data) throw new Error(JSON.stringify(response.errors));
  return response.data.publish.event;
};

type Tick = { tick: { id: string; cursor: string; data: { n: number } } };
const TICKS = `subscription($after: String) { tick(after: $after) { id cursor data { n } } }`;

describe('resume', () => {
  const config = testConfig();
  let app: App;
  let url: string;
  let ctx: Setup;
  const sockets: WsConnection[] = [];

  beforeAll(async () => {
    app = await buildApp({ config });
    url = await app.start();
    ctx = await setUp(url);
  });

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await app?.stop();
    await cleanupConfig(config);
  });

  it('should deliver every event missed during a 1,000-event burst exactly once, in order, with more published during the resume', async () => {
    const first = connectWs(url, { apiKey: ctx.pk });
    sockets.push(first);
    const live = subscribe<Tick>(first, TICKS);
    await eventually(() => app.platform.subscriber.listenerCount() === 1, 10_000, 'subscription');

    let published = 0;
    const burst = (async () => {
      for (let n = 0; n < 1_300; n += 1) {
        await publish(url, ctx.sk, n);
        published += 1;
      }
    })();

    // Disconnect mid-burst.
    await live.waitFor(100);
    await first.dispose();
    const before = live.results.map((r) => r.data!.tick);
    const lastCursor = before[before.length - 1]!.cursor;

    // Resume while the burst goes on (at least 1,000 published by now, more to come).
    await eventually(() => published >= 1_000, 60_000, 'a thousand published');
    expect(published).toBeLessThan(1_300);
    const second = connectWs(url, { apiKey: ctx.pk });
    sockets.push(second);
    const resumed = subscribe<Tick>(second, TICKS, { after: lastCursor });
    await burst;
    await eventually(() => before.length + resumed.results.length >= 1_300, 30_000, 'every event after the resume');
    await new Promise((r) => setTimeout(r, 200)); // nothing more (no duplicates) may arrive
    const after = resumed.results.map((r) => {
      expect(r.errors).toBeUndefined();
      return r.data!.tick;
    });

    // The truth is the topic's history order.
    const redis = new Redis(config.redisUrl);
    const history = await redis.xrange(`${config.redisKeyPrefix}:${ctx.app}:DEV:h:tick`, '-', '+');
    redis.disconnect();
    const historyIds = history.map(([, fields]) => (JSON.parse(fields[3]!) as { id: string }).id);
    expect(historyIds).toHaveLength(1_300);
    const received = [...before, ...after].map((e) => e.id);
    expect(received).toEqual(historyIds);
    expect(new Set(received).size).toBe(1_300);
    await second.dispose();
  });

  it('should deliver only events matching a typed where filter, evaluated on the server', async () => {
    const socket = connectWs(url, { apiKey: ctx.pk });
    sockets.push(socket);
    const filtered = subscribe<Tick>(socket, `subscription { tick(where: { or: [{ n: { gte: 5000, lt: 5003 } }, { n: { in: [5007] } }] }) { data { n } } }`);
    const everything = subscribe<Tick>(socket, `subscription { tick { data { n } } }`);
    await eventually(() => app.platform.subscriber.listenerCount() === 2, 10_000, 'subscriptions');
    for (let n = 4_998; n < 5_010; n += 1) await publish(url, ctx.sk, n);
    await everything.waitFor(12);
    await filtered.waitFor(4);
    expect(filtered.results.map((r) => r.data!.tick.data.n)).toEqual([5_000, 5_001, 5_002, 5_007]);
    const invalid = subscribe(socket, `subscription { tick(where: { n: { gte: "many" } }) { id } }`);
    const ended = (await invalid.ended) as { error: { extensions?: { code?: string } }[] };
    expect(ended.error[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    filtered.stop();
    everything.stop();
  });

  it('should deliver a subject-filtered subscription exactly its subject’s events, live and when resuming', async () => {
    // The previous test's subscriptions may still be ending: readiness below counts listeners.
    await eventually(() => app.platform.subscriber.listenerCount() === 0, 10_000, 'earlier subscriptions released');
    const socket = connectWs(url, { apiKey: ctx.pk });
    sockets.push(socket);
    const send = async (n: number, subject: string): Promise<{ cursor: string }> => {
      const response = await gql<{ publish: { event: { cursor: string } } }>(url, `mutation($n: Int!, $s: String!) { publish(input: { topic: "tick", subject: $s, data: { n: $n } }) { event { cursor } } }`, { n, s: subject }, { key: ctx.sk });
      if (!response.data) throw new Error(JSON.stringify(response.errors));
      return response.data.publish.event;
    };
    const QUERY = `subscription($s: String!, $after: String) { tick(where: { subject: { eq: $s } }, after: $after) { subject data { n } } }`;
    type SubjectTick = { tick: { subject: string; data: { n: number } } };
    const alice = subscribe<SubjectTick>(socket, QUERY, { s: 'alice' });
    const bobAndLarge = subscribe<SubjectTick>(socket, `subscription { tick(where: { subject: { eq: "bob" }, n: { gte: 10 } }) { subject data { n } } }`);
    await eventually(() => app.platform.subscriber.listenerCount() === 2, 10_000, 'subscriptions');
    const mark = await send(1, 'alice');
    for (const [n, subject] of [[2, 'bob'], [11, 'bob'], [3, 'alice'], [12, 'carol']] as const) await send(n, subject);
    await alice.waitFor(2);
    await bobAndLarge.waitFor(1);
    // Resuming after alice's first event: history is filtered too, then live events are routed by subject.
    const resumed = subscribe<SubjectTick>(socket, QUERY, { s: 'alice', after: mark.cursor });
    await resumed.waitFor(1);
    await send(4, 'alice');
    await send(13, 'bob');
    await resumed.waitFor(2);
    await alice.waitFor(3);
    await bobAndLarge.waitFor(2);
    await new Promise((r) => setTimeout(r, 200)); // nothing else may arrive
    expect(alice.results.map((r) => r.data!.tick.data.n)).toEqual([1, 3, 4]);
    expect(resumed.results.map((r) => r.data!.tick.data.n)).toEqual([3, 4]);
    expect(bobAndLarge.results.map((r) => [r.data!.tick.subject, r.data!.tick.data.n])).toEqual([['bob', 11], ['bob', 13]]);
    alice.stop();
    bobAndLarge.stop();
    resumed.stop();
  });

  it('should refuse an after that is not a cursor', async () => {
    const socket = connectWs(url, { apiKey: ctx.pk });
    sockets.push(socket);
    const bad = subscribe(socket, TICKS, { after: 'yesterday' });
    await bad.waitFor(1);
    expect(bad.results[0]?.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('should deliver events that reach the server together whole and in history order, several subscriptions per socket', async () => {
    await eventually(() => app.platform.subscriber.listenerCount() === 0, 10_000, 'earlier subscriptions released');
    const one = connectWs(url, { apiKey: ctx.pk });
    const two = connectWs(url, { apiKey: ctx.pk });
    sockets.push(one, two);
    type Bare = { tick: { id: string; data: { n: number } } };
    const subscriptions = [
      subscribe<Tick>(one, TICKS),
      subscribe<Bare>(one, `subscription { tick { id data { n } } }`), // another result, on the same socket
      subscribe<Tick>(two, TICKS),
    ];
    await eventually(() => app.platform.subscriber.listenerCount() === 3, 10_000, 'subscriptions');
    // Counted to show the burst did arrive in batches (written per socket at once), not one event at a time.
    let batches = 0;
    const stopCounting = app.platform.subscriber.onBatch({ begin: () => (batches += 1), end: () => undefined });
    const total = 400;
    for (let from = 0; from < total; from += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, i) => publish(url, ctx.sk, 10_000 + from + i)));
    }
    for (const subscription of subscriptions) await subscription.waitFor(total, 30_000);
    stopCounting();
    expect(batches).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 200)); // nothing more (no duplicates) may arrive

    const redis = new Redis(config.redisUrl);
    const history = await redis.xrange(`${config.redisKeyPrefix}:${ctx.app}:DEV:h:tick`, '-', '+');
    redis.disconnect();
    const historyIds = history.map(([, fields]) => (JSON.parse(fields[3]!) as { id: string; data: { n: number } })).filter((e) => e.data.n >= 10_000);
    expect(historyIds).toHaveLength(total);
    for (const subscription of subscriptions) {
      const received = subscription.results.map((r) => {
        expect(r.errors).toBeUndefined();
        return (r.data as Bare).tick;
      });
      expect(received.map((e) => e.id)).toEqual(historyIds.map((e) => e.id));
      expect(received.map((e) => e.data.n)).toEqual(historyIds.map((e) => e.data.n));
      subscription.stop();
    }
  });
});

describe('history gaps', () => {
  let redisServer: PrivateRedis;
  let config: ReturnType<typeof testConfig>;
  let app: App;
  let url: string;
  let ctx: Setup;
  const sockets: WsConnection[] = [];

  beforeAll(async () => {
    redisServer = await startPrivateRedis();
    config = testConfig({ REDIS_URL: redisServer.url });
    app = await buildApp({ config });
    url = await app.start();
    ctx = await setUp(url, { maxEvents: 10 });
  });

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await app?.stop();
    await redisServer?.stop();
    await cleanupConfig({ ...config, redisUrl: 'redis://127.0.0.1:6379' });
  });

  it('should signal HISTORY_GAP for a cursor older than the kept history, then continue from the oldest kept event', async () => {
    const firstEvent = await publish(url, ctx.sk, 0);
    for (let n = 1; n < 400; n += 1) await publish(url, ctx.sk, n);
    const socket = connectWs(url, { apiKey: ctx.pk });
    sockets.push(socket);
    const sub = subscribe<Tick>(socket, TICKS, { after: firstEvent.cursor });
    await sub.waitFor(2);
    const gap = sub.results[0]!.errors?.[0];
    expect(gap?.extensions).toMatchObject({ code: 'HISTORY_GAP', reason: 'TRIMMED', requestedCursor: firstEvent.cursor });
    const oldest = gap?.extensions?.oldestCursor as string;
    expect(sub.results[1]!.data!.tick.cursor).toBe(oldest);
    expect(sub.results[1]!.data!.tick.data.n).toBeGreaterThan(1);
    // Then everything from the oldest kept event on, in order, up to the newest.
    await eventually(() => sub.results.at(-1)?.data?.tick.data.n === 399, 10_000, 'the rest of the history');
    const ns = sub.results.slice(1).map((r) => r.data!.tick.data.n);
    expect(ns).toEqual(Array.from({ length: ns.length }, (_, i) => ns[0]! + i));
  });

  it('should signal HISTORY_GAP after a Redis FLUSHALL, then deliver live events', async () => {
    const before = await publish(url, ctx.sk, 1_000);
    const redis = new Redis(redisServer.url);
    await redis.flushall();
    redis.disconnect();
    const socket = connectWs(url, { apiKey: ctx.pk });
    sockets.push(socket);
    const sub = subscribe<Tick>(socket, TICKS, { after: before.cursor });
    await sub.waitFor(1);
    expect(sub.results[0]!.errors?.[0]?.extensions).toMatchObject({ code: 'HISTORY_GAP', reason: 'LOST', oldestCursor: null });
    await eventually(() => app.platform.subscriber.listenerCount() >= 1, 10_000, 'listening');
    const next = await publish(url, ctx.sk, 1_001);
    expect(next.cursor.split('_')[0]).not.toBe(before.cursor.split('_')[0]); // a new epoch
    await sub.waitFor(2);
    expect(sub.results[1]!.data!.tick).toMatchObject({ id: next.id, data: { n: 1_001 } });
  });
});
