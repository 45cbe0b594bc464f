/**
 * The first end-to-end path, through the real `npm start`, real HTTP and a real graphql-ws client:
 * sign in, two applications with keys, `order.updated` registered in both, typed and generic
 * subscriptions, publish, tenancy isolation, key kinds, and every bad input with its code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { connectWs, errorCode, gql, subscribe, type WsConnection } from '../../test/support/clients.js';
import { startServerProcess, type ServerProcess } from '../../test/support/server-process.js';
import { REDIS_URL, TEST_ADMIN, deleteRedisPrefix, dropDatabase, eventually, testEnv } from '../../test/support/services.js';

const ORDER_SCHEMA = {
  type: 'object',
  properties: {
    orderId: { type: 'string' },
    status: { type: 'string', enum: ['NEW', 'PAID', 'SHIPPED'] },
    total: { type: 'number', minimum: 0 },
    customer: {
      type: 'object',
      properties: { id: { type: 'string' }, name: { type: 'string' } },
      required: ['id'],
    },
  },
  required: ['orderId', 'status'],
  additionalProperties: false,
};

const SIGN_IN = `mutation($email: String!, $password: String!) { signIn(email: $email, password: $password) { id email role } }`;
const CREATE_APP = `mutation($name: String!) { createApplication(input: { name: $name }) { id name environments { name } } }`;
const CREATE_KEY = `mutation($app: ID!, $env: EnvironmentName!, $kind: ApiKeyKind!) {
  createApiKey(input: { applicationId: $app, environment: $env, kind: $kind, name: "test" }) { secret key { id kind environment } } }`;
const REGISTER = `mutation($app: ID!, $env: EnvironmentName!, $name: String!, $schema: JSON!) {
  registerTopic(input: { applicationId: $app, environment: $env, name: $name, schema: $schema }) { id name fieldName } }`;
const PUBLISH = `mutation($topic: String!, $data: JSON!, $subject: String) {
  publish(input: { topic: $topic, data: $data, subject: $subject }) { event { id topic time cursor subject } } }`;
const TYPED = `subscription { orderUpdated { id topic time cursor subject data { orderId status total customer { id name } } } }`;
const GENERIC = `subscription { events(topics: ["order.updated"]) { id topic cursor data } }`;

interface Keys {
  app: string;
  sk: string;
  pk: string;
}

describe('the first end-to-end event path (npm start)', () => {
  const env = testEnv();
  let server: ServerProcess;
  let cookie = '';
  let a: Keys;
  let b: Keys;
  let aStaging: Keys;
  const sockets: WsConnection[] = [];
  let redis: Redis;

  const channel = (scope: Keys, envName: string): string => `${env.REALTIME_REDIS_PREFIX}:${scope.app}:${envName}:ch:order.updated`;
  const subscribers = async (name: string): Promise<number> => {
    const [, count] = (await redis.pubsub('NUMSUB', name)) as [string, number];
    return Number(count);
  };

  async function keysFor(app: string, environment: string): Promise<Keys> {
    const sk = await gql<{ createApiKey: { secret: string } }>(server.url, CREATE_KEY, { app, env: environment, kind: 'SECRET' }, { cookie });
    const pk = await gql<{ createApiKey: { secret: string } }>(server.url, CREATE_KEY, { app, env: environment, kind: 'PUBLISHABLE' }, { cookie });
    return { app, sk: sk.data!.createApiKey.secret, pk: pk.data!.createApiKey.secret };
  }

  beforeAll(async () => {
    server = await startServerProcess(env);
    redis = new Redis(REDIS_URL);
  });

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    redis?.disconnect();
    await server?.stop();
    await deleteRedisPrefix(env.REALTIME_REDIS_PREFIX);
    await dropDatabase(new URL(env.DATABASE_URL).pathname.slice(1));
  });

  describe('control plane', () => {
    it('should refuse a wrong password and sign in the owner with an httpOnly cookie', async () => {
      const wrong = await gql(server.url, SIGN_IN, { email: TEST_ADMIN.email, password: 'nope' });
      expect(errorCode(wrong)).toBe('UNAUTHENTICATED');
      const signedIn = await gql<{ signIn: { email: string; role: string } }>(server.url, SIGN_IN, TEST_ADMIN);
      expect(signedIn.data?.signIn).toMatchObject({ email: TEST_ADMIN.email, role: 'OWNER' });
      const setCookie = signedIn.setCookie.find((c) => c.startsWith('rt_session='));
      expect(setCookie).toMatch(/HttpOnly/);
      expect(setCookie).toMatch(/SameSite=Lax/);
      cookie = setCookie!.split(';')[0]!;
      const me = await gql<{ me: { email: string } }>(server.url, '{ me { email } }', {}, { cookie });
      expect(me.data?.me.email).toBe(TEST_ADMIN.email);
    });

    it('should create two applications with three environments and keys shown once', async () => {
      const created = await gql<{ createApplication: { id: string; environments: { name: string }[] } }>(
        server.url, CREATE_APP, { name: 'Shop A' }, { cookie });
      expect(created.data?.createApplication.environments.map((e) => e.name)).toEqual(['DEV', 'STAGING', 'PROD']);
      const other = await gql<{ createApplication: { id: string } }>(server.url, CREATE_APP, { name: 'Shop B' }, { cookie });
      a = await keysFor(created.data!.createApplication.id, 'DEV');
      aStaging = await keysFor(created.data!.createApplication.id, 'STAGING');
      b = await keysFor(other.data!.createApplication.id, 'DEV');
      expect(a.sk).toMatch(/^sk_dev_/);
      expect(a.pk).toMatch(/^pk_dev_/);
      expect(aStaging.pk).toMatch(/^pk_staging_/);
      const listed = await gql<{ application: { apiKeys: { hint: string }[] } }>(
        server.url, `query($id: ID!) { application(id: $id) { apiKeys { hint } } }`, { id: a.app }, { cookie });
      // Only a hint is ever shown again, never the secret.
      expect(JSON.stringify(listed.data)).not.toContain(a.sk);
      expect(listed.data?.application.apiKeys).toHaveLength(4); // a secret and a publishable key in DEV and in STAGING
    });

    it('should register order.updated in both applications and in a second environment of A', async () => {
      for (const [scope, environment] of [[a, 'DEV'], [aStaging, 'STAGING'], [b, 'DEV']] as const) {
        const registered = await gql<{ registerTopic: { name: string; fieldName: string } }>(
          server.url, REGISTER, { app: scope.app, env: environment, name: 'order.updated', schema: ORDER_SCHEMA }, { cookie });
        expect(registered.errors).toBeUndefined();
        expect(registered.data?.registerTopic).toEqual(expect.objectContaining({ name: 'order.updated', fieldName: 'orderUpdated' }));
      }
    });
  });

  describe('data plane', () => {
    it('should deliver a published event to typed and generic subscribers of its application environment only', async () => {
      const connA = connectWs(server.url, { apiKey: a.pk });
      const connAStaging = connectWs(server.url, { apiKey: aStaging.pk });
      const connB = connectWs(server.url, { apiKey: b.pk });
      sockets.push(connA, connAStaging, connB);
      const typed = subscribe<{ orderUpdated: Record<string, unknown> }>(connA, TYPED);
      const generic = subscribe<{ events: Record<string, unknown> }>(connA, GENERIC);
      const staging = subscribe(connAStaging, TYPED);
      const otherApp = subscribe(connB, TYPED);
      await eventually(async () => (await subscribers(channel(a, 'DEV'))) >= 1, 10_000, 'A DEV subscription');
      await eventually(async () => (await subscribers(channel(aStaging, 'STAGING'))) >= 1, 10_000, 'A STAGING subscription');
      await eventually(async () => (await subscribers(channel(b, 'DEV'))) >= 1, 10_000, 'B subscription');
      // The one process holds one Redis subscription per channel, however many GraphQL subscriptions share it.
      expect(await subscribers(channel(a, 'DEV'))).toBe(1);

      const data = { orderId: 'o-1', status: 'PAID', total: 42.5, customer: { id: 'c-9', name: 'Ada' } };
      const published = await gql<{ publish: { event: { id: string; cursor: string; time: string } } }>(
        server.url, PUBLISH, { topic: 'order.updated', data, subject: 'o-1' }, { key: a.sk });
      expect(published.errors).toBeUndefined();
      const event = published.data!.publish.event;
      expect(event.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
      expect(event.cursor).toMatch(/^[0-9a-z]+_1_\d+-\d+$/); // the first event of its history: offset 1

      await typed.waitFor(1);
      await generic.waitFor(1);
      expect(typed.results[0]?.data?.orderUpdated).toEqual({
        id: event.id, topic: 'order.updated', time: event.time, cursor: event.cursor, subject: 'o-1', data,
      });
      expect(generic.results[0]?.data?.events).toEqual({ id: event.id, topic: 'order.updated', cursor: event.cursor, data });

      // Another environment of A and application B each publish their own event: that is all they ever see.
      const stagingEvent = await gql<{ publish: { event: { id: string } } }>(
        server.url, PUBLISH, { topic: 'order.updated', data: { orderId: 's-1', status: 'NEW' } }, { key: aStaging.sk });
      const bEvent = await gql<{ publish: { event: { id: string } } }>(
        server.url, PUBLISH, { topic: 'order.updated', data: { orderId: 'b-1', status: 'NEW' } }, { key: b.sk });
      await staging.waitFor(1);
      await otherApp.waitFor(1);
      await typed.waitFor(1);
      expect(staging.results.map((r) => (r.data as { orderUpdated: { id: string } }).orderUpdated.id)).toEqual([stagingEvent.data!.publish.event.id]);
      expect(otherApp.results.map((r) => (r.data as { orderUpdated: { id: string } }).orderUpdated.id)).toEqual([bEvent.data!.publish.event.id]);
      // A DEV saw exactly its one event, after the other two were delivered elsewhere.
      expect(typed.results).toHaveLength(1);
      expect(generic.results).toHaveLength(1);
      typed.stop();
      generic.stop();
    });

    it('should refuse publishing with a publishable key, a session, or no key, and publish nothing', async () => {
      const conn = connectWs(server.url, { apiKey: a.pk });
      sockets.push(conn);
      const watcher = subscribe(conn, GENERIC);
      await eventually(async () => (await subscribers(channel(a, 'DEV'))) >= 1, 10_000, 'watcher');
      const data = { orderId: 'x', status: 'NEW' };
      expect(errorCode(await gql(server.url, PUBLISH, { topic: 'order.updated', data }, { key: a.pk }))).toBe('FORBIDDEN');
      expect(errorCode(await gql(server.url, PUBLISH, { topic: 'order.updated', data }, { cookie }))).toBe('FORBIDDEN');
      expect(errorCode(await gql(server.url, PUBLISH, { topic: 'order.updated', data }))).toBe('UNAUTHENTICATED');
      await expectNothingPublished(watcher.results);
      watcher.stop();
    });

    it('should refuse a socket without a key (4401) or with a revoked key (4401 at connect, 4403 when open)', async () => {
      const none = connectWs(server.url, {});
      expect((await none.closed).code).toBe(4401);
      const revocable = await keysFor(a.app, 'DEV');
      const open = connectWs(server.url, { apiKey: revocable.pk });
      sockets.push(open);
      const sub = subscribe(open, TYPED);
      await eventually(async () => (await subscribers(channel(a, 'DEV'))) >= 1, 10_000, 'subscription');
      const listed = await gql<{ application: { apiKeys: { id: string; hint: string }[] } }>(
        server.url, `query($id: ID!) { application(id: $id) { apiKeys { id hint } } }`, { id: a.app }, { cookie });
      const key = listed.data!.application.apiKeys.find((k) => revocable.pk.endsWith(k.hint.slice(-4)) && k.hint.startsWith('pk_'));
      const revoked = await gql<{ revokeApiKey: { revokedAt: string } }>(server.url, `mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }`, { id: key!.id }, { cookie });
      expect(revoked.data?.revokeApiKey.revokedAt).toBeTruthy();
      expect((await open.closed).code).toBe(4403);
      void sub;
      const again = connectWs(server.url, { apiKey: revocable.pk });
      expect((await again.closed).code).toBe(4401);
    });
  });

  describe('bad input', () => {
    let watcher: ReturnType<typeof subscribe>;
    let historyBefore = 0;
    const history = (): string => `${env.REALTIME_REDIS_PREFIX}:${a.app}:DEV:h:order.updated`;

    beforeAll(async () => {
      historyBefore = await redis.xlen(history());
      const conn = connectWs(server.url, { apiKey: a.pk });
      sockets.push(conn);
      watcher = subscribe(conn, GENERIC);
      await eventually(async () => (await subscribers(channel(a, 'DEV'))) >= 1, 10_000, 'watcher');
    });

    afterAll(async () => {
      // Nothing of the refused publishes was stored either: the history grew by the marker alone.
      await expectNothingPublished(watcher.results);
      expect(await redis.xlen(history())).toBe(historyBefore + 1);
      watcher.stop();
    });

    it('should answer a schema violation with BAD_USER_INPUT naming each failing path', async () => {
      const response = await gql(server.url, PUBLISH, { topic: 'order.updated', data: { orderId: 1, status: 'LOST', extra: true } }, { key: a.sk });
      expect(errorCode(response)).toBe('BAD_USER_INPUT');
      const message = response.errors![0]!.message;
      expect(message).toContain('/status');
      expect(message).toContain('"NEW", "PAID", "SHIPPED"');
      expect(message).toContain('/orderId');
      expect(message).toContain('/extra');
      expect(response.errors![0]!.extensions?.violations).toHaveLength(3);
    });

    it('should answer an unknown topic with NOT_FOUND and an invalid name with BAD_USER_INPUT', async () => {
      expect(errorCode(await gql(server.url, PUBLISH, { topic: 'order.deleted', data: {} }, { key: a.sk }))).toBe('NOT_FOUND');
      expect(errorCode(await gql(server.url, PUBLISH, { topic: 'Order Updated!', data: {} }, { key: a.sk }))).toBe('BAD_USER_INPUT');
      const badRegister = await gql(server.url, REGISTER, { app: a.app, env: 'DEV', name: 'Bad..Name', schema: ORDER_SCHEMA }, { cookie });
      expect(errorCode(badRegister)).toBe('BAD_USER_INPUT');
    });

    it('should refuse a topic schema that is not strict draft 2020-12 JSON Schema', async () => {
      const response = await gql(server.url, REGISTER, {
        app: a.app, env: 'DEV', name: 'order.created', schema: { type: 'object', propertiez: {} },
      }, { cookie });
      expect(errorCode(response)).toBe('BAD_USER_INPUT');
      expect(response.errors![0]!.message).toContain('propertiez');
    });

    it('should answer a missing, unknown or revoked key with UNAUTHENTICATED and another application with FORBIDDEN', async () => {
      const data = { orderId: 'x', status: 'NEW' };
      expect(errorCode(await gql(server.url, PUBLISH, { topic: 'order.updated', data }, { key: 'sk_dev_' + 'A'.repeat(43) }))).toBe('UNAUTHENTICATED');
      expect(errorCode(await gql(server.url, PUBLISH, { topic: 'order.updated', data }, { key: 'not-a-key' }))).toBe('UNAUTHENTICATED');
      // A's secret key may not administer B.
      const crossTenant = await gql(server.url, REGISTER, { app: b.app, env: 'DEV', name: 'order.created', schema: ORDER_SCHEMA }, { key: a.sk });
      expect(errorCode(crossTenant)).toBe('FORBIDDEN');
      const crossEnv = await gql(server.url, REGISTER, { app: a.app, env: 'PROD', name: 'order.created', schema: ORDER_SCHEMA }, { key: a.sk });
      expect(errorCode(crossEnv)).toBe('FORBIDDEN');
    });

    it('should answer a malformed body with BAD_USER_INPUT', async () => {
      const response = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${a.sk}` },
        body: '{"query": "mutation { publish(',
      });
      const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
      expect(response.status).toBe(400);
      expect(body.errors[0]?.extensions.code).toBe('BAD_USER_INPUT');
      const unparsable = await gql(server.url, 'mutation { publish(input: { topic: ', {}, { key: a.sk });
      expect(errorCode(unparsable)).toBe('BAD_USER_INPUT');
    });

    it('should answer data over the payload limit with PAYLOAD_TOO_LARGE', async () => {
      const big = { orderId: 'x'.repeat(300 * 1024), status: 'NEW' };
      const response = await gql(server.url, PUBLISH, { topic: 'order.updated', data: big }, { key: a.sk });
      expect(errorCode(response)).toBe('PAYLOAD_TOO_LARGE');
      const huge = await gql(server.url, PUBLISH, { topic: 'order.updated', data: { orderId: 'x'.repeat(2 * 1024 * 1024), status: 'NEW' } }, { key: a.sk });
      expect(huge.status).toBe(413);
      expect(errorCode(huge)).toBe('PAYLOAD_TOO_LARGE');
    });

    it('should refuse __proto__ keys in data and keep constructor keys as plain data', async () => {
      const polluted = JSON.parse('{"orderId": "p", "status": "NEW", "customer": {"id": "c", "__proto__": {"isAdmin": true}}}') as unknown;
      const response = await gql(server.url, PUBLISH, { topic: 'order.updated', data: polluted }, { key: a.sk });
      expect(errorCode(response)).toBe('BAD_USER_INPUT');
      expect(response.errors![0]!.message).toContain('/customer/__proto__');
    });
  });

  /** No event reached a subscriber of A DEV after a burst of refused publishes: a later good one is the first. */
  async function expectNothingPublished(results: { data?: unknown }[]): Promise<void> {
    const before = results.length;
    const marker = await gql<{ publish: { event: { id: string } } }>(
      server.url, PUBLISH, { topic: 'order.updated', data: { orderId: 'marker', status: 'NEW' } }, { key: a.sk });
    await eventually(() => results.length > before, 10_000, 'marker event');
    expect(results.slice(before).map((r) => (r.data as { events: { id: string } }).events.id)).toEqual([marker.data!.publish.event.id]);
  }
});
