/**
 * End-user authorization over real sockets: protected topics, topic grants and claim-bound filters from
 * JWTs (HS256 with the environment's secret; RS256 and EdDSA from a JWKS served over real HTTP), expiry
 * closing the socket with 4403 unless a fresh token arrives in a ping.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { createClient as createSseClient } from 'graphql-sse';
import { buildApp, type App } from '@realtime/server';
import { signInOwner, createApplication, createKey } from '../../test/support/fixtures.js';
import { connectWs, errorCode, gql, subscribe, type WsConnection } from '../../test/support/clients.js';
import { cleanupConfig, eventually, testConfig } from '../../test/support/services.js';

type Order = { orderUpdated: { data: { customerId: string; n: number } } };
const ORDERS = 'subscription { orderUpdated { data { customerId n } } }';

describe('end-user tokens', () => {
  const config = testConfig();
  let server: App;
  let url: string;
  let cookie: string;
  let app: string;
  let pk: string;
  let sk: string;
  let jwtSecret: string;
  let jwks: Server;
  const sockets: WsConnection[] = [];

  const hs256 = (claims: Record<string, unknown>, expiresIn = '1h'): Promise<string> =>
    new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime(expiresIn).sign(new TextEncoder().encode(jwtSecret));
  const publishOrder = async (customerId: string, n: number): Promise<void> => {
    const r = await gql(url, `mutation($data: JSON!) { publish(input: { topic: "order.updated", data: $data }) { event { id } } }`, { data: { customerId, n } }, { key: sk });
    expect(r.errors).toBeUndefined();
  };

  beforeAll(async () => {
    server = await buildApp({ config });
    url = await server.start();
    cookie = await signInOwner(url);
    app = await createApplication(url, cookie, 'Shop');
    const key = (kind: 'PUBLISHABLE' | 'SECRET'): Promise<string> => createKey(url, cookie, app, kind);
    pk = await key('PUBLISHABLE');
    sk = await key('SECRET');
    const protectedTopic = await gql(url, `mutation($app: ID!) { registerTopic(input: { applicationId: $app, environment: DEV, name: "order.updated", access: PROTECTED,
      claimFilters: [{ path: "customerId", claim: "sub" }],
      schema: { type: "object", properties: { customerId: { type: "string" }, n: { type: "integer" } }, required: ["customerId"] } }) { access claimFilters { path claim } } }`, { app }, { cookie });
    expect(protectedTopic.data).toEqual({ registerTopic: { access: 'PROTECTED', claimFilters: [{ path: 'customerId', claim: 'sub' }] } });
    await gql(url, `mutation($app: ID!) { registerTopic(input: { applicationId: $app, environment: DEV, name: "news.posted", schema: { type: "object" } }) { id } }`, { app }, { cookie });
    const rotated = await gql<{ rotateJwtSecret: { secret: string } }>(url, `mutation($app: ID!) { rotateJwtSecret(applicationId: $app, environment: DEV) { secret } }`, { app }, { cookie });
    jwtSecret = rotated.data!.rotateJwtSecret.secret;
    // Stored encrypted, never in clear.
    const { rows } = await server.platform.pool.query<{ jwt_secret_encrypted: string }>('SELECT jwt_secret_encrypted FROM environments WHERE application_id = $1 AND name = $2', [app, 'DEV']);
    expect(rows[0]!.jwt_secret_encrypted).toMatch(/^v1\./);
    expect(rows[0]!.jwt_secret_encrypted).not.toContain(jwtSecret);
  });

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await server?.stop();
    jwks?.close();
    await cleanupConfig(config);
  });

  it('should refuse a protected topic without a token or without a grant, and serve public topics to anyone', async () => {
    const anonymous = connectWs(url, { apiKey: pk });
    sockets.push(anonymous);
    const refused = subscribe(anonymous, ORDERS);
    await refused.waitFor(1);
    expect(errorCode(refused.results[0]!)).toBe('FORBIDDEN');
    const news = subscribe(anonymous, 'subscription { newsPosted { id } }');
    await eventually(() => server.platform.subscriber.listenerCount() >= 1, 10_000, 'news subscription');
    news.stop();
    const carol = connectWs(url, { apiKey: pk, token: await hs256({ sub: 'carol', topics: ['news.*'] }) });
    sockets.push(carol);
    const notGranted = subscribe(carol, ORDERS);
    await notGranted.waitFor(1);
    expect(notGranted.results[0]!.errors?.[0]?.message).toContain('does not grant "order.updated"');
  });

  it('should deliver to each end user only the events bound to their claims', async () => {
    const alice = connectWs(url, { apiKey: pk, token: await hs256({ sub: 'alice', topics: ['order.*'] }) });
    const bob = connectWs(url, { apiKey: pk, token: await hs256({ sub: 'bob', topics: ['**'] }) });
    const backend = connectWs(url, { apiKey: sk });
    sockets.push(alice, bob, backend);
    const forAlice = subscribe<Order>(alice, ORDERS);
    const forBob = subscribe<Order>(bob, ORDERS);
    const all = subscribe<Order>(backend, ORDERS);
    await eventually(() => server.platform.subscriber.listenerCount() === 3, 10_000, 'three subscriptions');
    for (const [customer, n] of [['alice', 1], ['bob', 2], ['alice', 3], ['mallory', 4]] as const) await publishOrder(customer, n);
    await all.waitFor(4);
    await forAlice.waitFor(2);
    await forBob.waitFor(1);
    await new Promise((r) => setTimeout(r, 200));
    expect(forAlice.results.map((r) => r.data!.orderUpdated.data.n)).toEqual([1, 3]);
    expect(forBob.results.map((r) => r.data!.orderUpdated.data.n)).toEqual([2]);
    expect(all.results.map((r) => r.data!.orderUpdated.data.n)).toEqual([1, 2, 3, 4]); // secret keys are trusted servers
    forAlice.stop();
    forBob.stop();
    all.stop();
  });

  it('should authorize end users over SSE with the x-realtime-token header', async () => {
    // Earlier tests' subscriptions must be gone, or the readiness check below could count them.
    await eventually(() => server.platform.subscriber.listenerCount() === 0, 10_000, 'earlier subscriptions released');
    const sse = createSseClient({
      url: `${url}/graphql/stream`,
      headers: { authorization: `Bearer ${pk}`, 'x-realtime-token': await hs256({ sub: 'alice', topics: ['order.*'] }) },
      singleConnection: false,
      retryAttempts: 0,
    });
    const got: number[] = [];
    const stop = sse.subscribe<Order>({ query: ORDERS }, { next: (r) => got.push(r.data?.orderUpdated.data.n ?? -1), error: () => undefined, complete: () => undefined });
    await eventually(() => server.platform.subscriber.listenerCount() >= 1, 10_000, 'sse subscription');
    await publishOrder('bob', 10);
    await publishOrder('alice', 11);
    await eventually(() => got.length >= 1, 10_000, 'sse delivery');
    await new Promise((r) => setTimeout(r, 200));
    expect(got).toEqual([11]);
    stop();
    sse.dispose();
    const forged = await new SignJWT({ sub: 'eve', topics: ['**'] }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('nope'));
    const refused = await gql(url, '{ topics(applicationId: "x", environment: DEV) { name } }', {}, { key: pk });
    expect(errorCode(refused)).toBe('FORBIDDEN');
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${pk}`, 'x-realtime-token': forged },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    const body = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
    expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    await eventually(() => server.platform.subscriber.listenerCount() === 0, 10_000, 'released');
  });

  it('should refuse a connection whose token is forged or expired with 4401', async () => {
    const forged = await new SignJWT({ sub: 'eve', topics: ['**'] }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('not-the-secret'));
    expect((await connectWs(url, { apiKey: pk, token: forged }).closed).code).toBe(4401);
    const expired = await hs256({ sub: 'alice', topics: ['order.*'] }, '-10s');
    expect((await connectWs(url, { apiKey: pk, token: expired }).closed).code).toBe(4401);
  });

  it('should close the socket with 4403 when the token expires, unless a fresh token was sent in a ping', async () => {
    const shortLived = connectWs(url, { apiKey: pk, token: await hs256({ sub: 'alice', topics: ['order.*'] }, '2s') });
    sockets.push(shortLived);
    subscribe(shortLived, ORDERS);

    // The refreshing client speaks the protocol directly: graphql-ws clients send pings without payloads.
    const raw = new WebSocket(`${url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    const messages: { type: string; payload?: unknown }[] = [];
    const rawClosed = new Promise<number>((resolve) => raw.once('close', (code) => resolve(code)));
    raw.on('message', (m) => messages.push(JSON.parse(String(m)) as { type: string }));
    await new Promise((resolve) => raw.once('open', resolve));
    raw.send(JSON.stringify({ type: 'connection_init', payload: { apiKey: pk, token: await hs256({ sub: 'bob', topics: ['order.*'] }, '2s') } }));
    await eventually(() => messages.some((m) => m.type === 'connection_ack'), 5_000, 'ack');
    raw.send(JSON.stringify({ type: 'ping', payload: { token: await hs256({ sub: 'bob', topics: ['order.*'] }, '1h') } }));
    await eventually(() => messages.some((m) => m.type === 'pong'), 5_000, 'pong');

    expect((await shortLived.closed).code).toBe(4403);
    // Past the first token's expiry the refreshed socket still works.
    await new Promise((r) => setTimeout(r, 500));
    await eventually(() => server.platform.subscriber.listenerCount() === 0, 10_000, 'the expired subscription released');
    raw.send(JSON.stringify({ id: 's1', type: 'subscribe', payload: { query: ORDERS } }));
    await eventually(() => server.platform.subscriber.listenerCount() >= 1, 10_000, 'refreshed subscription');
    await publishOrder('bob', 42);
    await eventually(() => messages.some((m) => m.type === 'next'), 5_000, 'delivery after refresh');
    raw.close();
    expect(await rawClosed).toBe(1005);
  });

  it('should end an SSE stream with UNAUTHENTICATED when its token expires and with FORBIDDEN when its key is revoked', async () => {
    const created = await gql<{ createApiKey: { secret: string; key: { id: string } } }>(
      url,
      `mutation($app: ID!) { createApiKey(input: { applicationId: $app, environment: DEV, kind: PUBLISHABLE }) { secret key { id } } }`,
      { app },
      { cookie },
    );
    const revocable = created.data!.createApiKey;
    const open = (key: string, token: string): { codes: string[]; ended: Promise<void> } => {
      const codes: string[] = [];
      let done: () => void = () => undefined;
      const ended = new Promise<void>((resolve) => (done = resolve));
      const sse = createSseClient({ url: `${url}/graphql/stream`, headers: { authorization: `Bearer ${key}`, 'x-realtime-token': token }, singleConnection: false, retryAttempts: 0 });
      sse.subscribe(
        { query: ORDERS },
        {
          next: (r) => codes.push(...(r.errors ?? []).map((e) => String((e as { extensions?: { code?: string } }).extensions?.code))),
          error: () => done(),
          complete: () => done(),
        },
      );
      return { codes, ended };
    };
    await eventually(() => server.platform.subscriber.listenerCount() === 0, 10_000, 'earlier subscriptions released');
    const expiring = open(pk, await hs256({ sub: 'alice', topics: ['order.*'] }, '2s'));
    const revoked = open(revocable.secret, await hs256({ sub: 'alice', topics: ['order.*'] }));
    await eventually(() => server.platform.subscriber.listenerCount() >= 2, 10_000, 'both streams subscribed');
    const revoke = await gql(url, `mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }`, { id: revocable.key.id }, { cookie });
    expect(revoke.errors).toBeUndefined();
    await revoked.ended;
    expect(revoked.codes).toEqual(['FORBIDDEN']);
    await expiring.ended;
    expect(expiring.codes).toEqual(['UNAUTHENTICATED']);
    await eventually(() => server.platform.subscriber.listenerCount() === 0, 10_000, 'both subscriptions released');
  });

  it('should verify RS256 and EdDSA tokens with keys from the environment’s JWKS URL', async () => {
    const rsa = await generateKeyPair('RS256');
    const ed = await generateKeyPair('EdDSA');
    const keys = [{ ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256' }, { ...(await exportJWK(ed.publicKey)), kid: 'ed-1', alg: 'EdDSA' }];
    jwks = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
    const set = await gql(url, `mutation($app: ID!, $url: String) { setJwksUrl(applicationId: $app, environment: DEV, jwksUrl: $url) }`, { app, url: jwksUrl }, { cookie });
    expect(set.errors).toBeUndefined();
    for (const [alg, key, kid] of [['RS256', rsa.privateKey, 'rsa-1'], ['EdDSA', ed.privateKey, 'ed-1']] as const) {
      const token = await new SignJWT({ sub: 'alice', topics: ['order.updated'] }).setProtectedHeader({ alg, kid }).setExpirationTime('1h').sign(key);
      await eventually(() => server.platform.subscriber.listenerCount() === 0, 10_000, 'earlier subscriptions released');
      const conn = connectWs(url, { apiKey: pk, token });
      sockets.push(conn);
      const sub = subscribe<Order>(conn, ORDERS);
      await eventually(() => server.platform.subscriber.listenerCount() >= 1, 10_000, `${alg} subscription`);
      await publishOrder('alice', 7);
      await sub.waitFor(1);
      expect(sub.results[0]!.data!.orderUpdated.data.n).toBe(7);
      sub.stop();
      await conn.dispose();
      await eventually(() => server.platform.subscriber.listenerCount() === 0, 10_000, 'released');
    }
  });
});
