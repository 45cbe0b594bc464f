/**
 * CDC and the outbox against real PostgreSQL: every slot-using test lives in this one file and runs in
 * order (the slot-invalidation test changes a server-wide setting). Captured tables live in a database of
 * their own, dropped at the end with every slot and publication.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { Redis } from 'ioredis';
import { loadConfig, parseLsn, type Config } from '@realtime/core';
import { buildApp, type App } from '@realtime/server';
import { startWorkerRoles } from '@realtime/workers';
import { Webhook } from 'standardwebhooks';
import { connectWs, gql, subscribe, type WsConnection } from '../../test/support/clients.js';
import { startReceiver, type Receiver } from '../../test/support/receiver.js';
import { ownerWithApplication } from '../../test/support/fixtures.js';
import { REPO_ROOT } from '../../test/support/server-process.js';
import { POSTGRES_URL, cleanupConfig, dropDatabase, eventually, testEnv, uniqueName } from '../../test/support/services.js';

const FAST = {
  REALTIME_CDC_POLL_MS: '200',
  REALTIME_CDC_LEASE_MS: '2000',
  REALTIME_CDC_HEARTBEAT_MS: '500',
  REALTIME_OUTBOX_POLL_MS: '100',
};

interface SourceDb {
  url: string;
  name: string;
  query: (sql: string, values?: unknown[]) => Promise<pg.QueryResult>;
  close(): Promise<void>;
}

/** A database of the test's own standing in for an application's database. */
async function createSourceDb(): Promise<SourceDb> {
  const name = uniqueName('rt_src');
  const admin = new pg.Client({ connectionString: `${POSTGRES_URL}/postgres` });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = `${POSTGRES_URL}/${name}`;
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  return {
    url,
    name,
    query: (sql, values) => pool.query(sql, values),
    async close() {
      await pool.end();
      // Dropping the database fails while a slot of it exists: drop any the test left first.
      const client = new pg.Client({ connectionString: `${POSTGRES_URL}/postgres` });
      await client.connect();
      try {
        await eventually(async () => {
          const { rows } = await client.query<{ slot_name: string; active_pid: number | null }>('SELECT slot_name, active_pid FROM pg_replication_slots WHERE database = $1', [name]);
          for (const slot of rows) {
            if (slot.active_pid) await client.query('SELECT pg_terminate_backend($1)', [slot.active_pid]);
            await client.query('SELECT pg_drop_replication_slot($1)', [slot.slot_name]).catch(() => undefined);
          }
          return rows.length === 0;
        }, 15_000, 'slots dropped');
      } finally {
        await client.end();
      }
      await dropDatabase(name);
    },
  };
}

const OUTBOX_DDL = (table: string): string => `
  CREATE TABLE ${table} (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic text NOT NULL,
    subject text,
    data jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  )`;

/** Everything stored in a topic's history, oldest first. */
async function history(config: Config, app: string, topic: string): Promise<{ id: string; subject: string | null; data: Record<string, unknown> }[]> {
  const redis = new Redis(config.redisUrl);
  try {
    const entries = await redis.xrange(`${config.redisKeyPrefix}:${app}:DEV:h:${topic}`, '-', '+');
    return entries.map(([, fields]) => JSON.parse(fields[fields.indexOf('e') + 1] as string) as { id: string; subject: string | null; data: Record<string, unknown> });
  } finally {
    redis.disconnect();
  }
}

const CREATE = `mutation($input: CreateCdcSourceInput!) { createCdcSource(input: $input) { id name status slotName tables { table topic operations } } }`;
const SOURCE = `query($id: ID!) { cdcSource(id: $id) { id status paused lastError lastErrorAt snapshotRequested lastSnapshotAt lag { bytes seconds confirmedLsn warning } } }`;

interface SourceView {
  id: string;
  status: string;
  paused: boolean;
  lastError: string | null;
  lastErrorAt: string | null;
  snapshotRequested: boolean;
  lastSnapshotAt: string | null;
  lag: { bytes: number | null; seconds: number; confirmedLsn: string | null; warning: boolean };
}

async function createSource(url: string, cookie: string, input: Record<string, unknown>): Promise<string> {
  const response = await gql<{ createCdcSource: { id: string } }>(url, CREATE, { input }, { cookie });
  if (!response.data) throw new Error(JSON.stringify(response.errors));
  return response.data.createCdcSource.id;
}

async function sourceView(url: string, cookie: string, id: string): Promise<SourceView> {
  const response = await gql<{ cdcSource: SourceView }>(url, SOURCE, { id }, { cookie });
  if (!response.data?.cdcSource) throw new Error(JSON.stringify(response.errors));
  return response.data.cdcSource;
}

describe('capture and outbox', () => {
  const config = loadConfig(testEnv({ ...FAST, REALTIME_WEBHOOK_ALLOW_PRIVATE: '1', REALTIME_WEBHOOK_RETRY_SCHEDULE: '0s,1s,2s' }));
  let receiver: Receiver;
  let app: App;
  let url: string;
  let workers: { stop(): Promise<void> };
  let db: SourceDb;
  let owner: { cookie: string; app: string; pk: string; sk: string };
  const sockets: WsConnection[] = [];

  beforeAll(async () => {
    db = await createSourceDb();
    await db.query(`CREATE TABLE orders (id serial PRIMARY KEY, status text NOT NULL, amount numeric(10,2), tags text[], meta jsonb, placed_at timestamptz DEFAULT now())`);
    await db.query('ALTER TABLE orders REPLICA IDENTITY FULL');
    await db.query(OUTBOX_DDL('realtime_outbox'));
    await db.query(OUTBOX_DDL('app.outbox_polled').replace('CREATE TABLE', 'CREATE SCHEMA app; CREATE TABLE'));
    await db.query(`INSERT INTO orders (status, amount) VALUES ('EXISTING', 1.50)`);
    app = await buildApp({ config });
    url = await app.start();
    workers = await startWorkerRoles(app.platform, ['cdc', 'outbox', 'webhooks']);
    receiver = await startReceiver();
    owner = await ownerWithApplication(url, 'CDC');
    const note = await gql(url, `mutation($app: ID!) { registerTopic(input: { applicationId: $app, environment: DEV, name: "order.note", schema: { type: "object", properties: { text: { type: "string" } }, required: ["text"] } }) { id } }`, { app: owner.app }, { cookie: owner.cookie });
    expect(note.errors).toBeUndefined();
  });

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await workers?.stop();
    await receiver?.close();
    await app?.stop();
    await db?.close();
    await cleanupConfig(config);
  });

  it('should refuse a source whose table does not exist, leaving nothing behind', async () => {
    const response = await gql(url, CREATE, {
      input: { applicationId: owner.app, environment: 'DEV', name: 'broken', connectionString: db.url, tables: [{ table: 'public.nope', topic: 'nope.changed' }] },
    }, { cookie: owner.cookie });
    expect(response.errors?.[0]?.extensions?.code).toBe('SOURCE_NOT_READY');
    expect(response.errors?.[0]?.message).toContain('public.nope does not exist');
    const { rows } = await db.query('SELECT count(*)::int AS n FROM pg_replication_slots WHERE database = current_database()');
    expect(rows[0].n).toBe(0);
    const unreachable = await gql(url, CREATE, {
      input: { applicationId: owner.app, environment: 'DEV', name: 'down', connectionString: 'postgres://postgres:secret@127.0.0.1:1/shop', tables: [{ table: 'orders', topic: 'order.changed' }] },
    }, { cookie: owner.cookie });
    expect(unreachable.errors?.[0]?.extensions?.code).toBe('SOURCE_NOT_READY');
    expect(unreachable.errors?.[0]?.message).toContain('cannot connect to the source database postgres://postgres:***@127.0.0.1:1/shop');
    // A publishable key administers nothing.
    const byPk = await gql(url, CREATE, {
      input: { applicationId: owner.app, environment: 'DEV', name: 'pk', connectionString: db.url, tables: [{ table: 'orders', topic: 'order.changed' }] },
    }, { key: owner.pk });
    expect(byPk.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('should deliver the snapshot, then INSERT, UPDATE and DELETE to a graphql-ws subscriber and a webhook endpoint in the envelope', async () => {
    const id = await createSource(url, owner.cookie, {
      applicationId: owner.app,
      environment: 'DEV',
      name: 'shop',
      connectionString: db.url,
      tables: [{ table: 'orders', topic: 'order.changed' }],
      outbox: { mode: 'STREAM' },
    });
    // The existing row arrives as a snapshot read.
    const read = await eventually(async () => (await history(config, owner.app, 'order.changed')).find((e) => e.data.op === 'read'), 20_000, 'snapshot read');
    expect(read.data).toMatchObject({ op: 'read', schema: 'public', table: 'orders', before: null, after: { id: 1, status: 'EXISTING', amount: '1.50' }, commitTime: null, txId: null });
    await eventually(async () => (await sourceView(url, owner.cookie, id)).status === 'RUNNING', 20_000, 'RUNNING');

    const socket = connectWs(url, { apiKey: owner.pk });
    sockets.push(socket);
    type Change = { orderChanged: { id: string; topic: string; source: string; data: { op: string; schema: string; table: string; lsn: string; txId: number; commitTime: string; before: { id: number; status: string } | null; after: { id: number; status: string; tags: string[] | null } | null } } };
    const changes = subscribe<Change>(socket, `subscription { orderChanged { id topic source data { op schema table lsn txId commitTime before { id status } after { id status tags } } } }`);
    const updates = subscribe<{ orderChanged: { data: { op: string; after: { status: string } } } }>(socket, `subscription { orderChanged(where: { op: { eq: update } }) { data { op after { status } } } }`);
    await eventually(() => app.platform.subscriber.listenerCount() >= 2, 10_000, 'subscriptions');
    // A consumer that does not speak GraphQL gets the same changes as signed webhooks.
    const hook = await gql<{ createWebhookEndpoint: { secret: string } }>(
      url,
      `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret } }`,
      { input: { applicationId: owner.app, environment: 'DEV', url: `${receiver.url}/cdc`, topics: ['order.changed'] } },
      { cookie: owner.cookie },
    );
    expect(hook.errors).toBeUndefined();
    const webhookSecret = hook.data!.createWebhookEndpoint.secret;

    await db.query(`INSERT INTO orders (status, amount, tags, meta) VALUES ('NEW', 9.99, ARRAY['a','b'], '{"x":1}')`);
    await db.query(`UPDATE orders SET status = 'PAID' WHERE status = 'NEW'`);
    await db.query(`DELETE FROM orders WHERE status = 'PAID'`);
    await changes.waitFor(3, 20_000);
    const events = changes.results.map((r) => {
      expect(r.errors).toBeUndefined();
      return r.data!.orderChanged;
    });
    expect(events.map((e) => e.data.op)).toEqual(['insert', 'update', 'delete']);
    expect(events[0]).toMatchObject({ topic: 'order.changed', source: `/cdc/${id}`, data: { schema: 'public', table: 'orders', before: null, after: { id: 2, status: 'NEW', tags: ['a', 'b'] } } });
    expect(events[1]?.data).toMatchObject({ before: { id: 2, status: 'NEW' }, after: { id: 2, status: 'PAID' } });
    expect(events[2]?.data).toMatchObject({ before: { id: 2, status: 'PAID' }, after: null });
    for (const event of events) {
      expect(event.data.lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
      expect(typeof event.data.txId).toBe('number');
      expect(Number.isNaN(Date.parse(event.data.commitTime))).toBe(false);
    }
    expect(new Set(events.map((e) => e.id)).size).toBe(3);
    await eventually(() => receiver.on('/cdc').length >= 3, 20_000, 'three webhook deliveries');
    const delivered = receiver.on('/cdc').map((request) => {
      const verified = new Webhook(webhookSecret).verify(request.body, {
        'webhook-id': String(request.headers['webhook-id']),
        'webhook-timestamp': String(request.headers['webhook-timestamp']),
        'webhook-signature': String(request.headers['webhook-signature']),
      }) as { id: string; type: string; source: string; data: { op: string } };
      expect(request.headers['webhook-id']).toBe(verified.id);
      return verified;
    });
    expect(delivered.map((d) => d.type)).toEqual(['order.changed', 'order.changed', 'order.changed']);
    expect(delivered.map((d) => d.source)).toEqual(events.map((e) => e.source));
    expect(new Map(delivered.map((d) => [d.id, d.data.op]))).toEqual(new Map(events.map((e) => [e.id, e.data.op])));
    await updates.waitFor(1);
    expect(updates.results.map((r) => r.data?.orderChanged.data)).toEqual([{ op: 'update', after: { status: 'PAID' } }]);
    updates.stop();

    const view = await sourceView(url, owner.cookie, id);
    expect(view.lastError).toBeNull();
    // The connection string is sealed at rest.
    const stored = await app.platform.pool.query<{ sealed: string }>('SELECT connection_string_encrypted AS sealed FROM cdc_sources WHERE id = $1', [id]);
    expect(stored.rows[0]?.sealed).toMatch(/^v1\./);
    expect(stored.rows[0]?.sealed).not.toContain(db.name);
    expect(view.lag.confirmedLsn).toMatch(/\//);
    changes.stop();
  });

  it('should keep confirming the server position while its tables are idle, so the slot pins no WAL', async () => {
    await db.query('CREATE TABLE IF NOT EXISTS unrelated (x text)');
    await db.query(`INSERT INTO unrelated SELECT md5(random()::text) FROM generate_series(1, 5000)`);
    const { rows } = await db.query('SELECT pg_current_wal_lsn()::text AS lsn');
    const target = parseLsn((rows[0] as { lsn: string }).lsn);
    await eventually(async () => {
      const slot = await db.query(`SELECT confirmed_flush_lsn::text AS confirmed FROM pg_replication_slots WHERE slot_name LIKE 'rt_cdc_%' AND database = current_database()`);
      return parseLsn((slot.rows[0] as { confirmed: string }).confirmed) >= target;
    }, 20_000, 'the idle slot to confirm past the unrelated writes');
  });

  it('should register a compatible new schema version when the table gains a column', async () => {
    await db.query('ALTER TABLE orders ADD COLUMN note text');
    await db.query(`INSERT INTO orders (status, note) VALUES ('NOTED', 'hello')`);
    const event = await eventually(async () => (await history(config, owner.app, 'order.changed')).find((e) => (e.data.after as { status?: string } | null)?.status === 'NOTED'), 20_000, 'the change with the new column');
    expect(event.data.after).toMatchObject({ note: 'hello' });
    const topic = await gql<{ topic: { schemaVersion: number; schema: { properties: { after: { properties: Record<string, unknown> } } } } }>(
      url,
      `query($app: ID!) { topic(applicationId: $app, environment: DEV, name: "order.changed") { schemaVersion schema } }`,
      { app: owner.app },
      { cookie: owner.cookie },
    );
    expect(topic.data?.topic.schemaVersion).toBe(2);
    expect(Object.keys(topic.data!.topic.schema.properties.after.properties)).toContain('note');
  });

  it('should publish an outbox row whose transaction commits, and never one whose transaction rolls back (stream)', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query('BEGIN');
      await client.query(`INSERT INTO realtime_outbox (topic, subject, data) VALUES ('order.note', 'o-1', '{"text":"rolled back"}')`);
      await client.query('ROLLBACK');
      await client.query('BEGIN');
      await client.query(`INSERT INTO orders (status) VALUES ('WITH-NOTE')`);
      await client.query(`INSERT INTO realtime_outbox (topic, subject, data) VALUES ('order.note', 'o-1', '{"text":"committed"}')`);
      await client.query('COMMIT');
    } finally {
      await client.end();
    }
    const notes = await eventually(async () => {
      const found = await history(config, owner.app, 'order.note');
      return found.length > 0 && found;
    }, 20_000, 'the committed outbox row');
    await new Promise((r) => setTimeout(r, 300)); // nothing else may follow
    const after = await history(config, owner.app, 'order.note');
    expect(after.map((e) => e.data)).toEqual([{ text: 'committed' }]);
    expect(after[0]?.subject).toBe('o-1');
    expect(notes[0]?.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('should relay a polled outbox in order without ever publishing a rolled-back row', async () => {
    const id = await createSource(url, owner.cookie, {
      applicationId: owner.app,
      environment: 'DEV',
      name: 'polled',
      connectionString: db.url,
      outbox: { table: 'app.outbox_polled', mode: 'POLL' },
    });
    const slow = new pg.Client({ connectionString: db.url });
    await slow.connect();
    try {
      // A transaction takes id 1 and commits after id 2 does: the relay must not skip it.
      await slow.query('BEGIN');
      await slow.query(`INSERT INTO app.outbox_polled (topic, subject, data) VALUES ('order.note', 'p', '{"text":"first, committed late"}')`);
      await db.query(`INSERT INTO app.outbox_polled (topic, subject, data) VALUES ('order.note', 'q', '{"text":"second"}')`);
      const rolledBack = new pg.Client({ connectionString: db.url });
      await rolledBack.connect();
      await rolledBack.query('BEGIN');
      await rolledBack.query(`INSERT INTO app.outbox_polled (topic, subject, data) VALUES ('order.note', 'p', '{"text":"never"}')`);
      await rolledBack.query('ROLLBACK');
      await rolledBack.end();
      await new Promise((r) => setTimeout(r, 500)); // several polls while the first is still open
      await slow.query('COMMIT');
    } finally {
      await slow.end();
    }
    const texts = await eventually(async () => {
      const found = (await history(config, owner.app, 'order.note')).map((e) => (e.data as { text: string }).text);
      return found.length >= 3 && found;
    }, 20_000, 'both polled rows');
    expect(texts.slice(1).sort()).toEqual(['first, committed late', 'second']);
    expect(texts).not.toContain('never');
    // Relayed rows are deleted after their events are published, so the table empties just after.
    await eventually(async () => (await db.query('SELECT count(*)::int AS n FROM app.outbox_polled')).rows[0].n === 0, 10_000, 'the relayed rows deleted');
    expect((await sourceView(url, owner.cookie, id)).status).toBe('RUNNING');
  });

  it('should stop the stream at a row that fails validation, send nothing after it, and resume in order with no duplicate once it is fixed', async () => {
    const texts = async (topic: string): Promise<unknown[]> => (await history(config, owner.app, topic)).map((e) => e.data.text);
    const before = await texts('order.note');
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      // Changes are sent to Redis without waiting for each reply; validation still comes first, in order.
      await client.query('BEGIN');
      await client.query(`INSERT INTO realtime_outbox (topic, data) VALUES ('order.note', '{"text":"before-bad"}')`);
      await client.query(`INSERT INTO realtime_outbox (topic, data) VALUES ('order.later', '{"text":"bad until registered"}')`);
      await client.query(`INSERT INTO realtime_outbox (topic, data) VALUES ('order.note', '{"text":"after-bad"}')`);
      await client.query('COMMIT');
      await client.query(`INSERT INTO realtime_outbox (topic, data) VALUES ('order.note', '{"text":"next-tx"}')`);
    } finally {
      await client.end();
    }
    const sources = await gql<{ cdcSources: { id: string; name: string }[] }>(url, `query($app: ID!) { cdcSources(applicationId: $app, environment: DEV) { id name } }`, { app: owner.app }, { cookie: owner.cookie });
    const shop = sources.data!.cdcSources.find((s) => s.name === 'shop')!;
    const failed = await eventually(async () => {
      const view = await sourceView(url, owner.cookie, shop.id);
      return view.status === 'ERROR' && view;
    }, 20_000, 'the source to report the bad row');
    expect(failed.lastError).toMatch(/outbox row \d+ \(topic "order.later"\): topic "order.later" is not registered/);
    await new Promise((r) => setTimeout(r, 500)); // the stream is retried meanwhile, and stops at the same row
    expect((await texts('order.note')).slice(before.length)).toEqual(['before-bad']);

    const later = await gql(url, `mutation($app: ID!) { registerTopic(input: { applicationId: $app, environment: DEV, name: "order.later", schema: { type: "object" } }) { id } }`, { app: owner.app }, { cookie: owner.cookie });
    expect(later.errors).toBeUndefined();
    await eventually(async () => (await texts('order.note')).includes('next-tx'), 20_000, 'the rows after the fixed one');
    expect((await texts('order.note')).slice(before.length)).toEqual(['before-bad', 'after-bad', 'next-tx']);
    expect(await texts('order.later')).toEqual(['bad until registered']);
    await eventually(async () => (await sourceView(url, owner.cookie, shop.id)).status === 'RUNNING', 20_000, 'the source to run again');
  });

  it('should take an on-demand snapshot ordered after the changes committed before it and before those committed after it', async () => {
    const sources = await gql<{ cdcSources: { id: string; name: string; lastSnapshotAt: string | null }[] }>(url, `query($app: ID!) { cdcSources(applicationId: $app, environment: DEV) { id name lastSnapshotAt } }`, { app: owner.app }, { cookie: owner.cookie });
    const shop = sources.data!.cdcSources.find((s) => s.name === 'shop')!;
    const start = (await history(config, owner.app, 'order.changed')).length;
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing || i < 10; i += 1) {
        await db.query(`INSERT INTO orders (status) VALUES ($1)`, [`DURING-${i}`]);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const requested = await gql(url, `mutation($id: ID!) { snapshotCdcSource(id: $id) { snapshotRequested } }`, { id: shop.id }, { key: owner.sk });
    expect(requested.errors).toBeUndefined();
    await eventually(async () => {
      const view = await sourceView(url, owner.cookie, shop.id);
      return !view.snapshotRequested && view.lastSnapshotAt !== shop.lastSnapshotAt;
    }, 30_000, 'the snapshot');
    writing = false;
    await writer;
    const events = await eventually(async () => {
      const found = (await history(config, owner.app, 'order.changed')).slice(start);
      return found.filter((e) => e.data.op === 'insert').length >= 10 && found;
    }, 20_000, 'the inserts');
    const readAt = events.map((e, i) => (e.data.op === 'read' ? i : -1)).filter((i) => i >= 0);
    expect(readAt.length).toBeGreaterThan(0);
    expect(readAt[readAt.length - 1]! - readAt[0]! + 1).toBe(readAt.length); // one contiguous block
    const point = parseLsn(events[readAt[0]!]!.data.lsn as string);
    const before = events.slice(0, readAt[0]);
    const after = events.slice(readAt[readAt.length - 1]! + 1);
    expect(before.every((e) => parseLsn(e.data.lsn as string) < point)).toBe(true);
    expect(after.every((e) => parseLsn(e.data.lsn as string) >= point)).toBe(true);
    // The snapshot holds exactly the rows inserted before it.
    const readIds = new Set(readAt.map((i) => (events[i]!.data.after as { id: number }).id));
    for (const e of before) expect(readIds.has((e.data.after as { id: number }).id)).toBe(true);
    for (const e of after) expect(readIds.has((e.data.after as { id: number }).id)).toBe(false);
  });

  it('should pause, resume without losing changes, and delete the slot and publication', async () => {
    const sources = await gql<{ cdcSources: { id: string; name: string }[] }>(url, `query($app: ID!) { cdcSources(applicationId: $app, environment: DEV) { id name } }`, { app: owner.app }, { cookie: owner.cookie });
    const shop = sources.data!.cdcSources.find((s) => s.name === 'shop')!;
    await gql(url, `mutation($id: ID!) { pauseCdcSource(id: $id) { id } }`, { id: shop.id }, { cookie: owner.cookie });
    await eventually(async () => {
      const { rows } = await db.query(`SELECT active FROM pg_replication_slots WHERE slot_name LIKE 'rt_cdc_%' AND database = current_database()`);
      return rows.length === 1 && rows[0].active === false;
    }, 20_000, 'the consumer to stop');
    await db.query(`INSERT INTO orders (status) VALUES ('WHILE-PAUSED')`);
    // Paused, the slot falls behind: lag is measured from the database itself.
    const paused = await eventually(async () => {
      const view = await sourceView(url, owner.cookie, shop.id);
      return (view.lag.bytes ?? 0) > 0 && view;
    }, 10_000, 'lag while paused');
    expect(paused.status).toBe('PAUSED');
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`realtime_cdc_slot_lag_bytes\\{source="${shop.id}",name="shop",application="${owner.app}",environment="DEV"\\} \\d+`));
    expect(metrics).toContain(`realtime_cdc_slot_lag_seconds{source="${shop.id}"`);
    await gql(url, `mutation($id: ID!) { resumeCdcSource(id: $id) { id } }`, { id: shop.id }, { cookie: owner.cookie });
    await eventually(async () => (await history(config, owner.app, 'order.changed')).some((e) => (e.data.after as { status?: string } | null)?.status === 'WHILE-PAUSED'), 20_000, 'the change made while paused');

    // Another application's secret key cannot see or delete it.
    const other = await ownerWithApplication(url, 'Other');
    const foreign = await gql(url, `mutation($id: ID!) { deleteCdcSource(id: $id) }`, { id: shop.id }, { key: other.sk });
    expect(foreign.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

    const deleted = await gql(url, `mutation($id: ID!) { deleteCdcSource(id: $id) }`, { id: shop.id }, { key: owner.sk });
    expect(deleted.errors).toBeUndefined();
    const left = await db.query(`SELECT (SELECT count(*) FROM pg_replication_slots WHERE database = current_database())::int AS slots, (SELECT count(*) FROM pg_publication)::int AS publications`);
    expect(left.rows[0]).toEqual({ slots: 0, publications: 0 });
  });
});

/** `node server/dist/main.js start --role cdc` as its own process, as operators run a worker. */
function startWorkerProcess(env: Record<string, string>): { child: ChildProcess; started: Promise<void>; exited: Promise<unknown>; output: () => string } {
  const child = spawn(process.execPath, ['server/dist/main.js', 'start', '--role', 'cdc'], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const started = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('"msg":"started"')) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then(() => reject(new Error(`worker exited before starting:\n${output}`)));
  });
  return { child, started, exited, output: () => output };
}

describe('a CDC worker killed mid-stream', () => {
  const env = testEnv(FAST);
  const config = loadConfig(env);
  let app: App;
  let url: string;
  let db: SourceDb;
  const workers: ReturnType<typeof startWorkerProcess>[] = [];

  beforeAll(async () => {
    db = await createSourceDb();
    await db.query('CREATE TABLE load (n integer PRIMARY KEY, payload text)');
    app = await buildApp({ config });
    url = await app.start();
  });

  afterAll(async () => {
    for (const worker of workers) {
      if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
      await worker.exited;
    }
    await app?.stop();
    await db?.close();
    await cleanupConfig(config);
  });

  it('should deliver every change of a 10,000-row load at least once, in commit order, with stable ids, after a SIGKILL and a takeover', async () => {
    const owner = await ownerWithApplication(url, 'Load');
    await createSource(url, owner.cookie, {
      applicationId: owner.app,
      environment: 'DEV',
      name: 'load',
      connectionString: db.url,
      tables: [{ table: 'load', topic: 'load.changed', operations: ['INSERT'] }],
      snapshot: false,
    });
    const retention = await gql(url, `mutation($app: ID!) { setTopicRetention(input: { applicationId: $app, environment: DEV, topic: "load.changed", retention: { maxEvents: 100000 } }) { name } }`, { app: owner.app }, { cookie: owner.cookie });
    expect(retention.errors).toBeUndefined();

    const first = startWorkerProcess(env);
    workers.push(first);
    await first.started;
    const second = startWorkerProcess(env); // stands by: the lease is the first one's
    workers.push(second);
    await second.started;

    // 200 transactions of 50 rows, committed in order n = 0…9,999.
    let committed = 0;
    const load = (async () => {
      for (let tx = 0; tx < 200; tx += 1) {
        await db.query(`INSERT INTO load (n, payload) SELECT n, repeat('x', 20) FROM generate_series($1::int, $1::int + 49) AS n`, [tx * 50]);
        committed += 50;
        await new Promise((r) => setTimeout(r, 15)); // spread the load over a few seconds
      }
    })();
    const seenAtKill = await eventually(async () => {
      const count = (await history(config, owner.app, 'load.changed')).length;
      return count >= 1_500 && count;
    }, 60_000, 'the first worker to stream');
    const committedAtKill = committed;
    first.child.kill('SIGKILL');
    await first.exited;
    expect(seenAtKill).toBeLessThan(10_000);
    expect(committedAtKill).toBeLessThan(10_000); // killed while the load was still being written
    await load;
    expect(committed).toBe(10_000);

    const events = await eventually(async () => {
      const found = await history(config, owner.app, 'load.changed');
      return new Set(found.map((e) => (e.data.after as { n: number }).n)).size === 10_000 && found;
    }, 120_000, 'every change after the takeover');

    // At least once: every row. Commit order: first occurrences read 0…9,999. Stable ids: one id per row.
    const firstSeen: number[] = [];
    const ids = new Map<number, Set<string>>();
    for (const event of events) {
      const n = (event.data.after as { n: number }).n;
      if (!ids.has(n)) {
        ids.set(n, new Set());
        firstSeen.push(n);
      }
      ids.get(n)?.add(event.id);
      expect(event.data.op).toBe('insert');
    }
    expect(firstSeen).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    expect([...ids.values()].every((set) => set.size === 1)).toBe(true);
    expect(new Set(events.map((e) => e.id)).size).toBe(10_000);
    expect(second.output()).toContain('"msg":"cdc stream started"');
  }, 240_000);
});

describe('a lost replication slot', () => {
  const config = loadConfig(testEnv(FAST));
  let app: App;
  let url: string;
  let workers: { stop(): Promise<void> };
  let db: SourceDb;

  beforeAll(async () => {
    db = await createSourceDb();
    await db.query('CREATE TABLE inv (id serial PRIMARY KEY, v text NOT NULL)');
    await db.query('CREATE TABLE filler (x text)');
    await db.query(`INSERT INTO inv (v) VALUES ('a'), ('b')`);
    app = await buildApp({ config });
    url = await app.start();
    workers = await startWorkerRoles(app.platform, ['cdc']);
  });

  afterAll(async () => {
    await workers?.stop();
    await app?.stop();
    await db?.close();
    await cleanupConfig(config);
  });

  it('should pass through ERROR, publish realtime.cdc.source.gap and recover with a fresh slot and snapshot when max_slot_wal_keep_size invalidates the slot', async () => {
    const owner = await ownerWithApplication(url, 'Gap');
    const id = await createSource(url, owner.cookie, {
      applicationId: owner.app,
      environment: 'DEV',
      name: 'inv',
      connectionString: db.url,
      tables: [{ table: 'inv', topic: 'inv.changed' }],
    });
    const reads = (events: { data: Record<string, unknown> }[]): { lsn: string; v: string }[] =>
      events.filter((e) => e.data.op === 'read').map((e) => ({ lsn: e.data.lsn as string, v: (e.data.after as { v: string }).v }));
    await eventually(async () => reads(await history(config, owner.app, 'inv.changed')).length === 2, 20_000, 'the first snapshot');
    await eventually(async () => (await sourceView(url, owner.cookie, id)).status === 'RUNNING', 20_000, 'RUNNING');

    // Pause so that only this slot stays behind, write a change, then let the server discard its WAL.
    await gql(url, `mutation($id: ID!) { pauseCdcSource(id: $id) { id } }`, { id }, { cookie: owner.cookie });
    const slot = (await db.query(`SELECT slot_name FROM pg_replication_slots WHERE database = current_database() AND NOT temporary`)).rows[0].slot_name as string;
    await eventually(async () => (await db.query('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot])).rows[0]?.active === false, 20_000, 'the consumer to stop');
    await db.query(`INSERT INTO inv (v) VALUES ('written while the slot was lost')`);

    const server = new pg.Client({ connectionString: `${POSTGRES_URL}/postgres` });
    await server.connect();
    const setting = (await server.query(`SELECT setting, sourcefile FROM pg_settings WHERE name = 'max_slot_wal_keep_size'`)).rows[0] as { setting: string; sourcefile: string | null };
    try {
      await server.query(`ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'`);
      await server.query('SELECT pg_reload_conf()');
      await eventually(async () => {
        await db.query(`INSERT INTO filler SELECT repeat(md5(random()::text), 40) FROM generate_series(1, 2000)`);
        await server.query('SELECT pg_switch_wal()');
        await server.query('CHECKPOINT');
        const { rows } = await db.query('SELECT wal_status FROM pg_replication_slots WHERE slot_name = $1', [slot]);
        return rows[0]?.wal_status === 'lost';
      }, 60_000, 'the slot to be invalidated');
    } finally {
      if (setting.sourcefile?.endsWith('postgresql.auto.conf')) await server.query(`ALTER SYSTEM SET max_slot_wal_keep_size = '${setting.setting}MB'`);
      else await server.query('ALTER SYSTEM RESET max_slot_wal_keep_size');
      await server.query('SELECT pg_reload_conf()');
      await server.end();
    }

    await gql(url, `mutation($id: ID!) { resumeCdcSource(id: $id) { id } }`, { id }, { cookie: owner.cookie });
    const gap = await eventually(async () => (await history(config, owner.app, 'realtime.cdc.source.gap'))[0], 20_000, 'the gap event');
    expect(gap.data).toMatchObject({ sourceId: id, name: 'inv' });
    expect(gap.data.reason).toMatch(/invalidated/);

    // Recovery: a second snapshot at a new position carries every row, including the one whose change was lost.
    const second = await eventually(async () => {
      const all = reads(await history(config, owner.app, 'inv.changed'));
      const later = all.filter((r) => r.lsn !== all[0]?.lsn);
      return later.length === 3 && later;
    }, 30_000, 'the recovery snapshot');
    expect(second.map((r) => r.v).sort()).toEqual(['a', 'b', 'written while the slot was lost']);
    const view = await eventually(async () => {
      const current = await sourceView(url, owner.cookie, id);
      return current.status === 'RUNNING' && current;
    }, 20_000, 'RUNNING again');
    expect(view.lastError).toBeNull();
    expect(view.lastErrorAt).not.toBeNull(); // the ERROR it passed through stays on record

    // And it streams again.
    await db.query(`INSERT INTO inv (v) VALUES ('after recovery')`);
    await eventually(async () => (await history(config, owner.app, 'inv.changed')).some((e) => e.data.op === 'insert' && (e.data.after as { v: string }).v === 'after recovery'), 20_000, 'streaming after recovery');
  }, 180_000);
});
