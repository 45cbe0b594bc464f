/** POST /v1/publish over a real server: the same publish as the GraphQL mutation, with HTTP statuses for its errors. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '@realtime/server';
import { connectWs, gql, subscribe, type WsConnection } from '../../test/support/clients.js';
import { ownerWithApplication } from '../../test/support/fixtures.js';
import { cleanupConfig, eventually, testConfig } from '../../test/support/services.js';

interface Answer {
  status: number;
  headers: Headers;
  body: { event?: Record<string, unknown>; errors?: { message: string; extensions: Record<string, unknown> }[] };
}

async function post(url: string, key: string | undefined, body: unknown, init: { method?: string; raw?: string } = {}): Promise<Answer> {
  const response = await fetch(`${url}/v1/publish`, {
    method: init.method ?? 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    ...(init.method === 'GET' ? {} : { body: init.raw ?? JSON.stringify(body) }),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Answer['body'] };
}

type Order = { order: { id: string; cursor: string; subject: string | null; data: { n: number } } };
const ORDERS = `subscription($after: String) { order(after: $after) { id cursor subject data { n } } }`;

describe('HTTP publish', () => {
  const config = testConfig({ REALTIME_MAX_REQUEST_BYTES: '4096', REALTIME_PUBLISH_RATE_PER_KEY: '40' });
  let app: App;
  let url: string;
  let owner: { cookie: string; app: string; pk: string; sk: string };
  const sockets: WsConnection[] = [];

  beforeAll(async () => {
    app = await buildApp({ config });
    url = await app.start();
    owner = await ownerWithApplication(url, 'Rest');
    const registered = await gql(
      url,
      `mutation($app: ID!) { registerTopic(input: { applicationId: $app, environment: DEV, name: "order", schema: { type: "object", properties: { n: { type: "integer" } }, required: ["n"], additionalProperties: false } }) { id } }`,
      { app: owner.app },
      { cookie: owner.cookie },
    );
    expect(registered.errors).toBeUndefined();
  });

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await app?.stop();
    await cleanupConfig(config);
  });

  it('should store and deliver an event to GraphQL subscribers, answering with the stored envelope', async () => {
    const socket = connectWs(url, { apiKey: owner.pk });
    sockets.push(socket);
    const live = subscribe<Order>(socket, ORDERS);
    await eventually(() => app.platform.subscriber.listenerCount() === 1, 10_000, 'subscription');

    const answer = await post(url, owner.sk, { topic: 'order', data: { n: 1 }, subject: 'o-1', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    expect(answer.status).toBe(200);
    const event = answer.body.event!;
    expect(event).toMatchObject({ topic: 'order', subject: 'o-1', applicationId: owner.app, environment: 'DEV', schemaVersion: 1, data: { n: 1 } });
    expect(event.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    expect(typeof event.id).toBe('string');
    expect(typeof event.cursor).toBe('string');

    await live.waitFor(1);
    expect(live.results[0]?.data?.order).toEqual({ id: event.id, cursor: event.cursor, subject: 'o-1', data: { n: 1 } });
    live.stop();
  });

  it('should refuse bad requests with the catalog’s code and HTTP status, and store none of them', async () => {
    const before = await post(url, owner.sk, { topic: 'order', data: { n: 10 } });
    expect(before.status).toBe(200);

    const refusals: [string | undefined, unknown, { method?: string; raw?: string }, number, string, Record<string, unknown>?][] = [
      [undefined, { topic: 'order', data: { n: 11 } }, {}, 401, 'UNAUTHENTICATED'],
      ['sk_not_a_real_key', { topic: 'order', data: { n: 11 } }, {}, 401, 'UNAUTHENTICATED'],
      [owner.pk, { topic: 'order', data: { n: 11 } }, {}, 403, 'FORBIDDEN'],
      [owner.sk, { topic: 'order.missing', data: { n: 11 } }, {}, 404, 'NOT_FOUND'],
      [owner.sk, { topic: 'order', data: { n: 'eleven' } }, {}, 400, 'BAD_USER_INPUT'],
      [owner.sk, { topic: 'order', data: { n: 11, extra: true } }, {}, 400, 'BAD_USER_INPUT'],
      [owner.sk, { topic: 'order' }, {}, 400, 'BAD_USER_INPUT', { field: 'data' }],
      [owner.sk, { data: { n: 11 } }, {}, 400, 'BAD_USER_INPUT', { field: 'topic' }],
      [owner.sk, { topic: 'order', data: { n: 11 }, subject: 7 }, {}, 400, 'BAD_USER_INPUT', { field: 'subject' }],
      [owner.sk, { topic: 'order', data: { n: 11 }, schemaVersion: 1.5 }, {}, 400, 'BAD_USER_INPUT', { field: 'schemaVersion' }],
      [owner.sk, { topic: 'order', data: { n: 11 }, tpoic: 'typo' }, {}, 400, 'BAD_USER_INPUT', { field: 'tpoic' }],
      [owner.sk, undefined, { raw: '{"topic": "order", "data": ' }, 400, 'BAD_USER_INPUT'],
      [owner.sk, undefined, { raw: '[{"topic": "order", "data": {"n": 11}}]' }, 400, 'BAD_USER_INPUT'],
      [owner.sk, { topic: 'order', data: { n: 11, pad: 'x'.repeat(5000) } }, {}, 413, 'PAYLOAD_TOO_LARGE'],
    ];
    for (const [key, body, init, status, code, extensions] of refusals) {
      const answer = await post(url, key, body, init);
      const what = `${JSON.stringify(body ?? init.raw).slice(0, 80)} with ${key?.slice(0, 3) ?? 'no key'}`;
      expect(answer.status, what).toBe(status);
      expect(answer.body.errors?.[0]?.extensions.code, what).toBe(code);
      expect(answer.body.errors?.[0]?.message.length, what).toBeGreaterThan(10);
      if (extensions) expect(answer.body.errors?.[0]?.extensions, what).toMatchObject(extensions);
      expect(answer.body.event, what).toBeUndefined();
    }
    // The schema violation says where.
    const violation = await post(url, owner.sk, { topic: 'order', data: { n: 'eleven' } });
    expect(violation.body.errors?.[0]?.extensions.violations).toEqual([{ path: '/n', message: 'must be integer' }]);

    const wrongMethod = await post(url, owner.sk, undefined, { method: 'GET' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    expect(wrongMethod.body.errors?.[0]?.extensions.code).toBe('BAD_USER_INPUT');

    const after = await post(url, owner.sk, { topic: 'order', data: { n: 12 } });
    expect(after.status).toBe(200);
    // Resuming after the first good event yields the second one next: nothing was stored in between.
    const socket = connectWs(url, { apiKey: owner.pk });
    sockets.push(socket);
    const resumed = subscribe<Order>(socket, ORDERS, { after: before.body.event!.cursor });
    await resumed.waitFor(1);
    expect(resumed.results[0]?.data?.order.data.n).toBe(12);
    resumed.stop();
  });

  it('should answer a repeated idempotency key with the original event and publish it once', async () => {
    const first = await post(url, owner.sk, { topic: 'order', data: { n: 20 }, idempotencyKey: 'order-20' });
    const second = await post(url, owner.sk, { topic: 'order', data: { n: 20 }, idempotencyKey: 'order-20' });
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body.event?.id).toBe(first.body.event?.id);
    expect(second.body.event?.cursor).toBe(first.body.event?.cursor);
    const next = await post(url, owner.sk, { topic: 'order', data: { n: 21 } });
    const socket = connectWs(url, { apiKey: owner.pk });
    sockets.push(socket);
    const resumed = subscribe<Order>(socket, ORDERS, { after: first.body.event!.cursor });
    await resumed.waitFor(1);
    expect(resumed.results[0]?.data?.order.id).toBe(next.body.event?.id);
    resumed.stop();
  });

  it('should answer 429 with Retry-After past the key’s publish rate', async () => {
    // 150 at once: even spread over three one-second windows, at most 120 can pass.
    const answers = await Promise.all(Array.from({ length: 150 }, (_, n) => post(url, owner.sk, { topic: 'order', data: { n: 100 + n } })));
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    for (const answer of limited) {
      expect(answer.body.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 40 });
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    expect(answers.every((a) => a.status === 200 || a.status === 429)).toBe(true);
  });
});
