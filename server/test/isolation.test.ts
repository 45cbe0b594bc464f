/**
 * No cross-application or cross-environment leak, over every transport: graphql-ws, GraphQL over SSE
 * (graphql-sse protocol, distinct connections) and Yoga's HTTP event stream, plus the HTTP reads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient as createSseClient } from 'graphql-sse';
import { buildApp, type App } from '@realtime/server';
import { signInOwner } from '../../test/support/fixtures.js';
import { connectWs, errorCode, gql, subscribe, type WsConnection } from '../../test/support/clients.js';
import { cleanupConfig, eventually, testConfig } from '../../test/support/services.js';

interface Tenant {
  label: string;
  app: string;
  env: 'DEV' | 'STAGING';
  pk: string;
  sk: string;
}

const SCHEMA = { type: 'object', properties: { tenant: { type: 'string' } }, required: ['tenant'] };
const TYPED = 'subscription { orderUpdated { id data { tenant } } }';
const GENERIC = 'subscription { events(topics: ["order.updated"]) { id data } }';

describe('tenant isolation across transports', () => {
  const config = testConfig();
  let server: App;
  let url: string;
  let cookie: string;
  const tenants: Tenant[] = [];
  const sockets: WsConnection[] = [];
  const disposers: (() => void)[] = [];

  beforeAll(async () => {
    server = await buildApp({ config });
    url = await server.start();
    cookie = await signInOwner(url);
    const createApp = async (name: string): Promise<string> =>
      (await gql<{ createApplication: { id: string } }>(url, `mutation($name: String!) { createApplication(input: { name: $name }) { id } }`, { name }, { cookie })).data!.createApplication.id;
    const a = await createApp('A');
    const b = await createApp('B');
    for (const [label, app, env] of [['A-DEV', a, 'DEV'], ['A-STAGING', a, 'STAGING'], ['B-DEV', b, 'DEV']] as const) {
      const key = async (kind: string): Promise<string> =>
        (await gql<{ createApiKey: { secret: string } }>(url, `mutation($app: ID!, $env: EnvironmentName!, $kind: ApiKeyKind!) { createApiKey(input: { applicationId: $app, environment: $env, kind: $kind }) { secret } }`, { app, env, kind }, { cookie })).data!.createApiKey.secret;
      const registered = await gql(url, `mutation($app: ID!, $env: EnvironmentName!, $schema: JSON!) { registerTopic(input: { applicationId: $app, environment: $env, name: "order.updated", schema: $schema }) { id } }`, { app, env, schema: SCHEMA }, { cookie });
      expect(registered.errors).toBeUndefined();
      tenants.push({ label, app, env, pk: await key('PUBLISHABLE'), sk: await key('SECRET') });
    }
    // A topic only B has: A's keys must not reach it by name.
    await gql(url, `mutation($app: ID!) { registerTopic(input: { applicationId: $app, environment: DEV, name: "b.only", schema: { type: "object" } }) { id } }`, { app: b }, { cookie });
  });

  afterAll(async () => {
    disposers.forEach((d) => d());
    await Promise.all(sockets.map((s) => s.dispose()));
    await server?.stop();
    await cleanupConfig(config);
  });

  it('should deliver to every transport exactly the events of its own application environment', async () => {
    type Received = { label: string; transport: string; tenants: string[] };
    const received: Received[] = [];
    for (const tenant of tenants) {
      // graphql-ws: typed and generic.
      const socket = connectWs(url, { apiKey: tenant.pk });
      sockets.push(socket);
      for (const [transport, query] of [['ws typed', TYPED], ['ws events', GENERIC]] as const) {
        const entry: Received = { label: tenant.label, transport, tenants: [] };
        received.push(entry);
        const sub = subscribe<Record<string, { data: { tenant: string } }>>(socket, query);
        disposers.push(sub.stop);
        void (async () => {
          for (;;) {
            await sub.waitFor(entry.tenants.length + 1, 60_000).catch(() => undefined);
            const next = sub.results[entry.tenants.length];
            if (!next) return;
            entry.tenants.push(Object.values(next.data ?? {})[0]?.data.tenant ?? `error:${String(next.errors?.[0]?.extensions?.code)}`);
          }
        })();
      }
      // graphql-sse, distinct connections mode.
      const sse = createSseClient({ url: `${url}/graphql/stream`, headers: { authorization: `Bearer ${tenant.pk}` }, singleConnection: false, retryAttempts: 0 });
      const sseEntry: Received = { label: tenant.label, transport: 'graphql-sse', tenants: [] };
      received.push(sseEntry);
      disposers.push(
        sse.subscribe<{ orderUpdated: { data: { tenant: string } } }>(
          { query: TYPED },
          { next: (r) => sseEntry.tenants.push(r.data?.orderUpdated.data.tenant ?? `error:${String(r.errors?.[0]?.message)}`), error: () => undefined, complete: () => undefined },
        ),
        () => sse.dispose(),
      );
      // Yoga's own event stream over plain HTTP.
      const controller = new AbortController();
      disposers.push(() => controller.abort());
      const httpEntry: Received = { label: tenant.label, transport: 'http event-stream', tenants: [] };
      received.push(httpEntry);
      void fetch(`${url}/graphql`, {
        method: 'POST',
        signal: controller.signal,
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${tenant.pk}` },
        body: JSON.stringify({ query: TYPED }),
      }).then(async (response) => {
        const reader = response.body!.getReader();
        let text = '';
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          text += new TextDecoder().decode(value);
          for (const match of text.matchAll(/^data: (.+)$/gm)) {
            const payload = JSON.parse(match[1]!) as { data?: { orderUpdated: { data: { tenant: string } } } };
            if (payload.data) httpEntry.tenants.push(payload.data.orderUpdated.data.tenant);
          }
          text = text.slice(text.lastIndexOf('\n\n') + 2);
        }
      }).catch(() => undefined);
    }
    // 4 subscriptions per tenant: ws typed, ws events, graphql-sse, http event-stream.
    await eventually(() => server.platform.subscriber.listenerCount() === tenants.length * 4, 15_000, 'every subscription');

    for (const tenant of tenants) {
      const published = await gql(url, `mutation($tenant: String!) { publish(input: { topic: "order.updated", data: { tenant: $tenant } }) { event { id } } }`, { tenant: tenant.label }, { key: tenant.sk });
      expect(published.errors).toBeUndefined();
    }
    await eventually(() => received.every((r) => r.tenants.length >= 1), 15_000, 'a delivery on every transport');
    await new Promise((r) => setTimeout(r, 300)); // time for any leaked event to show up
    for (const entry of received) {
      expect({ transport: entry.transport, label: entry.label, got: entry.tenants }).toEqual({ transport: entry.transport, label: entry.label, got: [entry.label] });
    }
  });

  it('should not let a key read or subscribe to another application environment over HTTP', async () => {
    const [aDev, aStaging, bDev] = tenants as [Tenant, Tenant, Tenant];
    expect(errorCode(await gql(url, `query($app: ID!) { topics(applicationId: $app, environment: DEV) { name } }`, { app: bDev.app }, { key: aDev.pk }))).toBe('FORBIDDEN');
    expect(errorCode(await gql(url, `query($app: ID!) { topics(applicationId: $app, environment: DEV) { name } }`, { app: aStaging.app }, { key: aStaging.pk }))).toBe('FORBIDDEN');
    expect((await gql<{ application: unknown }>(url, `query($id: ID!) { application(id: $id) { id } }`, { id: bDev.app }, { key: aDev.sk })).data?.application).toBeNull();
    const apps = await gql<{ applications: { id: string; environments: { name: string }[] }[] }>(url, `{ applications { id environments { name } } }`, {}, { key: aStaging.pk });
    expect(apps.data?.applications).toEqual([{ id: aStaging.app, environments: [{ name: 'STAGING' }] }]);
    const sdl = await (await fetch(`${url}/schema.graphql`, { headers: { authorization: `Bearer ${aDev.pk}` } })).text();
    expect(sdl).not.toContain('bOnly');
    const socket = connectWs(url, { apiKey: aDev.pk });
    sockets.push(socket);
    const sub = subscribe(socket, 'subscription { events(topics: ["b.only"]) { id } }');
    await sub.waitFor(1);
    expect(errorCode(sub.results[0]!)).toBe('NOT_FOUND');
  });
});
