/** The API role built in-process on a free port, spoken to over real HTTP and real WebSockets. */
import { execFileSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicKeys } from '@realtime/core';
import { buildApp, type App } from '@realtime/server';
import { connectWs, errorCode, gql, subscribe, type WsConnection } from '../../test/support/clients.js';
import { ownerWithApplication } from '../../test/support/fixtures.js';
import { cleanupConfig, eventually, testConfig } from '../../test/support/services.js';
import { usePlatform } from '../../test/support/platform.js';

const SCHEMA = { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] };

async function setUp(url: string): Promise<{ cookie: string; app: string; pk: string; sk: string }> {
  const owner = await ownerWithApplication(url, 'A');
  await gql(url, `mutation($app: ID!, $schema: JSON!) { registerTopic(input: { applicationId: $app, environment: DEV, name: "tick", schema: $schema }) { id } }`, { app: owner.app, schema: SCHEMA }, { cookie: owner.cookie });
  return owner;
}

describe('API role (in-process)', () => {
  const config = testConfig({ REALTIME_MAX_QUERY_DEPTH: '3', REALTIME_MAX_SUBSCRIPTIONS_PER_CONNECTION: '20', REALTIME_LISTEN_BACKLOG: '1234' });
  let app: App;
  let url: string;
  let ctx: Awaited<ReturnType<typeof setUp>>;
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

  describe('health', () => {
    it('should answer liveness, readiness with each backing service, and Prometheus metrics', async () => {
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const ready = await fetch(`${url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ postgres: true, redis: true });
      await gql(url, `mutation { publish(input: { topic: "tick", data: { n: 1 } }) { event { id } } }`, {}, { key: ctx.sk });
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/realtime_publish_total\{outcome="ok"\} [1-9]/);
      expect(metrics).toContain('realtime_ws_connections');
      expect(metrics).toContain('realtime_process_cpu_user_seconds_total');
      // Event-loop delay is still reported, sampled every 100 ms rather than prom-client's 10 ms.
      expect(metrics).toMatch(/^realtime_nodejs_eventloop_lag_p99_seconds \d/m);
    });
  });

  it('should listen with the configured backlog, so a reconnect storm is queued by the kernel rather than dropped', () => {
    // For a listening socket, ss reports the backlog as its Send-Q.
    const line = execFileSync('ss', ['-Hltn', `sport = :${new URL(url).port}`], { encoding: 'utf8' }).trim();
    expect(line.split(/\s+/)[2]).toBe('1234');
  });

  describe('request size', () => {
    /** POSTs `body` to /graphql, declaring its length or (chunked) not. */
    const post = (body: string, declareLength: boolean): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        const { port } = new URL(url);
        const req = httpRequest({ host: '127.0.0.1', port, path: '/graphql', method: 'POST', headers: {
          'content-type': 'application/json', authorization: `Bearer ${ctx.sk}`,
          ...(declareLength ? { 'content-length': Buffer.byteLength(body) } : {}),
        } }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.on('error', reject);
        // Sent in pieces, so a chunked body's size is only known while it arrives.
        for (let at = 0; at < body.length; at += 64 * 1024) req.write(body.slice(at, at + 64 * 1024));
        req.end();
      });

    it('should refuse a body over REALTIME_MAX_REQUEST_BYTES with 413 PAYLOAD_TOO_LARGE, declared or chunked, and publish nothing', async () => {
      const history = topicKeys(config.redisKeyPrefix, { applicationId: ctx.app, environment: 'DEV' }, 'tick').history;
      const before = await app.platform.redis.xlen(history);
      const big = JSON.stringify({ query: `mutation($d: JSON!) { publish(input: { topic: "tick", data: $d }) { event { id } } }`, variables: { d: { n: 1, pad: 'x'.repeat(config.maxRequestBytes) } } });
      for (const declareLength of [true, false]) {
        const answer = await post(big, declareLength);
        expect(answer.status).toBe(413);
        expect(JSON.parse(answer.body).errors[0]).toMatchObject({ extensions: { code: 'PAYLOAD_TOO_LARGE' }, message: expect.stringContaining('REALTIME_MAX_REQUEST_BYTES') });
      }
      expect(await app.platform.redis.xlen(history)).toBe(before);
      const small = await post(JSON.stringify({ query: `mutation { publish(input: { topic: "tick", data: { n: 2 } }) { event { id } } }` }), false);
      expect(small.status).toBe(200);
      expect(await app.platform.redis.xlen(history)).toBe(before + 1);
    });
  });

  describe('subscriptions', () => {
    it('should release every listener after 1,000 subscriptions ended by complete or by closing the socket', async () => {
      const { subscriber } = app.platform;
      let socket = connectWs(url, { apiKey: ctx.pk });
      for (let round = 0; round < 100; round += 1) {
        const subs = Array.from({ length: 10 }, () => subscribe(socket, `subscription { tick { id data { n } } }`));
        await eventually(() => subscriber.listenerCount() === 10, 10_000, `round ${round} subscribed`);
        if (round % 10 === 9) {
          await socket.dispose();
          socket = connectWs(url, { apiKey: ctx.pk });
        } else {
          subs.forEach((s) => s.stop());
        }
        await eventually(() => subscriber.listenerCount() === 0, 10_000, `round ${round} released`);
      }
      await socket.dispose();
      await eventually(() => subscriber.channelCount() === 0, 10_000, 'channels released');
      expect(subscriber.listenerCount()).toBe(0);
    });

    it('should refuse a subscription past the per-connection limit with TOO_MANY_SUBSCRIPTIONS', async () => {
      const socket = connectWs(url, { apiKey: ctx.pk });
      sockets.push(socket);
      for (let i = 0; i < 20; i += 1) subscribe(socket, `subscription { tick { id } }`);
      await eventually(() => app.platform.subscriber.listenerCount() === 20, 10_000, 'twenty subscriptions');
      const extra = subscribe(socket, `subscription { tick { id } }`);
      const ended = (await extra.ended) as { error: { extensions?: { code?: string } }[] };
      expect(ended.error[0]?.extensions?.code).toBe('TOO_MANY_SUBSCRIPTIONS');
      await socket.dispose();
      await eventually(() => app.platform.subscriber.listenerCount() === 0, 10_000, 'released');
    });

    it('should answer a subscription to an unregistered topic with NOT_FOUND', async () => {
      const socket = connectWs(url, { apiKey: ctx.pk });
      sockets.push(socket);
      const sub = subscribe(socket, `subscription { events(topics: ["nope.never"]) { id } }`);
      await sub.waitFor(1);
      expect(errorCode(sub.results[0]!)).toBe('NOT_FOUND');
    });
  });

  describe('limits are identical over HTTP and WebSocket', () => {
    const deep = `query { applications { environments { topics { schema } } } }`;

    it('should refuse a query deeper than the limit with QUERY_TOO_DEEP on both transports', async () => {
      const http = await gql(url, deep, {}, { cookie: ctx.cookie });
      expect(errorCode(http)).toBe('QUERY_TOO_DEEP');
      const socket = connectWs(url, { apiKey: ctx.pk });
      sockets.push(socket);
      const ws = subscribe(socket, deep);
      const ended = (await ws.ended) as { error: { message: string; extensions?: { code?: string } }[] };
      expect(ended.error[0]?.extensions?.code).toBe('QUERY_TOO_DEEP');
      expect(ended.error[0]?.message).toBe(http.errors?.[0]?.message);
    });

    it('should answer unknown fields with BAD_USER_INPUT on both transports', async () => {
      const query = `query { nope }`;
      const http = await gql(url, query, {}, { key: ctx.pk });
      expect(errorCode(http)).toBe('BAD_USER_INPUT');
      const socket = connectWs(url, { apiKey: ctx.pk });
      sockets.push(socket);
      const ended = (await subscribe(socket, query).ended) as { error: { extensions?: { code?: string; graphqlCode?: string } }[] };
      expect(ended.error[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', graphqlCode: 'GRAPHQL_VALIDATION_FAILED' });
    });

    it('should answer a query that does not validate with 400 under graphql-response+json and 200 under plain JSON, as documented', async () => {
      const post = async (accept: string, body: unknown): Promise<{ status: number; code: unknown }> => {
        const response = await fetch(`${url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept, authorization: `Bearer ${ctx.pk}` },
          body: JSON.stringify(body),
        });
        const json = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
        return { status: response.status, code: json.errors?.[0]?.extensions?.code };
      };
      const invalid = { query: 'query { nope }' };
      expect(await post('application/graphql-response+json', invalid)).toEqual({ status: 400, code: 'BAD_USER_INPUT' });
      expect(await post('application/json', invalid)).toEqual({ status: 200, code: 'BAD_USER_INPUT' });
      expect(await post('*/*', invalid)).toEqual({ status: 200, code: 'BAD_USER_INPUT' });
      // A malformed request, not a malformed query: 400 whatever is accepted.
      expect(await post('application/json', { query: '{ __typename }', variables: 5 })).toEqual({ status: 400, code: 'BAD_USER_INPUT' });
    });

    it('should close a socket that sends more than the WebSocket message limit (1009) or never initialises (4408)', async () => {
      const { default: WebSocket } = await import('ws');
      const open = async (): Promise<{ socket: InstanceType<typeof WebSocket>; closed: Promise<number> }> => {
        const socket = new WebSocket(`${url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
        const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
        await new Promise((resolve) => socket.once('open', resolve));
        return { socket, closed };
      };
      const big = await open();
      big.socket.send(JSON.stringify({ type: 'connection_init', payload: { apiKey: ctx.pk, pad: 'x'.repeat(config.maxWsMessageBytes) } }));
      expect(await big.closed).toBe(1009);
      const silent = await open(); // sends nothing: closed after REALTIME_CONNECTION_INIT_TIMEOUT_MS (3 s)
      expect(await silent.closed).toBe(4408);
    });

    it('should give an API key its environment’s typed schema over HTTP too', async () => {
      const typed = await gql<{ __type: { name: string } | null }>(url, `{ __type(name: "TickEvent") { name } }`, {}, { key: ctx.pk });
      expect(typed.data?.__type?.name).toBe('TickEvent');
      const base = await gql<{ __type: { name: string } | null }>(url, `{ __type(name: "TickEvent") { name } }`, {}, { cookie: ctx.cookie });
      expect(base.data?.__type).toBeNull();
    });
  });
});

describe('operation cache and size', () => {
  const platform = usePlatform({ REALTIME_OPERATION_CACHE_SIZE: '2', REALTIME_MAX_QUERY_TOKENS: '200' });
  const parsed = async (): Promise<number> => {
    const metrics = await (await fetch(`${platform.url}/metrics`)).text();
    return Number(/^realtime_graphql_operations_parsed_total (\d+)/m.exec(metrics)?.[1]);
  };

  it('should parse and validate an operation once while it is among the REALTIME_OPERATION_CACHE_SIZE last used, and count each parse', async () => {
    const { url } = platform;
    const run = async (name: string): Promise<void> => {
      const response = await gql(url, `query ${name} { __typename }`);
      expect(response.data).toEqual({ __typename: 'Query' });
    };
    const start = await parsed();
    await run('A');
    await run('B');
    expect(await parsed()).toBe(start + 2);
    await run('B'); // kept: no parse
    await run('A');
    expect(await parsed()).toBe(start + 2);
    await run('C'); // a third: B, the least recently used, is dropped
    expect(await parsed()).toBe(start + 3);
    await run('A');
    expect(await parsed()).toBe(start + 3);
    await run('B');
    expect(await parsed()).toBe(start + 4);
    // A text that does not parse is kept with its error, and answered the same each time.
    for (let i = 0; i < 2; i += 1) {
      const response = await gql(url, 'query { __typename');
      expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', graphqlCode: 'GRAPHQL_PARSE_FAILED' });
    }
    expect(await parsed()).toBe(start + 5);
    // The cache also holds at most 256 bytes of text per entry (512 here): a longer text is parsed every time.
    const long = `# ${'x'.repeat(600)}\nquery D { __typename }`;
    for (let i = 0; i < 2; i += 1) expect((await gql(url, long)).data).toEqual({ __typename: 'Query' });
    expect(await parsed()).toBe(start + 7);
  });

  it('should refuse an operation with more tokens than REALTIME_MAX_QUERY_TOKENS with QUERY_TOO_LARGE on both transports', async () => {
    const { url } = platform;
    const owner = await ownerWithApplication(url, 'Tokens');
    // `{`, 3 per alias (`a0`, `:`, `__typename`), `}`: 66 aliases make 200 tokens, the limit; 67 make 203.
    const fields = (n: number): string => Array.from({ length: n }, (_, i) => `a${i}: __typename`).join(' ');
    expect((await gql(url, `{ ${fields(66)} }`)).data).toMatchObject({ a65: 'Query' });
    const http = await gql(url, `{ ${fields(67)} }`);
    expect(http.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_LARGE');
    expect(http.errors?.[0]?.message).toBe('the operation has more than 200 tokens (REALTIME_MAX_QUERY_TOKENS); split it or select less');
    const socket = connectWs(url, { apiKey: owner.pk });
    try {
      const ended = (await subscribe(socket, `subscription { ${fields(67)} }`).ended) as { error: { message: string; extensions?: { code?: string } }[] };
      expect(ended.error[0]?.extensions?.code).toBe('QUERY_TOO_LARGE');
      expect(ended.error[0]?.message).toBe(http.errors?.[0]?.message);
    } finally {
      await socket.dispose();
    }
  });
});

describe('graceful stop', () => {
  it('should finish an in-flight request, close sockets with 1001, then release PostgreSQL and Redis', async () => {
    const config = testConfig();
    const app = await buildApp({ config });
    const url = await app.start();
    try {
      const ctx = await setUp(url);
      const socket = connectWs(url, { apiKey: ctx.pk });
      const sub = subscribe(socket, `subscription { tick { id } }`);
      await eventually(() => app.platform.subscriber.listenerCount() === 1, 10_000, 'subscription');

      // A request whose body is still arriving when the stop begins.
      const body = JSON.stringify({ query: `mutation { publish(input: { topic: "tick", data: { n: 7 } }) { event { id } } }` });
      const { port } = new URL(url);
      const inFlight = new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path: '/graphql', method: 'POST', headers: {
          'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${ctx.sk}`,
        } }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.on('error', reject);
        req.write(body.slice(0, 10));
        setTimeout(() => req.end(body.slice(10)), 300);
      });
      await new Promise((r) => setTimeout(r, 100));
      const stopped = app.stop();
      expect((await socket.closed).code).toBe(1001);
      const finished = await inFlight;
      expect(finished.status).toBe(200);
      expect(JSON.parse(finished.body)).toMatchObject({ data: { publish: { event: { id: expect.any(String) } } } });
      await stopped;
      expect(app.platform.pool.totalCount).toBe(0);
      expect(app.platform.redis.status).toBe('end');
      void sub;
    } finally {
      await app.stop();
      await cleanupConfig(config);
    }
  });
});

describe('a backing service going away', () => {
  it('should report not ready and answer SERVICE_UNAVAILABLE while its own Redis is down', async () => {
    // A Redis server of this test's own (real, on a free port), so stopping it disturbs nobody else.
    const { spawn } = await import('node:child_process');
    const { freePort } = await import('../../test/support/services.js');
    const port = await freePort();
    const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const config = testConfig({ REDIS_URL: `redis://127.0.0.1:${port}` });
    try {
      await eventually(async () => {
        try {
          const { Redis } = await import('ioredis');
          const probe = new Redis(config.redisUrl, { lazyConnect: true, retryStrategy: () => null });
          probe.on('error', () => undefined);
          await probe.connect();
          probe.disconnect();
          return true;
        } catch {
          return false;
        }
      }, 10_000, 'private redis-server');
      const app = await buildApp({ config });
      const url = await app.start();
      try {
        const ctx = await setUp(url);
        expect((await fetch(`${url}/readyz`)).status).toBe(200);
        redis.kill('SIGKILL');
        await new Promise((resolve) => redis.once('exit', resolve));
        const ready = await fetch(`${url}/readyz`);
        expect(ready.status).toBe(503);
        expect(await ready.json()).toMatchObject({ postgres: true, redis: false });
        const publish = await gql(url, `mutation { publish(input: { topic: "tick", data: { n: 1 } }) { event { id } } }`, {}, { key: ctx.sk });
        expect(errorCode(publish)).toBe('SERVICE_UNAVAILABLE');
      } finally {
        await app.stop();
      }
    } finally {
      redis.kill('SIGKILL');
      await cleanupConfig({ ...config, redisUrl: 'redis://127.0.0.1:6379' });
    }
  });
});

describe('query cost limit', () => {
  it('should refuse a query costlier than the limit with QUERY_TOO_COSTLY over HTTP and WebSocket', async () => {
    const config = testConfig({ REALTIME_MAX_QUERY_COST: '40' });
    const app = await buildApp({ config });
    const url = await app.start();
    try {
      const ctx = await setUp(url);
      const costly = `{ applications { id name createdAt environments { name topics { id name fieldName schemaVersion } } apiKeys { id hint kind name createdAt revokedAt } } }`;
      const http = await gql(url, costly, {}, { cookie: ctx.cookie });
      expect(errorCode(http)).toBe('QUERY_TOO_COSTLY');
      const socket = connectWs(url, { apiKey: ctx.pk });
      const ended = (await subscribe(socket, costly).ended) as { error: { extensions?: { code?: string } }[] };
      expect(ended.error[0]?.extensions?.code).toBe('QUERY_TOO_COSTLY');
      await socket.dispose();
      // An ordinary subscription stays well under it.
      const cheap = await gql(url, `{ me { id email } }`, {}, { cookie: ctx.cookie });
      expect(cheap.errors).toBeUndefined();
    } finally {
      await app.stop();
      await cleanupConfig(config);
    }
  });
});
