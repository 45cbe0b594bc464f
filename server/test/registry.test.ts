/**
 * Schema evolution end to end, across two server instances sharing PostgreSQL and Redis: a compatible v2
 * reaches both instances' schemas without a restart; an incompatible v3 is refused with every breaking change.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '@realtime/server';
import { signInOwner, createApplication, createKey } from '../../test/support/fixtures.js';
import { connectWs, errorCode, gql, subscribe, type WsConnection } from '../../test/support/clients.js';
import { spawn } from 'node:child_process';
import { loadConfig } from '@realtime/core';
import { REPO_ROOT } from '../../test/support/server-process.js';
import { cleanupConfig, eventually, testEnv } from '../../test/support/services.js';

const V1 = {
  type: 'object',
  properties: { orderId: { type: 'string' }, status: { type: 'string', enum: ['NEW', 'PAID'] } },
  required: ['orderId', 'status'],
  additionalProperties: false,
};
const V2 = { ...V1, properties: { ...V1.properties, note: { type: 'string', description: 'Free text.' } } };
// v3 makes `note` required and narrows the status enum: two breaking changes under BACKWARD.
const V3 = { ...V2, properties: { ...V2.properties, status: { type: 'string', enum: ['NEW'] } }, required: ['orderId', 'status', 'note'] };

describe('schema registry across instances', () => {
  const env = testEnv();
  const config = loadConfig(env);
  let first: App;
  let second: App;
  let url1: string;
  let url2: string;
  let cookie: string;
  let app: string;
  let pk: string;
  let sk: string;
  const sockets: WsConnection[] = [];

  const scope = (): Record<string, unknown> => ({ applicationId: app, environment: 'DEV', topic: 'order.updated' });

  beforeAll(async () => {
    first = await buildApp({ config });
    second = await buildApp({ config });
    url1 = await first.start();
    url2 = await second.start();
    cookie = await signInOwner(url1);
    app = await createApplication(url1, cookie, 'Evolving');
    const key = (kind: 'PUBLISHABLE' | 'SECRET'): Promise<string> => createKey(url1, cookie, app, kind);
    pk = await key('PUBLISHABLE');
    sk = await key('SECRET');
  });

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await first?.stop();
    await second?.stop();
    await cleanupConfig(config);
  });

  it('should evolve a topic from v1 to v2 without a restart and refuse an incompatible v3', async () => {
    const registered = await gql<{ registerTopic: { schemaVersion: number; compatibility: string } }>(url1,
      `mutation($app: ID!, $schema: JSON!) { registerTopic(input: { applicationId: $app, environment: DEV, name: "order.updated", schema: $schema }) { schemaVersion compatibility } }`,
      { app, schema: V1 }, { cookie });
    expect(registered.data?.registerTopic).toEqual({ schemaVersion: 1, compatibility: 'BACKWARD' });

    // A v1 subscription on the second instance.
    const oldSocket = connectWs(url2, { apiKey: pk });
    sockets.push(oldSocket);
    const v1Subscription = subscribe<{ orderUpdated: { data: { orderId: string } } }>(oldSocket, `subscription { orderUpdated { data { orderId status } } }`);
    await eventually(() => second.platform.subscriber.listenerCount() === 1, 10_000, 'v1 subscription');
    const noteBefore = subscribe(oldSocket, `subscription { orderUpdated { data { note } } }`);
    const refused = (await noteBefore.ended) as { error: { extensions?: { code?: string } }[] };
    expect(refused.error[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    // v2 registered on the first instance: an optional property under a closed content model.
    const v2 = await gql<{ registerSchemaVersion: { version: number; created: boolean } }>(url1,
      `mutation($input: TopicSchemaInput!) { registerSchemaVersion(input: $input) { version created } }`,
      { input: { ...scope(), schema: V2 } }, { cookie });
    expect(v2.errors).toBeUndefined();
    expect(v2.data?.registerSchemaVersion).toEqual({ version: 2, created: true });
    const again = await gql<{ registerSchemaVersion: { version: number; created: boolean } }>(url1,
      `mutation($input: TopicSchemaInput!) { registerSchemaVersion(input: $input) { version created } }`,
      { input: { ...scope(), schema: V2 } }, { cookie });
    expect(again.data?.registerSchemaVersion).toEqual({ version: 2, created: false });

    // The second instance serves the new field within a second, without a restart.
    const deadline = Date.now() + 1_000;
    let v2Subscription: ReturnType<typeof subscribe<{ orderUpdated: { schemaVersion: number; data: { note: string | null } } }>> | undefined;
    const newSocket = connectWs(url2, { apiKey: pk });
    sockets.push(newSocket);
    while (!v2Subscription) {
      const attempt = subscribe<{ orderUpdated: { schemaVersion: number; data: { note: string | null } } }>(newSocket, `subscription { orderUpdated { schemaVersion data { note } } }`);
      const outcome = await Promise.race([attempt.ended, eventually(() => second.platform.subscriber.listenerCount() === 2, 200, 'listener').then(() => 'listening', () => 'waiting')]);
      if (outcome === 'listening') v2Subscription = attempt;
      else if (Date.now() > deadline) throw new Error(`the second instance did not serve v2 within a second: ${JSON.stringify(outcome)}`);
    }

    const published = await gql(url1, `mutation($data: JSON!) { publish(input: { topic: "order.updated", data: $data }) { event { id schemaVersion } } }`,
      { data: { orderId: 'o-2', status: 'PAID', note: 'gift wrap' } }, { key: sk });
    expect(published.errors).toBeUndefined();
    await v2Subscription.waitFor(1);
    expect(v2Subscription.results[0]?.data?.orderUpdated).toEqual({ schemaVersion: 2, data: { note: 'gift wrap' } });
    // The subscription opened under v1 keeps running.
    await v1Subscription.waitFor(1);
    expect(v1Subscription.results[0]?.data?.orderUpdated.data.orderId).toBe('o-2');

    // A producer pinned to v1 still publishes v1 data; a version that does not exist is NOT_FOUND.
    const pinned = await gql<{ publish: { event: { schemaVersion: number } } }>(url1, `mutation { publish(input: { topic: "order.updated", data: { orderId: "o-3", status: "NEW" }, schemaVersion: 1 }) { event { schemaVersion } } }`, {}, { key: sk });
    expect(pinned.data?.publish.event.schemaVersion).toBe(1);
    const missing = await gql(url1, `mutation { publish(input: { topic: "order.updated", data: { orderId: "o-3", status: "NEW" }, schemaVersion: 9 }) { event { id } } }`, {}, { key: sk });
    expect(errorCode(missing)).toBe('NOT_FOUND');

    // v3 breaks BACKWARD twice; it is refused with both changes listed, and checkCompatibility says the same.
    const v3 = await gql(url1, `mutation($input: TopicSchemaInput!) { registerSchemaVersion(input: $input) { version } }`, { input: { ...scope(), schema: V3 } }, { cookie });
    expect(errorCode(v3)).toBe('SCHEMA_INCOMPATIBLE');
    const listed = (v3.errors![0]!.extensions!.breakingChanges as { rule: string; path: string }[]).map((c) => `${c.rule} ${c.path}`).sort();
    expect(listed).toEqual(['ENUM_NARROWED /status', 'REQUIRED_ADDED /note']);
    const check = await gql<{ checkCompatibility: { compatible: boolean; breakingChanges: { rule: string }[] } }>(url1,
      `query($input: TopicSchemaInput!) { checkCompatibility(input: $input) { compatible breakingChanges { path rule message } } }`,
      { input: { ...scope(), schema: V3 } }, { key: sk });
    expect(check.data?.checkCompatibility.compatible).toBe(false);
    expect(check.data?.checkCompatibility.breakingChanges.map((c) => c.rule).sort()).toEqual(['ENUM_NARROWED', 'REQUIRED_ADDED']);

    // Nothing was registered by the refusal.
    const versions = await gql<{ schemaVersions: { version: number }[] }>(url1,
      `query($app: ID!) { schemaVersions(applicationId: $app, environment: DEV, topic: "order.updated") { version } }`, { app }, { cookie });
    expect(versions.data?.schemaVersions.map((v) => v.version)).toEqual([1, 2]);

    // With NONE, the same v3 is accepted.
    const none = await gql(url1, `mutation($app: ID!) { setTopicCompatibility(input: { applicationId: $app, environment: DEV, topic: "order.updated", compatibility: NONE }) { compatibility } }`, { app }, { cookie });
    expect(none.errors).toBeUndefined();
    const accepted = await gql<{ registerSchemaVersion: { version: number } }>(url1, `mutation($input: TopicSchemaInput!) { registerSchemaVersion(input: $input) { version } }`, { input: { ...scope(), schema: V3 } }, { cookie });
    expect(accepted.data?.registerSchemaVersion.version).toBe(3);
  });

  it('should list topics, versions and a diff between two versions', async () => {
    const topics = await gql<{ topics: { name: string; schemaVersion: number; versions: { version: number }[] }[] }>(url1,
      `query($app: ID!) { topics(applicationId: $app, environment: DEV) { name schemaVersion versions { version } } }`, { app }, { key: pk });
    expect(topics.data?.topics).toEqual([{ name: 'order.updated', schemaVersion: 3, versions: [{ version: 1 }, { version: 2 }, { version: 3 }] }]);
    const diff = await gql<{ schemaDiff: { changes: { path: string; kind: string }[]; backwardCompatible: boolean; forwardCompatible: boolean } }>(url1,
      `query($app: ID!) { schemaDiff(applicationId: $app, environment: DEV, topic: "order.updated", from: 1, to: 2) { changes { path kind } backwardCompatible forwardCompatible } }`, { app }, { cookie });
    // v1 is closed (additionalProperties: false), so v1 consumers would reject v2 data carrying `note`: not forward compatible.
    expect(diff.data?.schemaDiff).toEqual({ changes: [{ path: '/properties/note', kind: 'ADDED' }], backwardCompatible: true, forwardCompatible: false });
    const other = await gql(url1, `query { topics(applicationId: "00000000-0000-7000-8000-000000000000", environment: DEV) { name } }`, {}, { key: pk });
    expect(errorCode(other)).toBe('FORBIDDEN');
  });

  it('should export the environment’s SDL to its own keys and to console users', async () => {
    const byKey = await fetch(`${url2}/schema.graphql`, { headers: { authorization: `Bearer ${pk}` } });
    expect(byKey.status).toBe(200);
    const sdl = await byKey.text();
    expect(sdl).toMatch(/orderUpdated\([^]*?after: String[^]*?where: OrderUpdatedWhere\s*\): OrderUpdatedEvent!/);
    expect(sdl).toMatch(/type OrderUpdated \{[^}]*note: String!/);
    const byUser = await fetch(`${url2}/schema.graphql?applicationId=${app}&environment=DEV`, { headers: { cookie } });
    expect(await byUser.text()).toBe(sdl);
    const anonymous = await fetch(`${url2}/schema.graphql`);
    expect(anonymous.status).toBe(401);
  });

  it('should print the same SDL from `realtime schema export` as over HTTP', async () => {
    const viaHttp = await (await fetch(`${url1}/schema.graphql`, { headers: { authorization: `Bearer ${pk}` } })).text();
    const viaCli = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, ['server/dist/main.js', 'schema', 'export', '--application', app, '--environment', 'DEV'], {
        cwd: REPO_ROOT,
        env: { ...process.env, ...env },
      });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.on('exit', (code) => resolve({ code, out }));
    });
    expect(viaCli.code).toBe(0);
    expect(viaCli.out).toBe(viaHttp);
  });

  it('should refuse a topic whose generated type name another topic already uses, keeping names stable', async () => {
    const withCustomer = { type: 'object', properties: { customer: { type: 'object', properties: { id: { type: 'string' } } } } };
    const register = (name: string, schema: unknown) =>
      gql(url1, `mutation($app: ID!, $name: String!, $schema: JSON!) { registerTopic(input: { applicationId: $app, environment: DEV, name: $name, schema: $schema }) { name } }`,
        { app, name, schema }, { cookie });
    expect((await register('cart.changed', withCustomer)).errors).toBeUndefined();
    // `cart.changed.customer` would be named CartChangedCustomer: the nested type of cart.changed has that name.
    const clash = await register('cart.changed.customer', { type: 'object' });
    expect(errorCode(clash)).toBe('CONFLICT');
    expect(clash.errors![0]!.message).toContain('CartChangedCustomer');
    // A name that clashes with a platform type only is fine: it gets a stable suffix.
    expect((await register('user', { type: 'object', properties: { id: { type: 'string' } } })).errors).toBeUndefined();
    const sdl = await (await fetch(`${url1}/schema.graphql`, { headers: { authorization: `Bearer ${pk}` } })).text();
    expect(sdl).toMatch(/\buser\([^]*?\): UserEvent!/);
    expect(sdl).toMatch(/type UserEvent implements EventEnvelope \{[^}]*data: User2!/);
  });
});
