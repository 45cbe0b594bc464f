/**
 * Webhooks end to end: the real server, the real webhooks role and a real local HTTP receiver. Deliveries are
 * verified with the public `standardwebhooks` package, as a receiver would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { buildApp, type App } from '@realtime/server';
import { startWebhooks } from '@realtime/workers';
import { deleteExpiredDeliveries, deliveryIdFor, findUnrecordedDeliveries, insertDeliveries, recordAttempts, type EventEnvelope } from '@realtime/core';
import { connectWs, errorCode, gql, subscribe } from '../../test/support/clients.js';
import { createKey, ownerWithApplication, createApplication } from '../../test/support/fixtures.js';
import { startReceiver, type Receiver, type ReceivedRequest } from '../../test/support/receiver.js';
import { cleanupConfig, eventually, testConfig } from '../../test/support/services.js';
import { useWebhookHarness } from '../../test/support/webhooks.js';
import { usePlatform } from '../../test/support/platform.js';

const ENDPOINT_FIELDS = 'id url status disabledReason topics ordered';
const DELIVERY_FIELDS = 'id eventId status attemptCount origin lastError nextAttemptAt attempts { statusCode succeeded error attemptedAt latencyMs responseExcerpt }';

interface Endpoint {
  id: string;
  url: string;
  status: string;
  disabledReason: string | null;
}

interface Delivery {
  id: string;
  eventId: string;
  status: string;
  attemptCount: number;
  origin: string;
  lastError: string | null;
  nextAttemptAt: string | null;
  attempts: { statusCode: number | null; succeeded: boolean; error: string | null; attemptedAt: string; latencyMs: number; responseExcerpt: string | null }[];
}

/** An `order.paid` envelope as the dispatcher would read it; `series` keeps the ids of two tests apart. */
function paidEvent(applicationId: string, series: string, n: number, subject: string | null, data: Record<string, unknown>): EventEnvelope {
  return {
    id: `0190f000-0000-7000-8000-000000000${series}${n}`,
    topic: 'order.paid',
    source: '/test',
    time: `2026-01-01T00:00:0${n}.123Z`,
    applicationId,
    environment: 'DEV',
    subject,
    schemaVersion: 1,
    cursor: `0_${n}_1-0`,
    traceparent: null,
    data,
  };
}

async function registerTopic(url: string, cookie: string, app: string, name: string): Promise<void> {
  const response = await gql(
    url,
    `mutation($app: ID!, $name: String!) { registerTopic(input: { applicationId: $app, environment: DEV, name: $name, schema: { type: "object", properties: { n: { type: "integer" }, status: { type: "string" } }, required: ["n"] } }) { id } }`,
    { app, name },
    { cookie },
  );
  expect(response.errors).toBeUndefined();
}

async function publish(url: string, sk: string, topic: string, data: Record<string, unknown>, subject?: string): Promise<{ id: string; cursor: string }> {
  const response = await gql<{ publish: { event: { id: string; cursor: string } } }>(
    url,
    `mutation($topic: String!, $data: JSON!, $subject: String) { publish(input: { topic: $topic, data: $data, subject: $subject }) { event { id cursor } } }`,
    { topic, data, subject },
    { key: sk },
  );
  if (!response.data) throw new Error(JSON.stringify(response.errors));
  return response.data.publish.event;
}

async function createEndpoint(
  url: string,
  auth: { cookie?: string; key?: string },
  input: Record<string, unknown>,
): Promise<{ secret: string; endpoint: Endpoint }> {
  const response = await gql<{ createWebhookEndpoint: { secret: string; endpoint: Endpoint } }>(
    url,
    `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret endpoint { ${ENDPOINT_FIELDS} } } }`,
    { input: { environment: 'DEV', ...input } },
    auth,
  );
  if (!response.data) throw new Error(JSON.stringify(response.errors));
  return response.data.createWebhookEndpoint;
}

async function deliveriesOf(url: string, cookie: string, app: string, endpointId: string): Promise<Delivery[]> {
  const response = await gql<{ webhookDeliveries: { nodes: Delivery[] } }>(
    url,
    `query($app: ID!, $endpoint: ID) { webhookDeliveries(applicationId: $app, environment: DEV, endpointId: $endpoint, first: 100) { nodes { ${DELIVERY_FIELDS} } } }`,
    { app, endpoint: endpointId },
    { cookie },
  );
  if (!response.data) throw new Error(JSON.stringify(response.errors));
  return response.data.webhookDeliveries.nodes;
}

/**
 * The endpoint's deliveries once `count` of them are recorded. A direct first attempt writes its
 * row together with its outcome, after the receiver has answered, so a test that saw the request
 * arrive waits for the row too.
 */
async function recordedDeliveries(url: string, cookie: string, app: string, endpointId: string, count: number): Promise<Delivery[]> {
  return eventually(async () => {
    const deliveries = await deliveriesOf(url, cookie, app, endpointId);
    return deliveries.length >= count ? deliveries : undefined;
  }, 15_000, `${count} recorded deliveries`);
}

/** Verifies a received request as a Standard Webhooks receiver would; returns the parsed body. */
function verified(secret: string, request: ReceivedRequest): Record<string, unknown> {
  return new Webhook(secret).verify(request.body, {
    'webhook-id': String(request.headers['webhook-id']),
    'webhook-timestamp': String(request.headers['webhook-timestamp']),
    'webhook-signature': String(request.headers['webhook-signature']),
  }) as Record<string, unknown>;
}

describe('webhooks', () => {
  const config = testConfig({ REALTIME_WEBHOOK_ALLOW_PRIVATE: '1', REALTIME_WEBHOOK_RETRY_SCHEDULE: '0s,1s,2s' });
  let app: App;
  let url: string;
  let worker: { stop(): Promise<void> };
  let receiver: Receiver;
  let owner: { cookie: string; app: string; pk: string; sk: string };

  beforeAll(async () => {
    app = await buildApp({ config });
    url = await app.start();
    worker = await startWebhooks(app.platform, { log: () => undefined });
    receiver = await startReceiver();
    owner = await ownerWithApplication(url, 'Hooks');
    for (const topic of ['order.created', 'order.updated', 'order.paid', 'invoice.sent']) await registerTopic(url, owner.cookie, owner.app, topic);
  });

  afterAll(async () => {
    await worker?.stop();
    await app?.stop();
    await receiver?.close();
    await cleanupConfig(config);
  });

  describe('signing and body', () => {
    it('should send each matching event once as CloudEvents JSON that verifies with standardwebhooks, webhook-id being the event id', async () => {
      const { secret, endpoint } = await createEndpoint(url, { cookie: owner.cookie }, {
        applicationId: owner.app,
        url: `${receiver.url}/signed`,
        topics: ['order.*'],
        filter: { 'data.status': { ne: 'IGNORED' } },
        description: 'orders',
      });
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(endpoint.status).toBe('ENABLED');
      const created = await publish(url, owner.sk, 'order.created', { n: 1, status: 'NEW' }, 'o-1');
      await publish(url, owner.sk, 'order.updated', { n: 2, status: 'IGNORED' }, 'o-1');
      await publish(url, owner.sk, 'invoice.sent', { n: 3 });
      const paid = await publish(url, owner.sk, 'order.paid', { n: 4, status: 'PAID' }, 'o-1');

      await eventually(() => receiver.on('/signed').length >= 2, 15_000, 'two deliveries');
      const [first, second] = receiver.on('/signed') as [ReceivedRequest, ReceivedRequest];
      const bodies = [verified(secret, first), verified(secret, second)];
      expect(bodies.map((b) => b.id).sort()).toEqual([created.id, paid.id].sort());
      for (const [request, body] of [[first, bodies[0]], [second, bodies[1]]] as const) {
        expect(request.headers['webhook-id']).toBe(body?.id);
        expect(request.headers['content-type']).toBe('application/json');
        expect(body).toMatchObject({ specversion: '1.0', subject: 'o-1', applicationid: owner.app, environment: 'DEV', datacontenttype: 'application/json' });
      }
      const createdBody = bodies.find((b) => b.id === created.id);
      expect(createdBody).toMatchObject({ type: 'order.created', data: { n: 1, status: 'NEW' }, cursor: created.cursor });
      expect(() => verified('whsec_' + Buffer.alloc(32, 1).toString('base64'), first)).toThrow();

      const deliveries = await recordedDeliveries(url, owner.cookie, owner.app, endpoint.id, 2);
      expect(deliveries.map((d) => d.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
      expect(deliveries.every((d) => d.origin === 'live' && d.attempts.length === 1 && d.attempts[0]?.statusCode === 200)).toBe(true);
      await new Promise((r) => setTimeout(r, 300)); // nothing more (no duplicate, no filtered event) may arrive
      expect(receiver.on('/signed')).toHaveLength(2);
    });

    it('should sign with the old and the new secret after a rotation, each verifying alone', async () => {
      const { secret: oldSecret, endpoint } = await createEndpoint(url, { cookie: owner.cookie }, { applicationId: owner.app, url: `${receiver.url}/rotated`, topics: ['invoice.sent'] });
      const rotated = await gql<{ rotateWebhookSecret: { secret: string } }>(url, `mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }`, { id: endpoint.id }, { cookie: owner.cookie });
      const newSecret = rotated.data!.rotateWebhookSecret.secret;
      expect(newSecret).not.toBe(oldSecret);
      // Stored sealed: neither secret (nor its key bytes) is readable in the database.
      const { rows } = await app.platform.pool.query<Record<string, string>>('SELECT * FROM webhook_endpoints WHERE id = $1', [endpoint.id]);
      const stored = JSON.stringify(rows);
      for (const secret of [oldSecret, newSecret]) {
        expect(stored).not.toContain(secret.slice(6));
        expect(stored).not.toContain(Buffer.from(secret.slice(6), 'base64').toString('base64url'));
      }
      await publish(url, owner.sk, 'invoice.sent', { n: 10 });
      await eventually(() => receiver.on('/rotated').length === 1, 15_000, 'the delivery');
      const request = receiver.on('/rotated')[0] as ReceivedRequest;
      expect(String(request.headers['webhook-signature']).split(' ')).toHaveLength(2);
      expect(verified(newSecret, request).id).toBe(request.headers['webhook-id']);
      expect(verified(oldSecret, request).id).toBe(request.headers['webhook-id']);
    });

    it('should send a signed test event on sendTestWebhook', async () => {
      const { secret, endpoint } = await createEndpoint(url, { cookie: owner.cookie }, { applicationId: owner.app, url: `${receiver.url}/test`, topics: ['nothing.here'] });
      const sent = await gql<{ sendTestWebhook: { id: string; origin: string } }>(url, `mutation($id: ID!) { sendTestWebhook(endpointId: $id) { id origin } }`, { id: endpoint.id }, { cookie: owner.cookie });
      expect(sent.data?.sendTestWebhook.origin).toMatch(/^test:/);
      await eventually(() => receiver.on('/test').length === 1, 15_000, 'the test webhook');
      expect(verified(secret, receiver.on('/test')[0] as ReceivedRequest)).toMatchObject({ type: 'realtime.webhook.test', data: { endpointId: endpoint.id } });
    });
  });

  describe('retries and dead letters', () => {
    it('should make exactly three attempts with one webhook-id when the receiver answers 500 twice', async () => {
      receiver.reply('/flaky', (n) => ({ status: n < 2 ? 500 : 200, body: n < 2 ? 'try again' : 'ok' }));
      const { secret, endpoint } = await createEndpoint(url, { cookie: owner.cookie }, { applicationId: owner.app, url: `${receiver.url}/flaky`, topics: ['order.created'] });
      const event = await publish(url, owner.sk, 'order.created', { n: 20 });
      await eventually(async () => (await deliveriesOf(url, owner.cookie, owner.app, endpoint.id))[0]?.status === 'SUCCEEDED', 20_000, 'success');
      await new Promise((r) => setTimeout(r, 300));
      const requests = receiver.on('/flaky');
      expect(requests).toHaveLength(3);
      expect(new Set(requests.map((r) => r.headers['webhook-id']))).toEqual(new Set([event.id]));
      for (const request of requests) expect(verified(secret, request).id).toBe(event.id);
      const [delivery] = await deliveriesOf(url, owner.cookie, owner.app, endpoint.id);
      expect(delivery?.attempts.map((a) => [a.statusCode, a.succeeded, a.responseExcerpt])).toEqual([
        [500, false, 'try again'],
        [500, false, 'try again'],
        [200, true, 'ok'],
      ]);
    });

    it('should dead-letter a delivery after the last attempt and deliver it on redeliver from the dead-letter list', async () => {
      let healthy = false;
      receiver.reply('/down', () => (healthy ? { status: 204 } : { status: 503, body: 'x'.repeat(10_000) }));
      const { endpoint } = await createEndpoint(url, { cookie: owner.cookie }, { applicationId: owner.app, url: `${receiver.url}/down`, topics: ['order.paid'] });
      const event = await publish(url, owner.sk, 'order.paid', { n: 30 });
      const dead = await eventually(async () => {
        const response = await gql<{ deadLetters: { nodes: Delivery[] } }>(url, `query($id: ID!) { deadLetters(endpointId: $id) { nodes { ${DELIVERY_FIELDS} } } }`, { id: endpoint.id }, { cookie: owner.cookie });
        return response.data?.deadLetters.nodes[0];
      }, 20_000, 'a dead letter');
      expect(dead.eventId).toBe(event.id);
      expect(dead.attempts).toHaveLength(3);
      expect(dead.attempts.every((a) => a.statusCode === 503 && a.error === 'HTTP 503')).toBe(true);
      expect(dead.attempts[0]?.responseExcerpt).toHaveLength(4096);
      expect(receiver.on('/down')).toHaveLength(3);

      const summary = await gql<{ webhookEndpoint: { summary: { attempts: number; succeeded: number; successRate: number; lastError: string; deadLetters: number; p50LatencyMs: number; p99LatencyMs: number } } }>(
        url,
        `query($id: ID!) { webhookEndpoint(id: $id) { summary { attempts succeeded successRate lastError deadLetters p50LatencyMs p99LatencyMs } } }`,
        { id: endpoint.id },
        { cookie: owner.cookie },
      );
      expect(summary.data?.webhookEndpoint.summary).toMatchObject({ attempts: 3, succeeded: 0, successRate: 0, lastError: 'HTTP 503', deadLetters: 1 });
      expect(summary.data?.webhookEndpoint.summary.p99LatencyMs).toBeGreaterThanOrEqual(summary.data!.webhookEndpoint.summary.p50LatencyMs);

      healthy = true;
      const redelivered = await gql<{ redeliver: Delivery }>(url, `mutation($id: ID!) { redeliver(deliveryId: $id) { id status } }`, { id: dead.id }, { cookie: owner.cookie });
      expect(redelivered.data?.redeliver).toMatchObject({ id: dead.id, status: 'PENDING' });
      await eventually(async () => (await deliveriesOf(url, owner.cookie, owner.app, endpoint.id))[0]?.status === 'SUCCEEDED', 15_000, 'redelivery');
      expect(receiver.on('/down').map((r) => r.headers['webhook-id'])).toEqual([event.id, event.id, event.id, event.id]);
      const after = await gql<{ deadLetters: { nodes: Delivery[] } }>(url, `query($id: ID!) { deadLetters(endpointId: $id) { nodes { id } } }`, { id: endpoint.id }, { cookie: owner.cookie });
      expect(after.data?.deadLetters.nodes).toEqual([]);
    });

    it('should wait as long as Retry-After says on a 429', async () => {
      receiver.reply('/busy', (n) => (n === 0 ? { status: 429, headers: { 'retry-after': '3' } } : { status: 200 }));
      const { endpoint } = await createEndpoint(url, { cookie: owner.cookie }, { applicationId: owner.app, url: `${receiver.url}/busy`, topics: ['order.updated'] });
      await publish(url, owner.sk, 'order.updated', { n: 40 });
      const failed = await eventually(async () => {
        const [delivery] = await deliveriesOf(url, owner.cookie, owner.app, endpoint.id);
        return delivery?.status === 'FAILED' ? delivery : undefined;
      }, 15_000, 'the first failure');
      // The next attempt was scheduled by the Retry-After (3 s), not by the schedule's 1 s.
      expect(Date.parse(failed.nextAttemptAt!) - Date.parse(failed.attempts[0]!.attemptedAt)).toBeGreaterThanOrEqual(2_500);
      await eventually(async () => (await deliveriesOf(url, owner.cookie, owner.app, endpoint.id))[0]?.status === 'SUCCEEDED', 15_000, 'the retry');
      expect(receiver.on('/busy')).toHaveLength(2);
    });

    it('should disable the endpoint on 410 and publish realtime.webhook.endpoint.disabled', async () => {
      receiver.reply('/gone', { status: 410 });
      const watcher = await createEndpoint(url, { cookie: owner.cookie }, { applicationId: owner.app, url: `${receiver.url}/watcher`, topics: ['realtime.webhook.**'] });
      const { endpoint } = await createEndpoint(url, { cookie: owner.cookie }, { applicationId: owner.app, url: `${receiver.url}/gone`, topics: ['invoice.sent'] });
      await publish(url, owner.sk, 'invoice.sent', { n: 50 });
      await eventually(async () => {
        const response = await gql<{ webhookEndpoint: Endpoint }>(url, `query($id: ID!) { webhookEndpoint(id: $id) { ${ENDPOINT_FIELDS} } }`, { id: endpoint.id }, { cookie: owner.cookie });
        return response.data?.webhookEndpoint.status === 'DISABLED' ? response.data.webhookEndpoint : undefined;
      }, 15_000, 'the endpoint disabled');
      const notice = await eventually(() => receiver.on('/watcher')[0], 15_000, 'the platform event as a webhook');
      expect(verified(watcher.secret, notice)).toMatchObject({
        type: 'realtime.webhook.endpoint.disabled',
        subject: endpoint.id,
        data: { endpointId: endpoint.id, url: endpoint.url, reason: 'the endpoint answered 410 Gone' },
      });
      const [delivery] = await recordedDeliveries(url, owner.cookie, owner.app, endpoint.id, 1);
      expect(delivery).toMatchObject({ status: 'DEAD', attemptCount: 1 });
      // A disabled endpoint receives nothing more.
      await publish(url, owner.sk, 'invoice.sent', { n: 51 });
      await new Promise((r) => setTimeout(r, 1_500));
      expect(receiver.on('/gone')).toHaveLength(1);
    });
  });

  describe('exactly one send per event', () => {
    it('should not send events published before the endpoint existed', async () => {
      const before = await publish(url, owner.sk, 'invoice.sent', { n: 90 });
      await new Promise((r) => setTimeout(r, 20));
      await createEndpoint(url, { cookie: owner.cookie }, { applicationId: owner.app, url: `${receiver.url}/late`, topics: ['invoice.sent'] });
      const after = await publish(url, owner.sk, 'invoice.sent', { n: 91 });
      await eventually(() => receiver.on('/late').length >= 1, 15_000, 'the delivery');
      await new Promise((r) => setTimeout(r, 300));
      expect(receiver.on('/late').map((r) => r.headers['webhook-id'])).toEqual([after.id]);
      expect(before.id).not.toBe(after.id);
    });

    it('should not send an event again when the same event id is published again after the idempotency window', async () => {
      // The first send is answered late, so the same id comes back while its first attempt is still in flight.
      receiver.reply('/republish', (n) => (n === 0 ? { status: 200, delayMs: 1_000 } : { status: 200 }));
      const { endpoint } = await createEndpoint(url, { cookie: owner.cookie }, { applicationId: owner.app, url: `${receiver.url}/republish`, topics: ['order.created'], filter: { 'data.n': 70 } });
      const scope = { applicationId: owner.app, environment: 'DEV' as const };
      const id = '0190f000-0000-7000-8000-000000000070';
      await app.platform.publisher.publishSystem(scope, { topic: 'order.created', data: { n: 70 }, id });
      await eventually(() => receiver.on('/republish').length === 1, 15_000, 'the first send');
      // The idempotency window passes: the same id is stored in history a second time.
      await app.platform.redis.del(`${config.redisKeyPrefix}:${owner.app}:DEV:idem:order.created:${id}`);
      await app.platform.publisher.publishSystem(scope, { topic: 'order.created', data: { n: 70 }, id });
      const history = await app.platform.redis.xrange(`${config.redisKeyPrefix}:${owner.app}:DEV:h:order.created`, '-', '+');
      expect(history.filter(([, fields]) => fields[3]?.includes(id))).toHaveLength(2);
      await eventually(async () => {
        const pending = await app.platform.redis.xpending(`${config.redisKeyPrefix}:${owner.app}:DEV:h:order.created`, 'webhooks');
        const info = await app.platform.redis.xinfo('GROUPS', `${config.redisKeyPrefix}:${owner.app}:DEV:h:order.created`);
        return (pending as [number])[0] === 0 && JSON.stringify(info).includes(history[history.length - 1]![0]);
      }, 15_000, 'the dispatcher past the second entry');
      await new Promise((r) => setTimeout(r, 300));
      expect(receiver.on('/republish')).toHaveLength(1);
      expect(await deliveriesOf(url, owner.cookie, owner.app, endpoint.id)).toHaveLength(1);
    });
    it('should record a batch of deliveries once each, and ask for jobs only for the new and the unfinished ones', async () => {
      // Disabled, so the worker leaves these rows alone while the test reads them.
      const { endpoint } = await createEndpoint(url, { cookie: owner.cookie }, { applicationId: owner.app, url: `${receiver.url}/batch`, topics: ['order.paid'] });
      await app.platform.pool.query(`UPDATE webhook_endpoints SET status = 'DISABLED' WHERE id = $1`, [endpoint.id]);
      const event = (n: number, subject: string | null): EventEnvelope => paidEvent(owner.app, '1', n, subject, { n, text: 'quotes " and \\ backslashes' });
      const delivery = (n: number, subject: string | null = null) => ({ endpointId: endpoint.id, origin: 'live', event: event(n, subject) });
      const idOf = (n: number): string => deliveryIdFor(endpoint.id, event(n, null).id, 'live');
      expect((await insertDeliveries(app.platform.pool, [delivery(1), delivery(2), delivery(3)])).map((d) => d.id)).toEqual([idOf(1), idOf(2), idOf(3)]);
      await app.platform.pool.query(`UPDATE webhook_deliveries SET status = 'SUCCEEDED' WHERE id = $1`, [idOf(1)]);
      await app.platform.pool.query(`UPDATE webhook_deliveries SET status = 'FAILED', generation = 2 WHERE id = $1`, [idOf(2)]);

      // Finished (1): left alone; unfinished (2, 3): a job again at their generation; new (4, twice in the batch): one row, one job.
      const queued = await insertDeliveries(app.platform.pool, [delivery(1), delivery(2), delivery(4, 'o-4'), delivery(3), delivery(4, 'o-4')]);
      expect(queued.map((d) => [d.id, d.generation])).toEqual([[idOf(2), 2], [idOf(4), 0], [idOf(3), 0]]);
      const { rows } = await app.platform.pool.query(
        `SELECT id, application_id, environment, event_id, topic, subject, event_time, event, status FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY event_id`,
        [endpoint.id],
      );
      expect(rows).toHaveLength(4);
      expect(rows[3]).toEqual({
        id: idOf(4),
        application_id: owner.app,
        environment: 'DEV',
        event_id: event(4, null).id,
        topic: 'order.paid',
        subject: 'o-4',
        event_time: new Date('2026-01-01T00:00:04.123Z'),
        event: event(4, 'o-4'),
        status: 'PENDING',
      });
    });

    it('should write a first attempt and its delivery row together, and never a second row or a duplicate attempt', async () => {
      const { endpoint } = await createEndpoint(url, { cookie: owner.cookie }, { applicationId: owner.app, url: `${receiver.url}/first`, topics: ['order.paid'] });
      await app.platform.pool.query(`UPDATE webhook_endpoints SET status = 'DISABLED' WHERE id = $1`, [endpoint.id]);
      const event = (n: number): EventEnvelope => paidEvent(owner.app, '2', n, `o-${n}`, { n });
      const delivery = (n: number) => ({ endpointId: endpoint.id, origin: 'live', event: event(n) });
      const idOf = (n: number): string => deliveryIdFor(endpoint.id, event(n).id, 'live');
      const pool = app.platform.pool;
      await insertDeliveries(pool, [delivery(1), delivery(2)]);
      await pool.query(`UPDATE webhook_deliveries SET status = 'SUCCEEDED' WHERE id = $1`, [idOf(1)]);
      await pool.query(`UPDATE webhook_deliveries SET status = 'FAILED', generation = 2 WHERE id = $1`, [idOf(2)]);

      // Finished (1): dropped; unfinished (2): queued again at its generation; new (3, twice): once, with no row yet.
      const found = await findUnrecordedDeliveries(pool, [delivery(1), delivery(2), delivery(3), delivery(3)]);
      expect(found.map((d) => [d.id, d.generation, d.unrecorded ?? false])).toEqual([[idOf(2), 2, false], [idOf(3), 0, true]]);
      const rowsOf = async () => (await pool.query(`SELECT id, status, attempts, last_status_code, subject, event FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY event_id`, [endpoint.id])).rows;
      expect(await rowsOf()).toHaveLength(2);

      const attempt = { endpointId: endpoint.id, latencyMs: 3.4, responseExcerpt: null };
      const created = { ...attempt, deliveryId: idOf(3), create: delivery(3), succeeded: true, statusCode: 204, error: null, status: 'SUCCEEDED' as const, nextAttemptAt: null };
      await recordAttempts(pool, [
        created,
        { ...attempt, deliveryId: idOf(2), succeeded: false, statusCode: 500, error: 'HTTP 500', status: 'FAILED', nextAttemptAt: new Date(Date.now() + 60_000) },
      ]);
      const rows = await rowsOf();
      expect(rows.map((r) => [r.id, r.status, r.attempts, r.last_status_code])).toEqual([
        [idOf(1), 'SUCCEEDED', 0, null],
        [idOf(2), 'FAILED', 1, 500],
        [idOf(3), 'SUCCEEDED', 1, 204],
      ]);
      expect(rows[2]).toMatchObject({ subject: 'o-3', event: event(3) });
      const attemptsOf = async (id: string) => (await pool.query(`SELECT status_code, latency_ms, succeeded FROM webhook_attempts WHERE delivery_id = $1`, [id])).rows;
      expect(await attemptsOf(idOf(3))).toEqual([{ status_code: 204, latency_ms: 3, succeeded: true }]);

      // The same first attempt recorded again (an entry sent twice): the row stays as it is, no second attempt.
      await recordAttempts(pool, [{ ...created, statusCode: 200 }]);
      expect((await rowsOf())[2]).toMatchObject({ status: 'SUCCEEDED', attempts: 1, last_status_code: 204 });
      expect(await attemptsOf(idOf(3))).toHaveLength(1);
    });
  });

  describe('history streams', () => {
    it('should leave epochs, offsets and resume exact when the dispatcher created a topic\'s stream (MKSTREAM) before its first publish', async () => {
      await registerTopic(url, owner.cookie, owner.app, 'audit.logged');
      await createEndpoint(url, { cookie: owner.cookie }, { applicationId: owner.app, url: `${receiver.url}/audit`, topics: ['audit.*'] });
      const stream = `${config.redisKeyPrefix}:${owner.app}:DEV:h:audit.logged`;
      await eventually(async () => JSON.stringify(await app.platform.redis.xinfo('GROUPS', stream).catch(() => [])).includes('webhooks'), 10_000, 'the consumer group');
      expect(await app.platform.redis.xlen(stream)).toBe(0);
      expect(await app.platform.redis.exists(`${config.redisKeyPrefix}:${owner.app}:DEV:ep:audit.logged`)).toBe(0);

      const first = await publish(url, owner.sk, 'audit.logged', { n: 1 });
      const second = await publish(url, owner.sk, 'audit.logged', { n: 2 });
      expect(first.cursor.split('_')[1]).toBe('1');
      expect(second.cursor.split('_')[1]).toBe('2');
      const socket = connectWs(url, { apiKey: owner.pk });
      try {
        const resumed = subscribe<{ auditLogged: { id: string } }>(socket, `subscription($after: String) { auditLogged(after: $after) { id } }`, { after: first.cursor });
        await resumed.waitFor(1);
        expect(resumed.results[0]?.errors).toBeUndefined();
        expect(resumed.results[0]?.data?.auditLogged.id).toBe(second.id);
      } finally {
        await socket.dispose();
      }
      await eventually(() => receiver.on('/audit').length === 2, 15_000, 'both deliveries');
    });
  });

  describe('ordering and replay', () => {
    it('should deliver the events of one subject in order on an ordered endpoint, a later one waiting for a retried earlier one', async () => {
      const failedOnce = new Set<string>();
      receiver.reply('/fifo', (_n, request) => {
        const body = JSON.parse(request.body) as { subject: string; data: { n: number } };
        if (body.data.n === 60 && !failedOnce.has('60')) {
          failedOnce.add('60');
          return { status: 500 };
        }
        return { status: 200 };
      });
      const { endpoint } = await createEndpoint(url, { cookie: owner.cookie }, { applicationId: owner.app, url: `${receiver.url}/fifo`, topics: ['order.*'], ordered: true, filter: { 'data.n': { gte: 60, lt: 70 } } });
      expect(endpoint).toMatchObject({ ordered: true });
      for (const [n, subject] of [[60, 'A'], [61, 'A'], [62, 'B'], [63, 'A']] as const) await publish(url, owner.sk, n % 2 ? 'order.updated' : 'order.created', { n }, subject);
      await eventually(() => receiver.on('/fifo').length >= 5, 20_000, 'every delivery');
      const seen = receiver.on('/fifo').map((r) => (JSON.parse(r.body) as { data: { n: number } }).data.n);
      expect(seen.filter((n) => n !== 62)).toEqual([60, 60, 61, 63]);
      expect(seen).toContain(62);
    });

    it('should re-send a time range from history on replayWebhookEndpoint, with the original webhook-ids', async () => {
      const { endpoint } = await createEndpoint(url, { cookie: owner.cookie }, { applicationId: owner.app, url: `${receiver.url}/replay`, topics: ['order.created', 'order.updated'], filter: { 'data.n': { gte: 80, lt: 90 } } });
      const since = new Date();
      const events = [];
      for (let n = 80; n < 84; n += 1) events.push(await publish(url, owner.sk, n % 2 ? 'order.updated' : 'order.created', { n }));
      await eventually(() => receiver.on('/replay').length === 4, 15_000, 'the live deliveries');
      const replay = await gql<{ replayWebhookEndpoint: { queued: number; truncated: boolean; replayId: string } }>(
        url,
        `mutation($id: ID!, $since: DateTime!, $until: DateTime) { replayWebhookEndpoint(endpointId: $id, since: $since, until: $until) { replayId queued truncated } }`,
        { id: endpoint.id, since: new Date(since.getTime() - 1_000).toISOString(), until: new Date().toISOString() },
        { cookie: owner.cookie },
      );
      expect(replay.data?.replayWebhookEndpoint).toMatchObject({ queued: 4, truncated: false });
      await eventually(() => receiver.on('/replay').length === 8, 15_000, 'the replayed deliveries');
      const ids = receiver.on('/replay').map((r) => r.headers['webhook-id']);
      expect(ids.slice(4).sort()).toEqual(events.map((e) => e.id).sort());
      const deliveries = await deliveriesOf(url, owner.cookie, owner.app, endpoint.id);
      expect(deliveries.filter((d) => d.origin === `replay:${replay.data!.replayWebhookEndpoint.replayId}`)).toHaveLength(4);
    });

    it('should page through deliveries and filter them by event and status', async () => {
      const { endpoint } = await createEndpoint(url, { cookie: owner.cookie }, { applicationId: owner.app, url: `${receiver.url}/pages`, topics: ['order.created'], filter: { 'data.n': { gte: 100 } } });
      const events = [];
      for (let n = 100; n < 105; n += 1) events.push(await publish(url, owner.sk, 'order.created', { n }));
      await eventually(async () => (await deliveriesOf(url, owner.cookie, owner.app, endpoint.id)).filter((d) => d.status === 'SUCCEEDED').length === 5, 15_000, 'deliveries');
      const seen: string[] = [];
      let after: string | null = null;
      for (let page = 0; page < 5; page += 1) {
        const response: { data?: { webhookDeliveries: { nodes: { eventId: string }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } | null } = await gql(
          url,
          `query($app: ID!, $endpoint: ID, $after: String) { webhookDeliveries(applicationId: $app, environment: DEV, endpointId: $endpoint, status: SUCCEEDED, first: 2, after: $after) { nodes { eventId } pageInfo { hasNextPage endCursor } } }`,
          { app: owner.app, endpoint: endpoint.id, after },
          { cookie: owner.cookie },
        );
        const connection = response.data!.webhookDeliveries;
        seen.push(...connection.nodes.map((n) => n.eventId));
        if (!connection.pageInfo.hasNextPage) break;
        after = connection.pageInfo.endCursor;
      }
      expect(seen.sort()).toEqual(events.map((e) => e.id).sort());
      const byEvent = await gql<{ webhookDeliveries: { nodes: { endpointId: string }[] } }>(
        url,
        `query($app: ID!, $event: String) { webhookDeliveries(applicationId: $app, environment: DEV, eventId: $event) { nodes { endpointId } } }`,
        { app: owner.app, event: events[0]!.id },
        { cookie: owner.cookie },
      );
      expect(byEvent.data?.webhookDeliveries.nodes.map((n) => n.endpointId)).toContain(endpoint.id);
    });
  });

  describe('endpoint management', () => {
    it('should update, disable, enable and delete an endpoint with a secret key of its application', async () => {
      const { endpoint } = await createEndpoint(url, { key: owner.sk }, { applicationId: owner.app, url: `${receiver.url}/manage`, topics: ['order.created'] });
      const updated = await gql<{ updateWebhookEndpoint: { topics: string[]; description: string; url: string } }>(
        url,
        `mutation($id: ID!) { updateWebhookEndpoint(input: { id: $id, topics: ["order.**"], description: "all orders" }) { topics description url } }`,
        { id: endpoint.id },
        { key: owner.sk },
      );
      expect(updated.data?.updateWebhookEndpoint).toEqual({ topics: ['order.**'], description: 'all orders', url: endpoint.url });
      const disabled = await gql<{ disableWebhookEndpoint: Endpoint }>(url, `mutation($id: ID!) { disableWebhookEndpoint(id: $id) { ${ENDPOINT_FIELDS} } }`, { id: endpoint.id }, { key: owner.sk });
      expect(disabled.data?.disableWebhookEndpoint).toMatchObject({ status: 'DISABLED', disabledReason: 'disabled by a user' });
      await publish(url, owner.sk, 'order.created', { n: 200 });
      const enabled = await gql<{ enableWebhookEndpoint: Endpoint }>(url, `mutation($id: ID!) { enableWebhookEndpoint(id: $id) { ${ENDPOINT_FIELDS} } }`, { id: endpoint.id }, { key: owner.sk });
      expect(enabled.data?.enableWebhookEndpoint).toMatchObject({ status: 'ENABLED', disabledReason: null });
      const after = await publish(url, owner.sk, 'order.created', { n: 201 });
      await eventually(() => receiver.on('/manage').length >= 1, 15_000, 'a delivery after enabling');
      await new Promise((r) => setTimeout(r, 500));
      // The event published while it was disabled is not sent (replay would send it).
      expect(receiver.on('/manage').map((r) => r.headers['webhook-id'])).toEqual([after.id]);
      await gql(url, `mutation($id: ID!) { disableWebhookEndpoint(id: $id) { id } }`, { id: endpoint.id }, { key: owner.sk });
      const refused = await gql(url, `mutation($id: ID!) { sendTestWebhook(endpointId: $id) { id } }`, { id: endpoint.id }, { key: owner.sk });
      expect(errorCode(refused)).toBe('CONFLICT');
      expect(refused.errors?.[0]?.message).toMatch(/is disabled \(disabled by a user\); enable it first/);
      const deleted = await gql(url, `mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`, { id: endpoint.id }, { key: owner.sk });
      expect(deleted.data).toEqual({ deleteWebhookEndpoint: true });
      const gone = await gql(url, `query($id: ID!) { webhookEndpoint(id: $id) { id } }`, { id: endpoint.id }, { key: owner.sk });
      expect(errorCode(gone)).toBe('NOT_FOUND');
    });

    it('should refuse bad topics, filters and URLs with BAD_USER_INPUT and create nothing', async () => {
      const attempt = (input: Record<string, unknown>) =>
        gql(url, `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret } }`, { input: { applicationId: owner.app, environment: 'DEV', url: `${receiver.url}/x`, topics: ['order.*'], ...input } }, { cookie: owner.cookie });
      for (const input of [
        { topics: [] },
        { topics: ['Order.Created'] },
        { filter: { 'data.n': { between: [1, 2] } } },
        { filter: { unknown: 1 } },
        { url: 'ftp://example.com/hook' },
        { url: 'not a url' },
        { url: 'https://user:pw@example.com/hook' },
        { environment: 'PROD', url: 'http://example.com/hook' },
      ]) {
        const response = await attempt(input);
        expect(errorCode(response), JSON.stringify(input)).toBe('BAD_USER_INPUT');
      }
      const list = await gql<{ webhookEndpoints: unknown[] }>(url, `query($app: ID!) { webhookEndpoints(applicationId: $app, environment: PROD) { id } }`, { app: owner.app }, { cookie: owner.cookie });
      expect(list.data?.webhookEndpoints).toEqual([]);
    });
  });

  describe('retention', () => {
    it('should delete attempts and finished deliveries older than the retention, in batches, and keep the rest', async () => {
      // Disabled, so the worker leaves these rows alone while the test ages them.
      const { endpoint } = await createEndpoint(url, { cookie: owner.cookie }, { applicationId: owner.app, url: `${receiver.url}/retention`, topics: ['order.paid'] });
      const pool = app.platform.pool;
      await pool.query(`UPDATE webhook_endpoints SET status = 'DISABLED' WHERE id = $1`, [endpoint.id]);
      const event = (n: number): EventEnvelope => paidEvent(owner.app, '3', n, null, { n });
      const idOf = (n: number): string => deliveryIdFor(endpoint.id, event(n).id, 'live');
      await insertDeliveries(pool, [1, 2, 3, 4, 5, 6, 7, 8].map((n) => ({ endpointId: endpoint.id, origin: 'live', event: event(n) })));
      const old = "now() - interval '40 days'";
      // 1–3 and 8 succeeded and 4 died 40 days ago; 5 is still retrying; 6 is recent; 7 is old but was redelivered and finished today.
      const age = async (n: number, status: string, updated = old): Promise<void> => {
        await pool.query(`UPDATE webhook_deliveries SET status = $2, created_at = ${old}, updated_at = ${updated} WHERE id = $1`, [idOf(n), status]);
      };
      for (const n of [1, 2, 3, 8]) await age(n, 'SUCCEEDED');
      await age(4, 'DEAD');
      await age(5, 'FAILED');
      await pool.query(`UPDATE webhook_deliveries SET status = 'SUCCEEDED' WHERE id = $1`, [idOf(6)]);
      await age(7, 'SUCCEEDED', 'now()');
      // One old attempt for each, and a recent one for 5, 6 and 7.
      const attempt = async (n: number, when: string): Promise<void> => {
        await pool.query(
          `INSERT INTO webhook_attempts (delivery_id, endpoint_id, succeeded, status_code, latency_ms, attempted_at) VALUES ($1, $2, true, 204, 1, ${when})`,
          [idOf(n), endpoint.id],
        );
      };
      for (const n of [1, 2, 3, 4, 5, 7, 8]) await attempt(n, old);
      for (const n of [5, 6, 7]) await attempt(n, 'now()');
      const remaining = async () => {
        const deliveries = await pool.query<{ id: string }>('SELECT id FROM webhook_deliveries WHERE endpoint_id = $1', [endpoint.id]);
        const attempts = await pool.query<{ delivery_id: string; old: boolean }>(
          `SELECT delivery_id, attempted_at < now() - interval '1 day' AS old FROM webhook_attempts WHERE endpoint_id = $1`,
          [endpoint.id],
        );
        const n = (id: string): number => [1, 2, 3, 4, 5, 6, 7, 8].find((k) => idOf(k) === id) as number;
        return {
          deliveries: deliveries.rows.map((r) => n(r.id)).sort(),
          attempts: attempts.rows.map((r) => `${n(r.delivery_id)}${r.old ? ' old' : ''}`).sort(),
        };
      };

      // An aborted sweep stops before its first batch.
      const aborted = new AbortController();
      aborted.abort();
      expect(await deleteExpiredDeliveries(pool, 30 * 86_400_000, { signal: aborted.signal })).toBe(0);
      expect((await remaining()).deliveries).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);

      // A delivery another transaction holds (a redeliver in progress) is skipped, not waited for.
      const holder = await pool.connect();
      try {
        await holder.query('BEGIN');
        await holder.query('SELECT 1 FROM webhook_deliveries WHERE id = $1 FOR UPDATE', [idOf(8)]);
        // Batches of two: the old attempts and the four finished deliveries take several statements. Old attempts
        // go whatever their delivery's state.
        expect(await deleteExpiredDeliveries(pool, 30 * 86_400_000, { batchSize: 2 })).toBe(4);
        expect(await remaining()).toEqual({ deliveries: [5, 6, 7, 8], attempts: ['5', '6', '7'] });
        // The holder makes it PENDING again (redeliver): the next sweep leaves it, being unfinished.
        await holder.query(`UPDATE webhook_deliveries SET status = 'PENDING', generation = generation + 1 WHERE id = $1`, [idOf(8)]);
        await holder.query('COMMIT');
      } finally {
        holder.release();
      }
      expect(await deleteExpiredDeliveries(pool, 30 * 86_400_000, { batchSize: 2 })).toBe(0);
      expect((await remaining()).deliveries).toEqual([5, 6, 7, 8]);
      // Once it has finished again and aged, it goes.
      await age(8, 'DEAD');
      expect(await deleteExpiredDeliveries(pool, 30 * 86_400_000)).toBe(1);
      expect(await remaining()).toEqual({ deliveries: [5, 6, 7], attempts: ['5', '6', '7'] });
    });
  });

  describe('tenant isolation', () => {
    it('should keep endpoints, deliveries and events of one application invisible to another', async () => {
      const otherApp = await createApplication(url, owner.cookie, 'Other');
      const otherSk = await createKey(url, owner.cookie, otherApp, 'SECRET');
      const ownerStagingSk = await createKey(url, owner.cookie, owner.app, 'SECRET', 'STAGING');
      const ownerPk = owner.pk;
      await registerTopic(url, owner.cookie, otherApp, 'order.created');
      const mine = await createEndpoint(url, { key: owner.sk }, { applicationId: owner.app, url: `${receiver.url}/tenant-a`, topics: ['**'], filter: { 'data.n': { gte: 300 } } });
      const theirs = await createEndpoint(url, { key: otherSk }, { applicationId: otherApp, url: `${receiver.url}/tenant-b`, topics: ['**'] });
      const event = await publish(url, owner.sk, 'order.created', { n: 300 });
      await eventually(() => receiver.on('/tenant-a').length === 1, 15_000, 'the delivery');
      const [delivery] = await recordedDeliveries(url, owner.cookie, owner.app, mine.endpoint.id, 1);

      for (const key of [otherSk, ownerStagingSk]) {
        expect(errorCode(await gql(url, `query($id: ID!) { webhookEndpoint(id: $id) { id } }`, { id: mine.endpoint.id }, { key }))).toBe('NOT_FOUND');
        expect(errorCode(await gql(url, `query($id: ID!) { webhookDelivery(id: $id) { id } }`, { id: delivery!.id }, { key }))).toBe('NOT_FOUND');
        expect(errorCode(await gql(url, `query($id: ID!) { deadLetters(endpointId: $id) { nodes { id } } }`, { id: mine.endpoint.id }, { key }))).toBe('NOT_FOUND');
        expect(errorCode(await gql(url, `mutation($id: ID!) { redeliver(deliveryId: $id) { id } }`, { id: delivery!.id }, { key }))).toBe('NOT_FOUND');
        expect(errorCode(await gql(url, `mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`, { id: mine.endpoint.id }, { key }))).toBe('NOT_FOUND');
        expect(errorCode(await gql(url, `mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }`, { id: mine.endpoint.id }, { key }))).toBe('NOT_FOUND');
        expect(errorCode(await gql(url, `query($app: ID!) { webhookEndpoints(applicationId: $app, environment: DEV) { id } }`, { app: owner.app }, { key }))).toBe('FORBIDDEN');
        expect(errorCode(await gql(url, `query($app: ID!) { webhookDeliveries(applicationId: $app, environment: DEV) { nodes { id } } }`, { app: owner.app }, { key }))).toBe('FORBIDDEN');
        expect(errorCode(await gql(url, `mutation($app: ID!) { createWebhookEndpoint(input: { applicationId: $app, environment: DEV, url: "http://127.0.0.1:1/x", topics: ["**"] }) { secret } }`, { app: owner.app }, { key }))).toBe('FORBIDDEN');
      }
      expect(errorCode(await gql(url, `query($id: ID!) { webhookEndpoint(id: $id) { id } }`, { id: mine.endpoint.id }, { key: ownerPk }))).toBe('FORBIDDEN');
      expect(errorCode(await gql(url, `query($id: ID!) { webhookEndpoint(id: $id) { id } }`, { id: mine.endpoint.id }))).toBe('UNAUTHENTICATED');
      const theirList = await gql<{ webhookEndpoints: { id: string }[] }>(url, `query($app: ID!) { webhookEndpoints(applicationId: $app, environment: DEV) { id } }`, { app: otherApp }, { key: otherSk });
      expect(theirList.data?.webhookEndpoints.map((e) => e.id)).toEqual([theirs.endpoint.id]);
      await new Promise((r) => setTimeout(r, 500));
      expect(receiver.on('/tenant-b').map((r) => r.headers['webhook-id'])).not.toContain(event.id);
    });
  });
});

describe('webhook endpoints failing for too long', () => {
  const harness = useWebhookHarness({ REALTIME_WEBHOOK_RETRY_SCHEDULE: '0s,1s,1s,1s', REALTIME_WEBHOOK_DISABLE_AFTER: '1s' });

  it('should disable an endpoint that failed without a success for REALTIME_WEBHOOK_DISABLE_AFTER and publish the platform event', async () => {
    const { app, url, receiver, config } = harness;
    const owner = await ownerWithApplication(url, 'Failing');
    await registerTopic(url, owner.cookie, owner.app, 'order.created');
    receiver.reply('/failing', { status: 500 });
    const { endpoint } = await createEndpoint(url, { cookie: owner.cookie }, { applicationId: owner.app, url: `${receiver.url}/failing`, topics: ['order.created'] });
    await publish(url, owner.sk, 'order.created', { n: 1 });
    const disabled = await eventually(async () => {
      const response = await gql<{ webhookEndpoint: Endpoint }>(url, `query($id: ID!) { webhookEndpoint(id: $id) { ${ENDPOINT_FIELDS} } }`, { id: endpoint.id }, { cookie: owner.cookie });
      return response.data?.webhookEndpoint.status === 'DISABLED' ? response.data.webhookEndpoint : undefined;
    }, 20_000, 'the endpoint disabled');
    expect(disabled.disabledReason).toBe('no successful delivery for 1 s');
    const history = await eventually(async () => {
      const entries = await app.platform.redis.xrange(`${config.redisKeyPrefix}:${owner.app}:DEV:h:realtime.webhook.endpoint.disabled`, '-', '+');
      return entries.length > 0 ? entries : undefined;
    }, 10_000, 'the platform event');
    expect(history).toHaveLength(1);
    expect(JSON.parse(history[0]![1][3]!)).toMatchObject({ subject: endpoint.id, data: { endpointId: endpoint.id, reason: 'no successful delivery for 1 s' } });
    await eventually(async () => (await deliveriesOf(url, owner.cookie, owner.app, endpoint.id))[0]?.status === 'DEAD', 15_000, 'the delivery dead-lettered');
  });
});

describe('webhook URL safety', () => {
  const platform = usePlatform();

  it('should refuse loopback, private, link-local and metadata addresses when private delivery is not allowed', async () => {
    const { url } = platform;
    const owner = await ownerWithApplication(url, 'Safe');
    for (const target of [
      'http://127.0.0.1:8080/hook',
      'http://localhost/hook',
      'http://10.1.2.3/hook',
      'http://192.168.0.10/hook',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]/hook',
      'http://[fd00:ec2::254]/hook',
      'http://[::ffff:127.0.0.1]/hook',
      'http://0.0.0.0/hook',
    ]) {
      const response = await gql(url, `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret } }`, { input: { applicationId: owner.app, environment: 'DEV', url: target, topics: ['**'] } }, { cookie: owner.cookie });
      expect(errorCode(response), target).toBe('BAD_USER_INPUT');
      expect(response.errors?.[0]?.message).toMatch(/loopback, private, link-local or metadata/);
      expect(response.errors?.[0]?.extensions?.field).toBe('url');
    }
  });
});
