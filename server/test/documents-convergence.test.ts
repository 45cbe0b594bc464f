/**
 * Property: several clients patch one document concurrently — with and without ifVersion, retrying on
 * CONFLICT, dropping their connection at random and resuming with sinceVersion — and every client's copy,
 * built only from what its subscription delivered, ends equal to the server's state and version. Each
 * client also checks that patches arrive in version order with no gap and no duplicate. Two server instances
 * share the Redis and PostgreSQL: writes and subscriptions go to either, so writes race across processes
 * (PostgreSQL compare-and-set) as well as within one (the lane's batches).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import jsonpatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import { buildApp, type App } from '@realtime/server';
import { connectWs, gql, type WsConnection } from '../../test/support/clients.js';
import { ownerWithApplication } from '../../test/support/fixtures.js';
import { cleanupConfig, eventually, testConfig } from '../../test/support/services.js';

interface State {
  tags: Record<string, number>;
  list: number[];
  counter: number;
}
interface Change {
  version: number;
  op: 'SNAPSHOT' | 'SET' | 'PATCH' | 'DELETE';
  patch: Operation[] | null;
  state: State | null;
}

type Action =
  | { kind: 'patch'; edit: 'tag' | 'untag' | 'push' | 'pop' | 'increment' | 'move'; key: number; value: number; guarded: boolean; via: number }
  | { kind: 'reconnect'; awayMs: number }
  | { kind: 'pause'; ms: number };

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('patch' as const),
      edit: fc.constantFrom('tag' as const, 'untag' as const, 'push' as const, 'pop' as const, 'increment' as const, 'move' as const),
      key: fc.integer({ min: 0, max: 4 }),
      value: fc.integer({ min: -1000, max: 1000 }),
      guarded: fc.boolean(),
      via: fc.integer({ min: 0, max: 1 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('reconnect' as const), awayMs: fc.integer({ min: 0, max: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('pause' as const), ms: fc.integer({ min: 0, max: 15 }) }) },
);

const WATCH = `subscription($id: ID!, $since: Int) { document(collection: "rooms", id: $id, sinceVersion: $since) { version op patch state } }`;
const PATCH = `mutation($id: ID!, $patch: [JSON!]!, $if: Int) { patchDocument(collection: "rooms", id: $id, patch: $patch, ifVersion: $if) { version } }`;

/**
 * The operations for an edit. A guarded edit (sent with ifVersion) may depend on the client's copy — it
 * removes, tests and moves — because the server applies it to that very version or refuses it. An
 * unguarded edit only adds, so it is valid on whatever version the server applies it to.
 */
function operationsFor(a: Extract<Action, { kind: 'patch' }>, state: State): Operation[] {
  const key = `k${a.key}`;
  if (!a.guarded) return a.edit === 'push' || a.edit === 'pop' ? [{ op: 'add', path: '/list/-', value: a.value }] : [{ op: 'add', path: `/tags/${key}`, value: a.value }];
  switch (a.edit) {
    case 'untag':
      return key in state.tags ? [{ op: 'remove', path: `/tags/${key}` }] : [{ op: 'add', path: `/tags/${key}`, value: a.value }];
    case 'pop':
      return state.list.length > 0 ? [{ op: 'remove', path: `/list/${Math.abs(a.value) % state.list.length}` }] : [{ op: 'add', path: '/list/0', value: a.value }];
    case 'increment':
      return [
        { op: 'test', path: '/counter', value: state.counter },
        { op: 'replace', path: '/counter', value: state.counter + 1 },
      ];
    case 'move':
      return key in state.tags ? [{ op: 'move', from: `/tags/${key}`, path: '/tags/moved' }] : [{ op: 'copy', from: '/counter', path: `/tags/${key}` }];
    default:
      return [{ op: 'add', path: a.edit === 'push' ? '/list/-' : `/tags/${key}`, value: a.value }];
  }
}

describe('document convergence', () => {
  // A small window, so resumes take both paths: patches when close, a snapshot when far behind.
  const config = testConfig({ REALTIME_DOCUMENT_PATCH_WINDOW: '4' });
  const servers: App[] = [];
  const urls: string[] = [];
  let sk: string;
  const stats = { patchResumes: 0, snapshotResumes: 0, conflicts: 0, reconnects: 0 };

  beforeAll(async () => {
    for (let i = 0; i < 2; i += 1) {
      const server = await buildApp({ config });
      servers.push(server);
      urls.push(await server.start());
    }
    const url = urls[0]!;
    const owner = await ownerWithApplication(url, 'Sync');
    sk = owner.sk;
    const created = await gql(url, `mutation($app: ID!) { createCollection(input: { applicationId: $app, environment: DEV, name: "rooms" }) { name } }`, { app: owner.app }, { cookie: owner.cookie });
    expect(created.errors).toBeUndefined();
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await cleanupConfig(config);
  });

  /** A client: its own copy of the document, fed only by its subscription, across reconnects. */
  function createClient(id: string, home: number) {
    let connections = 0;
    let version = -1;
    let state: State | null = null;
    let socket: WsConnection | undefined;
    let stop: (() => void) | undefined;
    const violations: string[] = [];
    let resuming = false;

    const onChange = (change: Change): void => {
      if (resuming) {
        if (change.op === 'SNAPSHOT') stats.snapshotResumes += 1;
        else stats.patchResumes += 1;
        resuming = false;
      }
      if (change.op === 'PATCH') {
        if (change.version !== version + 1 || state === null) violations.push(`patch to ${change.version} arrived at version ${version}`);
        else state = jsonpatch.applyPatch(state, change.patch!, false, false).newDocument;
      } else {
        if (change.version <= version) violations.push(`${change.op} ${change.version} arrived at version ${version}`);
        state = change.state;
      }
      version = change.version;
    };

    const connect = (): void => {
      // Each reconnect goes to the other instance.
      socket = connectWs(urls[(home + connections++) % urls.length]!, { apiKey: sk });
      resuming = version >= 0;
      stop = socket.client.subscribe<{ document: Change }>(
        { query: WATCH, variables: { id, since: version >= 0 ? version : null } },
        {
          next: (result) => {
            if (result.errors) violations.push(JSON.stringify(result.errors));
            else if (result.data) onChange(result.data.document);
          },
          error: () => undefined,
          complete: () => undefined,
        },
      );
    };

    return {
      connect,
      /** Drops the connection, stays away for a while (others keep writing), then resumes with sinceVersion. */
      async reconnect(awayMs: number) {
        stats.reconnects += 1;
        stop?.();
        await socket?.dispose();
        await new Promise((r) => setTimeout(r, awayMs));
        connect();
      },
      async close() {
        stop?.();
        await socket?.dispose();
      },
      async run(actions: readonly Action[]) {
        for (const a of actions) {
          if (a.kind === 'reconnect') await this.reconnect(a.awayMs);
          else if (a.kind === 'pause') await new Promise((r) => setTimeout(r, a.ms));
          else await this.edit(a);
        }
      },
      async edit(a: Extract<Action, { kind: 'patch' }>) {
        for (let attempt = 0; attempt < 50; attempt += 1) {
          await eventually(() => state !== null, 10_000, 'a first state');
          const base = version;
          const response = await gql<{ patchDocument: { version: number } }>(urls[a.via]!, PATCH, { id, patch: operationsFor(a, state!), if: a.guarded ? base : null }, { key: sk });
          if (!response.errors) return;
          const code = response.errors[0]?.extensions?.code;
          if (code !== 'CONFLICT') throw new Error(`unexpected error: ${JSON.stringify(response.errors)}`);
          stats.conflicts += 1;
          // Retry once the subscription has brought this client's copy up to the version the server named.
          const current = response.errors[0]!.extensions!.currentVersion as number;
          await eventually(() => version >= current, 10_000, `client copy at version ${current}`);
        }
        throw new Error('gave up after 50 conflicts');
      },
      view: () => ({ version, state }),
      violations,
    };
  }

  it('should bring every client to the server’s state and version, whatever the interleaving', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(action, { minLength: 1, maxLength: 10 }), { minLength: 2, maxLength: 4 }), async (scripts) => {
        run += 1;
        const id = `room-${run}`;
        const url = urls[run % urls.length]!;
        const initial = await gql(url, `mutation($id: ID!) { setDocument(collection: "rooms", id: $id, state: { tags: {}, list: [], counter: 0 }) { version } }`, { id }, { key: sk });
        expect(initial.errors).toBeUndefined();
        const clients = scripts.map((_, i) => createClient(id, i));
        try {
          clients.forEach((c) => c.connect());
          await Promise.all(clients.map((c, i) => c.run(scripts[i]!)));
          const server = await gql<{ document: { version: number; state: State } }>(url, `query($id: ID!) { document(collection: "rooms", id: $id) { version state } }`, { id }, { key: sk });
          const truth = server.data!.document;
          await eventually(() => clients.every((c) => c.view().version === truth.version), 10_000, `every client at version ${truth.version}`);
          for (const client of clients) {
            expect(client.violations).toEqual([]);
            expect(client.view()).toEqual({ version: truth.version, state: truth.state });
          }
          // Every acknowledged edit is in the version count: one version per edit, plus the initial set.
          const edits = scripts.flat().filter((a) => a.kind === 'patch').length;
          expect(truth.version).toBe(1 + edits);
        } finally {
          await Promise.all(clients.map((c) => c.close()));
        }
      }),
      { numRuns: 15, endOnFailure: true },
    );
    // The runs exercised what they claim to.
    expect(stats.reconnects).toBeGreaterThan(0);
    expect(stats.patchResumes + stats.snapshotResumes).toBeGreaterThan(0);
  }, 120_000);
});
