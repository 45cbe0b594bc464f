/**
 * Sync over the wire: documents read, set, patched and deleted over HTTP, watched over graphql-ws, with
 * optimistic concurrency, clear errors for bad patches, claim-based authorization and tenant isolation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import { createClient as createSseClient } from 'graphql-sse';
import { buildApp, type App } from '@realtime/server';
import { connectWs, errorCode, gql, subscribe, type WsConnection } from '../../test/support/clients.js';
import { createApplication, createKey, ownerWithApplication } from '../../test/support/fixtures.js';
import { cleanupConfig, eventually, testConfig } from '../../test/support/services.js';

interface Doc {
  version: number;
  state: Record<string, unknown> | null;
}
interface Change {
  version: number;
  op: string;
  exists: boolean;
  patch: unknown[] | null;
  state: Record<string, unknown> | null;
}

const DOC = `query($c: String!, $id: ID!) { document(collection: $c, id: $id) { collection id version state updatedAt } }`;
const SET = `mutation($c: String!, $id: ID!, $state: JSON!, $if: Int) { setDocument(collection: $c, id: $id, state: $state, ifVersion: $if) { version state updatedAt } }`;
const PATCH = `mutation($c: String!, $id: ID!, $patch: [JSON!]!, $if: Int) { patchDocument(collection: $c, id: $id, patch: $patch, ifVersion: $if) { version state } }`;
const DELETE = `mutation($c: String!, $id: ID!, $if: Int) { deleteDocument(collection: $c, id: $id, ifVersion: $if) { version } }`;
const WATCH = `subscription($c: String!, $id: ID!, $since: Int) { document(collection: $c, id: $id, sinceVersion: $since) { version op exists patch state } }`;
const CREATE = `mutation($app: ID!, $name: String!, $public: Boolean, $clientWrites: Boolean, $rules: [DocumentRuleInput!]) {
  createCollection(input: { applicationId: $app, environment: DEV, name: $name, public: $public, clientWrites: $clientWrites, rules: $rules }) { name public clientWrites rules { claim match } } }`;

describe('documents', () => {
  const config = testConfig({ REALTIME_DOCUMENT_PATCH_WINDOW: '5', REALTIME_MAX_DOCUMENT_BYTES: '4096' });
  let server: App;
  let url: string;
  let owner: { cookie: string; app: string; pk: string; sk: string };
  const sockets: WsConnection[] = [];

  const read = async (key: string, c: string, id: string): Promise<Doc | null> => {
    const r = await gql<{ document: Doc | null }>(url, DOC, { c, id }, { key });
    expect(r.errors).toBeUndefined();
    return r.data!.document;
  };
  const set = (key: string, c: string, id: string, state: unknown, ifVersion?: number) =>
    gql<{ setDocument: Doc }>(url, SET, { c, id, state, if: ifVersion }, { key });
  const patch = (key: string, c: string, id: string, ops: unknown[], ifVersion?: number) =>
    gql<{ patchDocument: Doc }>(url, PATCH, { c, id, patch: ops, if: ifVersion }, { key });
  const ws = (params: Record<string, unknown>): WsConnection => {
    const socket = connectWs(url, params);
    sockets.push(socket);
    return socket;
  };

  beforeAll(async () => {
    server = await buildApp({ config });
    url = await server.start();
    owner = await ownerWithApplication(url, 'Docs');
    const created = await gql(url, CREATE, { app: owner.app, name: 'boards' }, { cookie: owner.cookie });
    expect(created.data).toEqual({ createCollection: { name: 'boards', public: false, clientWrites: false, rules: [] } });
  });

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await server?.stop();
    await cleanupConfig(config);
  });

  describe('writes', () => {
    it('should create, read, patch and delete a document with versions rising by one', async () => {
      expect(await read(owner.sk, 'boards', 'b1')).toBeNull();
      const created = await set(owner.sk, 'boards', 'b1', { title: 'Plan', cards: [] }, 0);
      expect(created.errors).toBeUndefined();
      expect(created.data!.setDocument).toMatchObject({ version: 1, state: { title: 'Plan', cards: [] } });
      const patched = await patch(owner.sk, 'boards', 'b1', [
        { op: 'add', path: '/cards/-', value: { text: 'a' } },
        { op: 'test', path: '/title', value: 'Plan' },
        { op: 'replace', path: '/title', value: 'Plan B' },
      ], 1);
      expect(patched.errors).toBeUndefined();
      expect(patched.data!.patchDocument).toEqual({ version: 2, state: { title: 'Plan B', cards: [{ text: 'a' }] } });
      expect(await read(owner.sk, 'boards', 'b1')).toMatchObject({ version: 2, state: { title: 'Plan B', cards: [{ text: 'a' }] } });
      const deleted = await gql<{ deleteDocument: { version: number } }>(url, DELETE, { c: 'boards', id: 'b1', if: 2 }, { key: owner.sk });
      expect(deleted.data).toEqual({ deleteDocument: { version: 3 } });
      expect(await read(owner.sk, 'boards', 'b1')).toBeNull();
      expect(errorCode(await patch(owner.sk, 'boards', 'b1', [{ op: 'add', path: '/x', value: 1 }]))).toBe('NOT_FOUND');
      // Created again, the version continues: a subscriber never sees a version twice.
      const again = await set(owner.sk, 'boards', 'b1', { title: 'Again' }, 3);
      expect(again.data!.setDocument).toMatchObject({ version: 4, state: { title: 'Again' } });
      const listed = await gql<{ documents: { id: string; version: number }[] }>(url, `{ documents(collection: "boards") { id version } }`, {}, { key: owner.sk });
      expect(listed.data!.documents).toContainEqual({ id: 'b1', version: 4 });
      // Pages by id: `after` is the last id of the previous page; deleted documents are not listed.
      await set(owner.sk, 'boards', 'b2', { title: 'Two' });
      await set(owner.sk, 'boards', 'b3', { title: 'Three' });
      await gql(url, DELETE, { c: 'boards', id: 'b2' }, { key: owner.sk });
      const page = await gql<{ documents: { id: string }[] }>(url, `{ documents(collection: "boards", first: 1, after: "b1") { id } }`, {}, { key: owner.sk });
      expect(page.data!.documents).toEqual([{ id: 'b3' }]);
    });

    it('should refuse a stale ifVersion with CONFLICT and the current version, writing nothing', async () => {
      await set(owner.sk, 'boards', 'c1', { n: 0 });
      await patch(owner.sk, 'boards', 'c1', [{ op: 'replace', path: '/n', value: 1 }]);
      const stale = await patch(owner.sk, 'boards', 'c1', [{ op: 'replace', path: '/n', value: 99 }], 1);
      expect(errorCode(stale)).toBe('CONFLICT');
      expect(stale.errors![0]!.extensions!.currentVersion).toBe(2);
      expect(errorCode(await set(owner.sk, 'boards', 'c1', { n: 98 }, 0))).toBe('CONFLICT');
      expect(await read(owner.sk, 'boards', 'c1')).toMatchObject({ version: 2, state: { n: 1 } });
    });

    it('should apply concurrent patches without ifVersion one after another, losing none', async () => {
      await set(owner.sk, 'boards', 'counter', { hits: [] });
      const results = await Promise.all(
        Array.from({ length: 25 }, (_, n) => patch(owner.sk, 'boards', 'counter', [{ op: 'add', path: '/hits/-', value: n }])),
      );
      expect(results.map((r) => r.errors)).toEqual(results.map(() => undefined));
      expect(new Set(results.map((r) => r.data!.patchDocument.version)).size).toBe(25);
      const final = await read(owner.sk, 'boards', 'counter');
      expect(final!.version).toBe(26);
      expect([...(final!.state!.hits as number[])].sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, n) => n));
    });

    it('should let exactly one of many concurrent writes with the same ifVersion win, and refuse the rest with CONFLICT', async () => {
      await set(owner.sk, 'boards', 'race', { winner: null });
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, n) => patch(owner.sk, 'boards', 'race', [{ op: 'replace', path: '/winner', value: n }], 1)),
      );
      const winners = results.filter((r) => !r.errors);
      expect(winners).toHaveLength(1);
      expect(results.filter((r) => errorCode(r) === 'CONFLICT')).toHaveLength(11);
      expect(results.filter((r) => errorCode(r) === 'CONFLICT').every((r) => r.errors![0]!.extensions!.currentVersion === 2)).toBe(true);
      expect(await read(owner.sk, 'boards', 'race')).toMatchObject(winners[0]!.data!.patchDocument);
    });

    it('should refuse only the bad write among concurrent ones, as if they ran one after another', async () => {
      await set(owner.sk, 'boards', 'mixed', { list: [] });
      const results = await Promise.all([
        patch(owner.sk, 'boards', 'mixed', [{ op: 'add', path: '/list/-', value: 'a' }]),
        patch(owner.sk, 'boards', 'mixed', [{ op: 'add', path: '/list/-', value: 'b' }, { op: 'test', path: '/list/0', value: 'nope' }]),
        patch(owner.sk, 'boards', 'mixed', [{ op: 'add', path: '/list/-', value: 'c' }]),
        patch(owner.sk, 'boards', 'mixed', [{ op: 'remove', path: '/missing' }]),
      ]);
      expect(results.map((r) => errorCode(r) ?? 'ok')).toEqual(['ok', 'BAD_USER_INPUT', 'ok', 'BAD_USER_INPUT']);
      expect(results.filter((r) => !r.errors).map((r) => r.data!.patchDocument.version).sort()).toEqual([2, 3]);
      const final = await read(owner.sk, 'boards', 'mixed');
      expect(final!.version).toBe(3);
      expect([...(final!.state!.list as string[])].sort()).toEqual(['a', 'c']);
    });

    it('should answer bad patches with the operation index and path, and leave the document unchanged', async () => {
      await set(owner.sk, 'boards', 'bad', { a: 1, list: [1, 2] });
      // 61 levels deep: each copy of /a into itself adds one.
      const nested = Array.from({ length: 60 }).reduce<Record<string, unknown>>((inner) => ({ x: inner }), {});
      await set(owner.sk, 'boards', 'deep', { a: nested });
      const cases: [unknown[], string, string][] = [
        [[{ op: 'replace', path: '/a', value: 2 }, { op: 'jump', path: '/a' }], 'patch[1] (/a)', 'not one of add'],
        [[{ op: 'replace', path: '/a', value: 2 }, { op: 'test', path: '/a', value: 1 }], 'patch[1] (/a)', 'failed'],
        [[{ op: 'remove', path: '/missing/deeper' }], 'patch[0] (/missing/deeper)', 'does not exist'],
        [[{ op: 'replace', path: '/nothing', value: 1 }], 'patch[0] (/nothing)', 'does not exist'],
        [[{ op: 'add', path: '/list/7', value: 1 }], 'patch[0] (/list/7)', 'past the end'],
        [[{ op: 'add', path: 'a', value: 1 }], 'patch[0] (a)', 'JSON Pointer'],
        [[{ op: 'add', path: '/b' }], 'patch[0] (/b)', 'needs a "value"'],
        [[{ op: 'add', path: '/__proto__/x', value: 1 }], 'patch[0] (/__proto__/x)', '__proto__'],
        [[{ op: 'replace', path: '', value: [1] }], 'patchDocument', 'JSON object'],
        [[], 'patch must be', '1–1000'],
      ];
      for (const [ops, where, why] of cases) {
        const response = await patch(owner.sk, 'boards', 'bad', ops);
        expect(errorCode(response), JSON.stringify(ops)).toBe('BAD_USER_INPUT');
        expect(response.errors![0]!.message).toContain(where);
        expect(response.errors![0]!.message).toContain(why);
      }
      const failedTest = await patch(owner.sk, 'boards', 'bad', [{ op: 'replace', path: '/a', value: 5 }, { op: 'test', path: '/a', value: 1 }]);
      expect(failedTest.errors![0]!.extensions).toMatchObject({ index: 1, path: '/a', reason: 'TEST_OPERATION_FAILED' });
      // copy can nest the document into itself; the result is checked like any value (depth ≤ 64).
      let deep: Awaited<ReturnType<typeof patch>> | undefined;
      for (let n = 0; n < 8 && !deep?.errors; n += 1) deep = await patch(owner.sk, 'boards', 'deep', [{ op: 'copy', from: '/a', path: '/a/b' }]);
      expect(errorCode(deep!)).toBe('BAD_USER_INPUT');
      expect(deep!.errors![0]!.message).toContain('nested deeper than 64 levels');
      const tooBig = await patch(owner.sk, 'boards', 'bad', [{ op: 'add', path: '/blob', value: 'x'.repeat(5000) }]);
      expect(errorCode(tooBig)).toBe('PAYLOAD_TOO_LARGE');
      expect(tooBig.errors![0]!.message).toContain('limit is 4096 bytes (REALTIME_MAX_DOCUMENT_BYTES)');
      expect(errorCode(await set(owner.sk, 'boards', 'bad', { blob: 'x'.repeat(5000) }))).toBe('PAYLOAD_TOO_LARGE');
      expect(errorCode(await set(owner.sk, 'boards', 'bad', ['not', 'an', 'object']))).toBe('BAD_USER_INPUT');
      expect(await read(owner.sk, 'boards', 'bad')).toMatchObject({ version: 1, state: { a: 1, list: [1, 2] } });
      const { rows } = await server.platform.pool.query<{ version: string }>(`SELECT version FROM documents WHERE id = 'bad'`);
      expect(rows).toEqual([{ version: '1' }]);
    });

    it('should refuse invalid collection names and document ids, and unknown collections', async () => {
      const badName = await gql(url, CREATE, { app: owner.app, name: 'Bad Name' }, { cookie: owner.cookie });
      expect(errorCode(badName)).toBe('BAD_USER_INPUT');
      expect(badName.errors![0]!.message).toContain('invalid collection name "Bad Name"');
      expect(errorCode(await set(owner.sk, 'boards', 'a/b', { x: 1 }))).toBe('BAD_USER_INPUT');
      const unknown = await set(owner.sk, 'nothing.here', 'x', { x: 1 });
      expect(errorCode(unknown)).toBe('NOT_FOUND');
      expect(unknown.errors![0]!.message).toContain('create it first (createCollection)');
    });

    it('should show sets and deletes in the history of realtime.document.changed', async () => {
      await set(owner.sk, 'boards', 'hist', { v: 1 });
      await patch(owner.sk, 'boards', 'hist', [{ op: 'replace', path: '/v', value: 2 }]);
      await gql(url, DELETE, { c: 'boards', id: 'hist' }, { key: owner.sk });
      const redis = new Redis(config.redisUrl);
      try {
        const entries = await eventually(async () => {
          const all = await redis.xrange(`${config.redisKeyPrefix}:${owner.app}:DEV:h:realtime.document.changed`, '-', '+');
          const mine = all.map(([, fields]) => JSON.parse(fields[3]!) as { subject: string; data: Record<string, unknown> }).filter((e) => e.subject === 'boards/hist');
          return mine.length === 2 ? mine : undefined;
        }, 10_000, 'two document events');
        expect(entries.map((e) => e.data)).toEqual([
          { collection: 'boards', id: 'hist', version: 1, op: 'SET', state: { v: 1 } },
          { collection: 'boards', id: 'hist', version: 3, op: 'DELETE' },
        ]);
      } finally {
        redis.disconnect();
      }
    });
  });

  describe('subscriptions', () => {
    it('should send a snapshot first, then each change in version order', async () => {
      await set(owner.sk, 'boards', 'live', { items: [] });
      const socket = ws({ apiKey: owner.sk });
      const watch = subscribe<{ document: Change }>(socket, WATCH, { c: 'boards', id: 'live' });
      await watch.waitFor(1);
      expect(watch.results[0]!.data!.document).toEqual({ version: 1, op: 'SNAPSHOT', exists: true, patch: null, state: { items: [] } });
      await patch(owner.sk, 'boards', 'live', [{ op: 'add', path: '/items/-', value: 'a' }]);
      await set(owner.sk, 'boards', 'live', { items: ['z'] });
      await gql(url, DELETE, { c: 'boards', id: 'live' }, { key: owner.sk });
      await watch.waitFor(4);
      expect(watch.results.slice(1).map((r) => r.data!.document)).toEqual([
        { version: 2, op: 'PATCH', exists: true, patch: [{ op: 'add', path: '/items/-', value: 'a' }], state: null },
        { version: 3, op: 'SET', exists: true, patch: null, state: { items: ['z'] } },
        { version: 4, op: 'DELETE', exists: false, patch: null, state: null },
      ]);
      watch.stop();
    });

    it('should show a document that does not exist as version 0, then its creation', async () => {
      const socket = ws({ apiKey: owner.sk });
      const watch = subscribe<{ document: Change }>(socket, WATCH, { c: 'boards', id: 'later' });
      await watch.waitFor(1);
      expect(watch.results[0]!.data!.document).toEqual({ version: 0, op: 'SNAPSHOT', exists: false, patch: null, state: null });
      await set(owner.sk, 'boards', 'later', { hello: 'world' });
      await watch.waitFor(2);
      expect(watch.results[1]!.data!.document).toMatchObject({ version: 1, op: 'SET', state: { hello: 'world' } });
      watch.stop();
    });

    it('should catch a reconnecting client up with patches inside the window and with a snapshot beyond it', async () => {
      await set(owner.sk, 'boards', 'resume', { n: 0 });
      for (let n = 1; n <= 3; n += 1) await patch(owner.sk, 'boards', 'resume', [{ op: 'replace', path: '/n', value: n }]);
      const socket = ws({ apiKey: owner.sk });
      // Version 2 → 4: patches 3 and 4 are in the window of 5.
      const near = subscribe<{ document: Change }>(socket, WATCH, { c: 'boards', id: 'resume', since: 2 });
      await near.waitFor(2);
      expect(near.results.map((r) => r.data!.document)).toEqual([
        { version: 3, op: 'PATCH', exists: true, patch: [{ op: 'replace', path: '/n', value: 2 }], state: null },
        { version: 4, op: 'PATCH', exists: true, patch: [{ op: 'replace', path: '/n', value: 3 }], state: null },
      ]);
      // Up to date: nothing until the next change.
      const current = subscribe<{ document: Change }>(socket, WATCH, { c: 'boards', id: 'resume', since: 4 });
      for (let n = 4; n <= 10; n += 1) await patch(owner.sk, 'boards', 'resume', [{ op: 'replace', path: '/n', value: n }]);
      await current.waitFor(7);
      expect(current.results.map((r) => r.data!.document.version)).toEqual([5, 6, 7, 8, 9, 10, 11]);
      expect(current.results.every((r) => r.data!.document.op === 'PATCH')).toBe(true);
      // Version 2 → 11 is older than the window (5): a snapshot.
      const far = subscribe<{ document: Change }>(socket, WATCH, { c: 'boards', id: 'resume', since: 2 });
      await far.waitFor(1);
      expect(far.results[0]!.data!.document).toEqual({ version: 11, op: 'SNAPSHOT', exists: true, patch: null, state: { n: 10 } });
      [near, current, far].forEach((s) => s.stop());
    });

    it('should deliver the same changes over GraphQL over SSE', async () => {
      await set(owner.sk, 'boards', 'sse', { n: 0 });
      const sse = createSseClient({ url: `${url}/graphql/stream`, headers: { authorization: `Bearer ${owner.sk}` }, singleConnection: false, retryAttempts: 0 });
      const got: Change[] = [];
      const stop = sse.subscribe<{ document: Change }>(
        { query: WATCH, variables: { c: 'boards', id: 'sse' } },
        { next: (r) => r.data && got.push(r.data.document), error: () => undefined, complete: () => undefined },
      );
      try {
        await eventually(() => got.length >= 1, 10_000, 'the snapshot over SSE');
        await patch(owner.sk, 'boards', 'sse', [{ op: 'replace', path: '/n', value: 1 }]);
        await eventually(() => got.length >= 2, 10_000, 'the patch over SSE');
        expect(got).toEqual([
          { version: 1, op: 'SNAPSHOT', exists: true, patch: null, state: { n: 0 } },
          { version: 2, op: 'PATCH', exists: true, patch: [{ op: 'replace', path: '/n', value: 1 }], state: null },
        ]);
      } finally {
        stop();
        sse.dispose();
      }
    });

    it('should refuse a negative sinceVersion', async () => {
      const socket = ws({ apiKey: owner.sk });
      const bad = subscribe(socket, WATCH, { c: 'boards', id: 'x', since: -1 });
      await bad.waitFor(1);
      expect(errorCode(bad.results[0]!)).toBe('BAD_USER_INPUT');
    });
  });

  describe('authorization', () => {
    let jwtSecret: string;
    const token = (claims: Record<string, unknown>): Promise<string> =>
      new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime('1h').sign(new TextEncoder().encode(jwtSecret));
    /** A publishable key with an end-user token, over graphql-ws (where tokens travel in connectionParams). */
    const asUser = async (claims: Record<string, unknown>) => {
      const socket = ws({ apiKey: owner.pk, token: await token(claims) });
      const run = async (query: string, variables: Record<string, unknown>) => {
        const s = subscribe<Record<string, unknown>>(socket, query, variables);
        await s.waitFor(1);
        return s.results[0]!;
      };
      return { socket, run };
    };

    beforeAll(async () => {
      const rotated = await gql<{ rotateJwtSecret: { secret: string } }>(url, `mutation($app: ID!) { rotateJwtSecret(applicationId: $app, environment: DEV) { secret } }`, { app: owner.app }, { cookie: owner.cookie });
      jwtSecret = rotated.data!.rotateJwtSecret.secret;
      for (const [name, extra] of [
        ['news', { public: true }],
        ['profiles', { clientWrites: true, rules: [{ claim: 'sub' }] }],
        ['team.notes', { public: true, clientWrites: true, rules: [{ claim: 'team', match: 'PREFIX' }] }],
      ] as const) {
        const r = await gql(url, CREATE, { app: owner.app, name, ...extra }, { cookie: owner.cookie });
        expect(r.errors).toBeUndefined();
      }
      await set(owner.sk, 'news', 'today', { headline: 'Hello' });
      await set(owner.sk, 'profiles', 'alice', { name: 'Alice' });
      await set(owner.sk, 'profiles', 'bob', { name: 'Bob' });
      await set(owner.sk, 'team.notes', 'red:1', { text: 'red' });
      await set(owner.sk, 'team.notes', 'blue:1', { text: 'blue' });
    });

    it('should let publishable keys read public collections only, and never write without clientWrites', async () => {
      expect(await read(owner.pk, 'news', 'today')).toMatchObject({ state: { headline: 'Hello' } });
      const hidden = await gql(url, DOC, { c: 'boards', id: 'c1' }, { key: owner.pk });
      expect(errorCode(hidden)).toBe('FORBIDDEN');
      expect(hidden.errors![0]!.message).toContain('collection "boards" is not public');
      const write = await set(owner.pk, 'news', 'today', { headline: 'Hacked' });
      expect(errorCode(write)).toBe('FORBIDDEN');
      const socket = ws({ apiKey: owner.pk });
      const watch = subscribe(socket, WATCH, { c: 'boards', id: 'c1' });
      await watch.waitFor(1);
      expect(errorCode(watch.results[0]!)).toBe('FORBIDDEN');
      expect(await read(owner.pk, 'news', 'today')).toMatchObject({ version: 1 });
    });

    it('should apply an access change at once, keeping the settings not named', async () => {
      const SET_ACCESS = `mutation($app: ID!, $public: Boolean) { setCollectionAccess(input: { applicationId: $app, environment: DEV, name: "boards", public: $public }) { name public clientWrites rules { claim } } }`;
      expect(errorCode(await gql(url, DOC, { c: 'boards', id: 'c1' }, { key: owner.pk }))).toBe('FORBIDDEN');
      const opened = await gql(url, SET_ACCESS, { app: owner.app, public: true }, { key: owner.sk });
      expect(opened.data).toEqual({ setCollectionAccess: { name: 'boards', public: true, clientWrites: false, rules: [] } });
      expect(await read(owner.pk, 'boards', 'c1')).toMatchObject({ version: 2 });
      expect(errorCode(await gql(url, SET_ACCESS, { app: owner.app, public: false }, { key: owner.pk }))).toBe('FORBIDDEN');
      await gql(url, SET_ACCESS, { app: owner.app, public: false }, { key: owner.sk });
      expect(errorCode(await gql(url, DOC, { c: 'boards', id: 'c1' }, { key: owner.pk }))).toBe('FORBIDDEN');
      const listed = await gql<{ collections: { name: string }[] }>(url, `query($app: ID!) { collections(applicationId: $app, environment: DEV) { name } }`, { app: owner.app }, { key: owner.pk });
      expect(listed.data!.collections.map((c) => c.name)).toEqual(['boards', 'news', 'profiles', 'team.notes']);
    });

    it('should bind end users to their own documents by claim, for reads, writes and subscriptions', async () => {
      const alice = await asUser({ sub: 'alice', documents: ['profiles', 'team.*'], team: 'red' });
      expect((await alice.run(DOC, { c: 'profiles', id: 'alice' })).data).toMatchObject({ document: { state: { name: 'Alice' } } });
      const other = await alice.run(DOC, { c: 'profiles', id: 'bob' });
      expect(errorCode(other)).toBe('FORBIDDEN');
      expect(other.errors![0]!.message).toContain('its id must equal your "sub" claim');
      const own = await alice.run(PATCH, { c: 'profiles', id: 'alice', patch: [{ op: 'add', path: '/bio', value: 'hi' }] });
      expect(own.errors).toBeUndefined();
      expect(errorCode(await alice.run(PATCH, { c: 'profiles', id: 'bob', patch: [{ op: 'add', path: '/bio', value: 'x' }] }))).toBe('FORBIDDEN');
      expect((await alice.run(DOC, { c: 'team.notes', id: 'red:1' })).data).toMatchObject({ document: { state: { text: 'red' } } });
      expect(errorCode(await alice.run(DOC, { c: 'team.notes', id: 'blue:1' }))).toBe('FORBIDDEN');
      const watchBob = await alice.run(WATCH, { c: 'profiles', id: 'bob' });
      expect(errorCode(watchBob)).toBe('FORBIDDEN');
      // Public, but bound by rules: never readable without a token.
      const anonymous = await gql(url, DOC, { c: 'team.notes', id: 'red:1' }, { key: owner.pk });
      expect(anonymous.errors![0]!.message).toContain('binds documents to end users');
      const listed = await alice.run(`query { documents(collection: "team.notes") { id } }`, {});
      expect(listed.data).toEqual({ documents: [{ id: 'red:1' }] });
      expect(await read(owner.sk, 'profiles', 'bob')).toMatchObject({ version: 1, state: { name: 'Bob' } });
    });

    it('should refuse end users whose token does not grant the collection or lacks the bound claim', async () => {
      const noGrant = await asUser({ sub: 'alice' });
      const refused = await noGrant.run(DOC, { c: 'profiles', id: 'alice' });
      expect(refused.errors![0]!.message).toContain('"documents" claim does not grant collection "profiles"');
      const noTeam = await asUser({ sub: 'carol', documents: ['**'] });
      const missing = await noTeam.run(DOC, { c: 'team.notes', id: 'red:1' });
      expect(missing.errors![0]!.message).toContain('the "team" claim, which the token lacks');
    });

    it('should keep applications apart: another application’s keys neither read nor write these documents', async () => {
      const otherApp = await createApplication(url, owner.cookie, 'Other');
      const otherSk = await createKey(url, owner.cookie, otherApp, 'SECRET');
      // Same collection name in the other application: its own, empty documents.
      await gql(url, CREATE, { app: otherApp, name: 'boards' }, { cookie: owner.cookie });
      expect(await read(otherSk, 'boards', 'c1')).toBeNull();
      await set(otherSk, 'boards', 'c1', { mine: true });
      expect(await read(owner.sk, 'boards', 'c1')).toMatchObject({ version: 2, state: { n: 1 } });
      const named = await gql(url, `query($app: ID!) { document(collection: "boards", id: "c1", applicationId: $app, environment: DEV) { version } }`, { app: owner.app }, { key: otherSk });
      expect(errorCode(named)).toBe('FORBIDDEN');
      const watch = subscribe<{ document: Change }>(ws({ apiKey: otherSk }), WATCH, { c: 'boards', id: 'c1' });
      await watch.waitFor(1);
      expect(watch.results[0]!.data!.document).toMatchObject({ version: 1, state: { mine: true } });
      await patch(owner.sk, 'boards', 'c1', [{ op: 'replace', path: '/n', value: 7 }]);
      await set(otherSk, 'boards', 'c1', { mine: 'still' });
      await watch.waitFor(2);
      expect(watch.results.map((r) => r.data!.document.version)).toEqual([1, 2]);
      watch.stop();
    });

    it('should let signed-in users read and write any application’s documents by naming it', async () => {
      const r = await gql<{ setDocument: Doc }>(url, `mutation($app: ID!) { setDocument(collection: "news", id: "console", state: { by: "owner" }, applicationId: $app, environment: DEV) { version } }`, { app: owner.app }, { cookie: owner.cookie });
      expect(r.data).toEqual({ setDocument: { version: 1 } });
      const missing = await gql(url, `{ document(collection: "news", id: "console") { version } }`, {}, { cookie: owner.cookie });
      expect(errorCode(missing)).toBe('BAD_USER_INPUT');
    });
  });
});
