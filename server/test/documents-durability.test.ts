/**
 * Durability of documents against a private redis-server: PostgreSQL is the commit point, so acknowledged
 * writes survive FLUSHALL (and a writer that died between its PostgreSQL commit and its Redis step is
 * repaired without versions going backwards). Never run against the shared Redis.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import jsonpatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import { buildApp, type App } from '@realtime/server';
import { connectWs, errorCode, gql, subscribe, type WsConnection } from '../../test/support/clients.js';
import { ownerWithApplication } from '../../test/support/fixtures.js';
import { cleanupConfig, eventually, startPrivateRedis, testConfig, type PrivateRedis } from '../../test/support/services.js';

interface Change {
  version: number;
  op: string;
  patch: unknown[] | null;
  state: Record<string, unknown> | null;
}
const PATCH = `mutation($id: ID!, $patch: [JSON!]!, $if: Int) { patchDocument(collection: "notes", id: $id, patch: $patch, ifVersion: $if) { version state } }`;
const READ = `query($id: ID!) { document(collection: "notes", id: $id) { version state } }`;
const WATCH = `subscription($id: ID!, $since: Int) { document(collection: "notes", id: $id, sinceVersion: $since) { version op patch state } }`;

describe('document durability', () => {
  let redisServer: PrivateRedis;
  let redis: Redis;
  let config: ReturnType<typeof testConfig>;
  let server: App;
  let url: string;
  let sk: string;
  const sockets: WsConnection[] = [];

  const patch = (id: string, ops: unknown[], ifVersion?: number) =>
    gql<{ patchDocument: { version: number; state: Record<string, unknown> } }>(url, PATCH, { id, patch: ops, if: ifVersion }, { key: sk });
  const read = async (id: string) => (await gql<{ document: { version: number; state: Record<string, unknown> } | null }>(url, READ, { id }, { key: sk })).data!.document;

  beforeAll(async () => {
    redisServer = await startPrivateRedis();
    redis = new Redis(redisServer.url);
    config = testConfig({ REDIS_URL: redisServer.url });
    server = await buildApp({ config });
    url = await server.start();
    const owner = await ownerWithApplication(url, 'Durable');
    sk = owner.sk;
    await gql(url, `mutation($app: ID!) { createCollection(input: { applicationId: $app, environment: DEV, name: "notes" }) { name } }`, { app: owner.app }, { cookie: owner.cookie });
  });

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await server?.stop();
    redis?.disconnect();
    await redisServer?.stop();
    await cleanupConfig({ ...config, redisUrl: 'redis://127.0.0.1:6379' });
  });

  it('should lose no acknowledged write when Redis is flushed in the middle of a stream of writes', async () => {
    await gql(url, `mutation { setDocument(collection: "notes", id: "log", state: { entries: [] }) { version } }`, {}, { key: sk });
    const socket = connectWs(url, { apiKey: sk });
    sockets.push(socket);
    const watch = subscribe<{ document: Change }>(socket, WATCH, { id: 'log' });
    await watch.waitFor(1);
    const acknowledged: number[] = [];
    const writes = (async () => {
      for (let n = 0; n < 60; n += 1) {
        const r = await patch('log', [{ op: 'add', path: '/entries/-', value: n }]);
        if (r.errors) throw new Error(JSON.stringify(r.errors));
        acknowledged.push(n);
      }
    })();
    await eventually(() => acknowledged.length >= 20, 20_000, 'twenty writes');
    await redis.flushall();
    await writes;
    await redis.flushall();
    // Everything acknowledged is there, in order, at the version that counts every write.
    const after = await read('log');
    expect(after).toEqual({ version: 61, state: { entries: acknowledged } });
    expect(acknowledged).toHaveLength(60);
    // The subscriber that watched through both flushes holds the same document.
    await eventually(() => watch.results.at(-1)?.data?.document.version === 61, 10_000, 'the subscriber at version 61');
    let copy: Record<string, unknown> | null = null;
    let version = 0;
    for (const { data } of watch.results) {
      const change = data!.document;
      expect(change.version).toBeGreaterThan(version);
      if (change.patch) {
        expect(change.version).toBe(version + 1);
        copy = { ...copy!, entries: [...(copy!.entries as number[]), (change.patch[0] as { value: number }).value] };
      } else copy = change.state;
      version = change.version;
    }
    expect(copy).toEqual({ entries: acknowledged });
    watch.stop();
  });

  it('should resume with a snapshot after Redis lost the patch window, and keep versions rising', async () => {
    await gql(url, `mutation { setDocument(collection: "notes", id: "resume", state: { n: 0 }) { version } }`, {}, { key: sk });
    await patch('resume', [{ op: 'replace', path: '/n', value: 1 }]);
    await redis.flushall();
    const socket = connectWs(url, { apiKey: sk });
    sockets.push(socket);
    const watch = subscribe<{ document: Change }>(socket, WATCH, { id: 'resume', since: 1 });
    await watch.waitFor(1);
    expect(watch.results[0]!.data!.document).toEqual({ version: 2, op: 'SNAPSHOT', patch: null, state: { n: 1 } });
    const next = await patch('resume', [{ op: 'replace', path: '/n', value: 2 }], 2);
    expect(next.data!.patchDocument.version).toBe(3);
    await watch.waitFor(2);
    expect(watch.results[1]!.data!.document).toMatchObject({ version: 3, op: 'PATCH' });
    watch.stop();
  });

  it('should repair Redis from PostgreSQL when a writer died after its commit, without versions going backwards', async () => {
    await gql(url, `mutation { setDocument(collection: "notes", id: "crash", state: { n: 0 }) { version } }`, {}, { key: sk });
    const socket = connectWs(url, { apiKey: sk });
    sockets.push(socket);
    const watch = subscribe<{ document: Change }>(socket, WATCH, { id: 'crash' });
    await watch.waitFor(1);
    // What a writer leaves behind when it dies between the two steps: version 2 committed in PostgreSQL only.
    await server.platform.pool.query(`UPDATE documents SET version = 2, state = '{"n":1,"orphan":true}' WHERE id = 'crash'`);
    expect(await read('crash')).toEqual({ version: 1, state: { n: 0 } });
    // A writer that read version 1 is told the truth…
    const stale = await patch('crash', [{ op: 'replace', path: '/n', value: 5 }], 1);
    expect(errorCode(stale)).toBe('CONFLICT');
    expect(stale.errors![0]!.extensions!.currentVersion).toBe(2);
    // …and Redis and subscribers now have version 2; the next write continues from it.
    expect(await read('crash')).toEqual({ version: 2, state: { n: 1, orphan: true } });
    const next = await patch('crash', [{ op: 'remove', path: '/orphan' }]);
    expect(next.data!.patchDocument).toEqual({ version: 3, state: { n: 1 } });
    await watch.waitFor(3);
    expect(watch.results.map((r) => r.data!.document)).toEqual([
      { version: 1, op: 'SNAPSHOT', patch: null, state: { n: 0 } },
      { version: 2, op: 'SNAPSHOT', patch: null, state: { n: 1, orphan: true } },
      { version: 3, op: 'PATCH', patch: [{ op: 'remove', path: '/orphan' }], state: null },
    ]);
    watch.stop();
  });
});

describe('document durability across a Redis restart', () => {
  let port: number;
  let redisChild: ChildProcess | undefined;
  let config: ReturnType<typeof testConfig>;
  let server: App;
  let url: string;
  let sk: string;
  const sockets: WsConnection[] = [];

  /** A redis-server of this test's own, without persistence, on a port it keeps across restarts. */
  const startRedis = async (): Promise<void> => {
    redisChild = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await eventually(async () => {
      const probe = new Redis(`redis://127.0.0.1:${port}`, { lazyConnect: true, retryStrategy: () => null });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        return true;
      } catch {
        return false;
      } finally {
        probe.disconnect();
      }
    }, 10_000, 'redis-server on its port');
  };
  const stopRedis = async (): Promise<void> => {
    const child = redisChild;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };

  beforeAll(async () => {
    // Borrow a free port from a private Redis, then run our own redis-server on it.
    const borrowed = await startPrivateRedis();
    port = Number(new URL(borrowed.url).port);
    await borrowed.stop();
    await startRedis();
    config = testConfig({ REDIS_URL: `redis://127.0.0.1:${port}` });
    server = await buildApp({ config });
    url = await server.start();
    const owner = await ownerWithApplication(url, 'Restart');
    sk = owner.sk;
    await gql(url, `mutation($app: ID!) { createCollection(input: { applicationId: $app, environment: DEV, name: "notes" }) { name } }`, { app: owner.app }, { cookie: owner.cookie });
  });

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await server?.stop();
    await stopRedis();
    await cleanupConfig({ ...config, redisUrl: 'redis://127.0.0.1:6379' });
  });

  it('should keep every acknowledged write when Redis restarts empty, and keep subscribers in step after it', async () => {
    await gql(url, `mutation { setDocument(collection: "notes", id: "r", state: { items: [] }) { version } }`, {}, { key: sk });
    for (let n = 0; n < 5; n += 1) {
      const r = await gql(url, PATCH, { id: 'r', patch: [{ op: 'add', path: '/items/-', value: n }] }, { key: sk });
      expect(r.errors).toBeUndefined();
    }
    const socket = connectWs(url, { apiKey: sk });
    sockets.push(socket);
    const watch = subscribe<{ document: Change }>(socket, WATCH, { id: 'r' });
    await watch.waitFor(1);
    expect(watch.results[0]!.data!.document).toMatchObject({ version: 6, op: 'SNAPSHOT' });

    await stopRedis();
    await startRedis();
    // The platform reconnects on its own; the document comes back from PostgreSQL.
    const after = await eventually(async () => {
      const r = await gql<{ document: { version: number; state: { items: number[] } } | null }>(url, READ, { id: 'r' }, { key: sk });
      return r.data?.document ?? undefined;
    }, 20_000, 'the document after the restart');
    expect(after).toEqual({ version: 6, state: { items: [0, 1, 2, 3, 4] } });
    // The subscription survived (its channel is subscribed again) and continues at version 7.
    await eventually(async () => {
      await gql(url, PATCH, { id: 'r', patch: [{ op: 'add', path: '/items/-', value: 'after' }] }, { key: sk });
      return watch.results.some((r) => (r.data?.document.version ?? 0) >= 7);
    }, 20_000, 'a change delivered after the restart');
    const versions = watch.results.map((r) => r.data!.document.version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(new Set(versions).size).toBe(versions.length);
    // The subscriber's copy, rebuilt from what it received, is the server's document at its last version.
    const last = await gql<{ document: { version: number; state: { items: unknown[] } } }>(url, READ, { id: 'r' }, { key: sk });
    await eventually(() => watch.results.at(-1)?.data?.document.version === last.data!.document.version, 10_000, 'the subscriber at the last version');
    let copy: unknown = null;
    for (const { data } of watch.results) {
      const change = data!.document;
      copy = change.patch ? jsonpatch.applyPatch(copy, change.patch as Operation[], false, false).newDocument : change.state;
    }
    expect(copy).toEqual(last.data!.document.state);
    expect(last.data!.document.state.items.slice(0, 5)).toEqual([0, 1, 2, 3, 4]);
    watch.stop();
  });
});

