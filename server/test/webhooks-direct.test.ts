/**
 * First attempts sent by the dispatcher itself: the real server, the real webhooks role (in this process),
 * real BullMQ and a real local receiver. A delivery whose first attempt succeeds never becomes a job; only
 * retries are queued, numbered after that first attempt; a hanging endpoint does not hold another tenant's
 * deliveries; and a slow attempt's history entry is not taken over by a second dispatcher meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { buildApp, type App } from '@realtime/server';
import { startWebhooks } from '@realtime/workers';
import { WEBHOOK_QUEUE, deliveryIdFor, webhookJobId, webhookQueueOf, webhookQueuePrefix, type Config } from '@realtime/core';
import { gql } from '../../test/support/clients.js';
import { ownerWithApplication } from '../../test/support/fixtures.js';
import { startReceiver, type Receiver } from '../../test/support/receiver.js';
import { cleanupConfig, eventually, testConfig } from '../../test/support/services.js';
import { useWebhookHarness } from '../../test/support/webhooks.js';

type Owner = Awaited<ReturnType<typeof ownerWithApplication>>;

async function setUpTopicAndEndpoint(url: string, owner: Owner, topic: string, endpointUrl: string): Promise<string> {
  const registered = await gql(
    url,
    `mutation($app: ID!, $name: String!) { registerTopic(input: { applicationId: $app, environment: DEV, name: $name, schema: { type: "object", properties: { n: { type: "integer" } }, required: ["n"] } }) { id } }`,
    { app: owner.app, name: topic },
    { cookie: owner.cookie },
  );
  expect(registered.errors).toBeUndefined();
  const created = await gql<{ createWebhookEndpoint: { endpoint: { id: string } } }>(
    url,
    `mutation($app: ID!, $url: String!, $topic: String!) { createWebhookEndpoint(input: { applicationId: $app, environment: DEV, url: $url, topics: [$topic] }) { endpoint { id } } }`,
    { app: owner.app, url: endpointUrl, topic },
    { cookie: owner.cookie },
  );
  if (!created.data) throw new Error(JSON.stringify(created.errors));
  return created.data.createWebhookEndpoint.endpoint.id;
}

async function publish(url: string, owner: Owner, topic: string, n: number): Promise<string> {
  const response = await gql<{ publish: { event: { id: string } } }>(
    url,
    `mutation($topic: String!, $n: Int!) { publish(input: { topic: $topic, data: { n: $n } }) { event { id } } }`,
    { topic, n },
    { key: owner.sk },
  );
  if (!response.data) throw new Error(JSON.stringify(response.errors));
  return response.data.publish.event.id;
}

interface DeliveryRow {
  status: string;
  attempts: number;
}

async function deliveryRow(app: App, id: string): Promise<DeliveryRow | undefined> {
  const { rows } = await app.platform.pool.query<DeliveryRow>('SELECT status, attempts FROM webhook_deliveries WHERE id = $1', [id]);
  return rows[0];
}

/** Every job id BullMQ reports added to the webhook queue while the listener runs. */
async function watchJobs(config: Config): Promise<{ added: Set<string>; close(): Promise<void> }> {
  const connection = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  const events = new QueueEvents(WEBHOOK_QUEUE, { connection, prefix: webhookQueuePrefix(config) });
  const added = new Set<string>();
  events.on('added', ({ jobId }) => added.add(jobId));
  await events.waitUntilReady();
  return {
    added,
    async close() {
      await events.close();
      connection.disconnect();
    },
  };
}

/** Call inside a `describe` after its harness: the job ids added while its tests run (`added` is set by `beforeAll`). */
function useJobWatcher(harness: { readonly config: Config }): { added: Set<string> } {
  const watcher = { added: new Set<string>() };
  let jobs: Awaited<ReturnType<typeof watchJobs>> | undefined;
  beforeAll(async () => {
    jobs = await watchJobs(harness.config);
    watcher.added = jobs.added;
  });
  afterAll(async () => {
    await jobs?.close();
  });
  return watcher;
}

describe('webhooks: first attempts from the dispatcher', () => {
  const harness = useWebhookHarness({ REALTIME_WEBHOOK_RETRY_SCHEDULE: '0s,1s,1s' });
  let app: App;
  let url: string;
  let receiver: Receiver;
  let jobs: Awaited<ReturnType<typeof watchJobs>>;
  let owner: Owner;

  beforeAll(async () => {
    ({ app, url, receiver } = harness);
    jobs = await watchJobs(harness.config);
    owner = await ownerWithApplication(url, 'Direct');
  });

  afterAll(async () => {
    await jobs?.close();
  });

  it('should deliver without a BullMQ job when the first attempt succeeds', async () => {
    const endpointId = await setUpTopicAndEndpoint(url, owner, 'parcel.sent', `${receiver.url}/direct-ok`);
    const ids: string[] = [];
    for (let n = 0; n < 5; n += 1) ids.push(await publish(url, owner, 'parcel.sent', n));
    for (const eventId of ids) {
      const id = deliveryIdFor(endpointId, eventId, 'live');
      await eventually(async () => (await deliveryRow(app, id))?.status === 'SUCCEEDED', 10_000, 'delivered');
      expect(await deliveryRow(app, id)).toEqual({ status: 'SUCCEEDED', attempts: 1 });
      expect(jobs.added.has(webhookJobId(id, 0))).toBe(false);
    }
    // The row written with the first attempt holds the event as published, with its cursor.
    const published = await gql<{ publish: { event: { id: string; cursor: string } } }>(
      url,
      `mutation { publish(input: { topic: "parcel.sent", data: { n: 99 } }) { event { id cursor } } }`,
      {},
      { key: owner.sk },
    );
    const sent = published.data?.publish.event;
    if (!sent) throw new Error(JSON.stringify(published.errors));
    ids.push(sent.id);
    const sentId = deliveryIdFor(endpointId, sent.id, 'live');
    await eventually(async () => (await deliveryRow(app, sentId))?.status === 'SUCCEEDED', 10_000, 'delivered');
    const { rows } = await app.platform.pool.query<{ event: Record<string, unknown> }>('SELECT event FROM webhook_deliveries WHERE id = $1', [sentId]);
    expect(rows[0]?.event).toMatchObject({ id: sent.id, topic: 'parcel.sent', cursor: sent.cursor, data: { n: 99 } });
    // Each exactly once; in any order (an unordered endpoint's first attempts of one batch go out together).
    expect(receiver.on('/direct-ok').map((r) => r.headers['webhook-id']).sort()).toEqual([...ids].sort());
    // The watch does see jobs: a redelivery is one (a new generation, sent by the BullMQ worker).
    const first = deliveryIdFor(endpointId, ids[0] as string, 'live');
    const redelivered = await gql(url, `mutation($id: ID!) { redeliver(deliveryId: $id) { id } }`, { id: first }, { cookie: owner.cookie });
    expect(redelivered.errors).toBeUndefined();
    await eventually(() => jobs.added.has(webhookJobId(first, 1)), 5_000, 'the redelivery job seen');
    await eventually(() => receiver.on('/direct-ok').length === 7, 5_000, 'the redelivery sent');
  });

  it('should queue only the retry of a failed first attempt, counting that attempt against the schedule', async () => {
    receiver.reply('/direct-retry', (n) => ({ status: n < 2 ? 500 : 204 }));
    const endpointId = await setUpTopicAndEndpoint(url, owner, 'parcel.lost', `${receiver.url}/direct-retry`);
    const eventId = await publish(url, owner, 'parcel.lost', 1);
    const id = deliveryIdFor(endpointId, eventId, 'live');
    // The retry waits the schedule's second delay (1 s) as a delayed job that knows one attempt was made.
    const job = await eventually(() => webhookQueueOf(app.platform).getJob(webhookJobId(id, 0)), 5_000, 'the retry job');
    expect(job.data.attemptsBefore).toBe(1);
    expect(job.opts.attempts).toBe(2);
    await eventually(async () => (await deliveryRow(app, id))?.status === 'SUCCEEDED', 15_000, 'delivered on the third attempt');
    expect(await deliveryRow(app, id)).toEqual({ status: 'SUCCEEDED', attempts: 3 });
    expect(receiver.on('/direct-retry')).toHaveLength(3);
  });

  it('should dead-letter after as many attempts as the schedule has, the first one direct', async () => {
    receiver.reply('/direct-dead', { status: 500 });
    const endpointId = await setUpTopicAndEndpoint(url, owner, 'parcel.burnt', `${receiver.url}/direct-dead`);
    const id = deliveryIdFor(endpointId, await publish(url, owner, 'parcel.burnt', 1), 'live');
    await eventually(async () => (await deliveryRow(app, id))?.status === 'DEAD', 15_000, 'dead-lettered');
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // no fourth attempt comes
    expect(await deliveryRow(app, id)).toEqual({ status: 'DEAD', attempts: 3 });
    expect(receiver.on('/direct-dead')).toHaveLength(3);
  });
});

describe('webhooks: a hanging endpoint and other tenants', () => {
  // Four first attempts per endpoint at most (half of the concurrency); attempts give up after 3 s.
  const harness = useWebhookHarness({ REALTIME_WEBHOOK_CONCURRENCY: '8', REALTIME_WEBHOOK_TIMEOUT_MS: '3000', REALTIME_WEBHOOK_RETRY_SCHEDULE: '0s,30s' });

  it("should deliver another application's event while every attempt to a hanging endpoint is still open", async () => {
    const { app, url, receiver } = harness;
    receiver.reply('/hangs', { status: 204, delayMs: 60_000 });
    const stuck = await ownerWithApplication(url, 'Stuck');
    const healthy = await ownerWithApplication(url, 'Healthy');
    const stuckEndpoint = await setUpTopicAndEndpoint(url, stuck, 'feed.tick', `${receiver.url}/hangs`);
    await setUpTopicAndEndpoint(url, healthy, 'feed.tick', `${receiver.url}/fine`);
    // One at a time first, so each of the endpoint's four direct attempts holds a history batch of its own
    // unacknowledged; then more than its slots and the worker's concurrency together.
    for (let n = 0; n < 4; n += 1) {
      await publish(url, stuck, 'feed.tick', n);
      await eventually(() => receiver.on('/hangs').length === n + 1, 10_000, 'the attempt under way');
    }
    for (let n = 4; n < 20; n += 1) await publish(url, stuck, 'feed.tick', n);
    const eventId = await publish(url, healthy, 'feed.tick', 1);

    const arrived = await eventually(() => receiver.on('/fine')[0], 10_000, "the other application's event");
    expect(arrived.headers['webhook-id']).toBe(eventId);
    // Not one attempt at the hanging endpoint has ended (each waits for its 3 s timeout).
    const { rows } = await app.platform.pool.query<{ n: string }>('SELECT count(*) AS n FROM webhook_attempts WHERE endpoint_id = $1', [stuckEndpoint]);
    expect(Number(rows[0]?.n)).toBe(0);
    // Every attempt still ends: timed out, recorded, the retry scheduled (a direct attempt's delivery row is
    // written with its outcome, so all 20 rows must be there, each FAILED).
    await eventually(async () => {
      const { rows: counts } = await app.platform.pool.query<{ failed: string; all: string }>(
        `SELECT count(*) FILTER (WHERE status = 'FAILED') AS failed, count(*) AS all FROM webhook_deliveries WHERE endpoint_id = $1`,
        [stuckEndpoint],
      );
      return Number(counts[0]?.failed) === 20 && Number(counts[0]?.all) === 20;
    }, 20_000, 'every attempt at the hanging endpoint timed out and recorded');
    const { rows: attempts } = await app.platform.pool.query<{ error: string }>('SELECT DISTINCT error FROM webhook_attempts WHERE endpoint_id = $1', [stuckEndpoint]);
    expect(attempts).toEqual([{ error: 'timed out after 3000 ms' }]);
  });
});

describe('webhooks: queued deliveries and endpoints that hang', () => {
  // Every delivery through the BullMQ worker (no first attempts from the dispatcher), four slots, 3 s timeouts.
  const harness = useWebhookHarness(
    { REALTIME_WEBHOOK_CONCURRENCY: '4', REALTIME_WEBHOOK_TIMEOUT_MS: '3000', REALTIME_WEBHOOK_RETRY_SCHEDULE: '0s,60s' },
    { directFirstAttempts: false },
  );

  it("should deliver another application's queued event while the queue still holds two hanging endpoints' deliveries", async () => {
    const { app, url, receiver } = harness;
    receiver.reply('/hangs-a', { status: 204, delayMs: 60_000 });
    receiver.reply('/hangs-b', { status: 204, delayMs: 60_000 });
    const a = await ownerWithApplication(url, 'Stuck A');
    const b = await ownerWithApplication(url, 'Stuck B');
    const healthy = await ownerWithApplication(url, 'Healthy');
    const stuck = [
      await setUpTopicAndEndpoint(url, a, 'feed.tick', `${receiver.url}/hangs-a`),
      await setUpTopicAndEndpoint(url, b, 'feed.tick', `${receiver.url}/hangs-b`),
    ];
    await setUpTopicAndEndpoint(url, healthy, 'feed.tick', `${receiver.url}/fine`);
    const failedDeliveries = async (): Promise<number> => {
      const { rows } = await app.platform.pool.query<{ failed: string }>(
        `SELECT count(*) FILTER (WHERE status = 'FAILED') AS failed FROM webhook_deliveries WHERE endpoint_id = ANY($1)`,
        [stuck],
      );
      return Number(rows[0]?.failed);
    };
    // One delivery each first, until both have timed out: from then on the worker knows both endpoints hang.
    // (An endpoint not known to be slow yet may take any free slot, for one timeout: a limit of the rule.)
    await publish(url, a, 'feed.tick', 0);
    await publish(url, b, 'feed.tick', 0);
    await eventually(async () => (await failedDeliveries()) === 2, 20_000, 'the first attempt to each hanging endpoint timed out');
    // Then ten more, queued before the healthy one: without shares, the worker's four slots take these ten in
    // order, four at a time, each for its whole 3 s timeout.
    for (let n = 1; n < 6; n += 1) {
      await publish(url, a, 'feed.tick', n);
      await publish(url, b, 'feed.tick', n);
    }
    const eventId = await publish(url, healthy, 'feed.tick', 1);

    const arrived = await eventually(() => receiver.on('/fine')[0], 30_000, "the other application's event");
    expect(arrived.headers['webhook-id']).toBe(eventId);
    // It did not wait for the hanging endpoints' queue to drain: three slots hold their attempts, the last one is
    // kept from them, so it went at once, with most of their twelve still to come.
    const attempted = receiver.on('/hangs-a').length + receiver.on('/hangs-b').length;
    expect(attempted).toBeLessThan(12);
    // And nothing was lost: put back, not dropped, every one of them is attempted in the end and recorded as failed.
    await eventually(async () => (await failedDeliveries()) === 12, 60_000, 'every delivery to the hanging endpoints attempted and recorded');
    const { rows: attempts } = await app.platform.pool.query<{ n: string }>('SELECT count(*) AS n FROM webhook_attempts WHERE endpoint_id = ANY($1)', [stuck]);
    expect(Number(attempts[0]?.n)).toBe(12); // one attempt each: a job put back is not an attempt
  }, 90_000);
});

describe('webhooks: a slow first attempt and a second dispatcher', () => {
  const config = testConfig({ REALTIME_WEBHOOK_ALLOW_PRIVATE: '1' });
  let app: App;
  let url: string;
  let receiver: Receiver;
  const workers: { stop(): Promise<void> }[] = [];

  beforeAll(async () => {
    app = await buildApp({ config });
    url = await app.start();
    receiver = await startReceiver();
  });

  afterAll(async () => {
    for (const worker of workers) await worker.stop();
    await app?.stop();
    await receiver?.close();
    await cleanupConfig(config);
  });

  it('should not let another dispatcher take over the entry of an attempt still in flight', async () => {
    // Each answer takes five times as long as an entry may stay idle before a dispatcher takes it over.
    receiver.reply('/slow', { status: 204, delayMs: 1_500 });
    const owner = await ownerWithApplication(url, 'Slow');
    const endpointId = await setUpTopicAndEndpoint(url, owner, 'scan.done', `${receiver.url}/slow`);
    const tuning = { claimIdleMs: 300, claimIntervalMs: 100 };
    workers.push(await startWebhooks(app.platform, { log: () => undefined, dispatcher: tuning }));
    workers.push(await startWebhooks(app.platform, { log: () => undefined, dispatcher: tuning }));
    const ids: string[] = [];
    for (let n = 0; n < 6; n += 1) ids.push(await publish(url, owner, 'scan.done', n));
    for (const eventId of ids) {
      const id = deliveryIdFor(endpointId, eventId, 'live');
      await eventually(async () => (await deliveryRow(app, id))?.status === 'SUCCEEDED', 15_000, 'delivered');
    }
    await new Promise((resolve) => setTimeout(resolve, 2_000)); // a duplicate would arrive by now
    expect(receiver.on('/slow').map((r) => String(r.headers['webhook-id'])).sort()).toEqual([...ids].sort());
    const stream = `${config.redisKeyPrefix}:${owner.app}:DEV:h:scan.done`;
    await eventually(async () => ((await app.platform.redis.xpending(stream, 'webhooks')) as [number])[0] === 0, 5_000, 'every entry acknowledged');
  });
});

describe('webhooks: direct first attempts as configured', () => {
  describe('REALTIME_WEBHOOK_DIRECT=0', () => {
    const harness = useWebhookHarness({ REALTIME_WEBHOOK_RETRY_SCHEDULE: '0s,1s', REALTIME_WEBHOOK_DIRECT: '0' });
    const jobs = useJobWatcher(harness);

    it('should queue every first attempt as a BullMQ job', async () => {
      const owner = await ownerWithApplication(harness.url, 'Queued');
      const endpointId = await setUpTopicAndEndpoint(harness.url, owner, 'parcel.queued', `${harness.receiver.url}/queued`);
      const eventId = await publish(harness.url, owner, 'parcel.queued', 1);
      const id = deliveryIdFor(endpointId, eventId, 'live');
      await eventually(async () => (await deliveryRow(harness.app, id))?.status === 'SUCCEEDED', 10_000, 'delivered');
      expect(jobs.added.has(webhookJobId(id, 0))).toBe(true);
      expect(harness.receiver.on('/queued')).toHaveLength(1);
    });
  });

  describe('REALTIME_WEBHOOK_DIRECT_PER_ENDPOINT=2', () => {
    const harness = useWebhookHarness({ REALTIME_WEBHOOK_RETRY_SCHEDULE: '0s,1s', REALTIME_WEBHOOK_DIRECT_PER_ENDPOINT: '2' });
    const jobs = useJobWatcher(harness);

    it('should send at most two first attempts to one endpoint at once and queue the rest', async () => {
      const owner = await ownerWithApplication(harness.url, 'Shared');
      harness.receiver.reply('/busy-endpoint', { status: 200, delayMs: 900 });
      const endpointId = await setUpTopicAndEndpoint(harness.url, owner, 'parcel.busy', `${harness.receiver.url}/busy-endpoint`);
      const eventIds = await Promise.all(Array.from({ length: 6 }, (_, n) => publish(harness.url, owner, 'parcel.busy', n)));
      const ids = eventIds.map((eventId) => deliveryIdFor(endpointId, eventId, 'live'));
      for (const id of ids) await eventually(async () => (await deliveryRow(harness.app, id))?.status === 'SUCCEEDED', 15_000, 'delivered');
      // Two went out directly while each took 900 ms; the four that found no slot became jobs.
      expect(ids.filter((id) => jobs.added.has(webhookJobId(id, 0)))).toHaveLength(4);
      expect(harness.receiver.on('/busy-endpoint')).toHaveLength(6);
    });
  });
});
