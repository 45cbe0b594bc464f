/** The client against a real platform over real sockets: resume after a lost connection, final closes, gaps, publish. */
import { beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { createRealtimeClient, type DocumentCopy, type HistoryGap, type RealtimeClient, type RealtimeClientError } from '@smarterservices/realtime';
import { gql } from '../../test/support/clients.js';
import { usePlatform } from '../../test/support/platform.js';
import { eventually } from '../../test/support/services.js';
import { tickApp } from './tick-app.js';

/** `ws`, remembering every socket the client opens and every message it sends on them. */
class TrackedWebSocket extends WebSocket {
  static opened: TrackedWebSocket[] = [];
  readonly sent: string[] = [];
  constructor(...args: ConstructorParameters<typeof WebSocket>) {
    super(...args);
    TrackedWebSocket.opened.push(this);
  }
  override send(data: unknown, ...rest: unknown[]): void {
    this.sent.push(String(data));
    (super.send as (...a: unknown[]) => void)(data, ...rest);
  }
}

type Tick = { tick: { id: string; cursor: string; data: { n: number } } };
const TICKS = 'subscription($after: String) { tick(after: $after) { id cursor data { n } } }';

describe('@smarterservices/realtime against the platform', () => {
  const platform = usePlatform();
  let owner: { cookie: string; app: string; pk: string; sk: string };
  let producer: RealtimeClient;

  beforeAll(async () => {
    ({ owner, producer } = await tickApp(platform.url, 'Sdk'));
    return () => producer.dispose();
  });

  const publish = (n: number) => producer.publish({ topic: 'tick', data: { n } });

  it('should resume after the connection drops, delivering what was published meanwhile once each and in order', async () => {
    TrackedWebSocket.opened = [];
    const client = createRealtimeClient({ url: platform.url, apiKey: owner.pk, webSocketImpl: TrackedWebSocket, retry: { minDelayMs: 400, maxDelayMs: 400 } });
    const got: number[] = [];
    const reconnects: { attempt: number; closeCode?: number }[] = [];
    // Starting after a kept cursor, as an app that stored one does: nothing published from there on is missed,
    // however long the server takes to start the subscription.
    const start = await publish(0);
    const stop = client.subscribe<Tick>(TICKS, { after: start.cursor }, { next: (data) => got.push(data.tick.data.n), reconnecting: (info) => reconnects.push(info) });
    try {
      const before = [];
      for (let n = 1; n <= 3; n += 1) before.push(await publish(n));
      await eventually(() => got.length === 3, 10_000, 'the first three');
      TrackedWebSocket.opened[0]!.terminate(); // no close frame: the client sees 1006
      for (let n = 4; n <= 6; n += 1) await publish(n); // while it waits to reconnect
      await eventually(() => got.length === 6, 10_000, 'the three missed');
      for (let n = 7; n <= 8; n += 1) await publish(n);
      await eventually(() => got.length === 8, 10_000, 'live again');
      await new Promise((r) => setTimeout(r, 300));
      expect(got).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(reconnects).toEqual([{ attempt: 1, delayMs: expect.any(Number), closeCode: 1006 }]);
      // The second connection subscribed after the last event handed over before the drop.
      const again = TrackedWebSocket.opened[1]!.sent.map((m) => JSON.parse(m) as { type: string; payload?: { variables?: { after?: string } } });
      expect(again.find((m) => m.type === 'subscribe')?.payload?.variables?.after).toBe(before[2]!.cursor);
    } finally {
      stop();
      await client.dispose();
    }
  });

  describe('end-user tokens', () => {
    let secret: Uint8Array;
    beforeAll(async () => {
      const rotated = await gql<{ rotateJwtSecret: { secret: string } }>(
        platform.url,
        `mutation($app: ID!) { rotateJwtSecret(applicationId: $app, environment: DEV) { secret } }`,
        { app: owner.app },
        { cookie: owner.cookie },
      );
      secret = new TextEncoder().encode(rotated.data!.rotateJwtSecret.secret);
    });
    const mint = (expiresIn: string): Promise<string> => new SignJWT({ sub: 'u1' }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime(expiresIn).sign(secret);

    it('should keep the connection past its token’s expiry by sending a fresh token in a ping', async () => {
      TrackedWebSocket.opened = [];
      let asked = 0;
      const token = async (): Promise<string> => {
        asked += 1;
        return mint('4s');
      };
      const client = createRealtimeClient({ url: platform.url, apiKey: owner.pk, token, webSocketImpl: TrackedWebSocket });
      const got: number[] = [];
      const reconnects: unknown[] = [];
      const start = await publish(200);
      const stop = client.subscribe<Tick>(TICKS, { after: start.cursor }, { next: (data) => got.push(data.tick.data.n), reconnecting: (info) => reconnects.push(info) });
      try {
        await publish(201);
        await eventually(() => got.includes(201), 10_000, 'the first event');
        await new Promise((r) => setTimeout(r, 5_000)); // past the first token's expiry (the server closes with 4403 then)
        await publish(202);
        await eventually(() => got.includes(202), 10_000, 'an event after the first token expired');
        expect(reconnects).toEqual([]);
        expect(TrackedWebSocket.opened).toHaveLength(1);
        expect(asked).toBeGreaterThanOrEqual(2);
        const pings = TrackedWebSocket.opened[0]!.sent.map((m) => JSON.parse(m) as { type: string; payload?: { token?: string } }).filter((m) => m.type === 'ping');
        expect(pings[0]?.payload?.token).toMatch(/^ey/);
      } finally {
        stop();
        await client.dispose();
      }
    });

    it('should reconnect with a fresh token, and resume, when the token expired before a fresh one was sent (4403)', async () => {
      let asked = 0;
      const token = async (): Promise<string> => {
        asked += 1;
        // The first refresh comes too late: the server has closed with 4403 by then.
        if (asked === 2) await new Promise((r) => setTimeout(r, 2_500));
        return mint(asked === 1 ? '2s' : '1h');
      };
      const client = createRealtimeClient({ url: platform.url, apiKey: owner.pk, token, webSocketImpl: WebSocket, retry: { minDelayMs: 200, maxDelayMs: 200 } });
      const got: number[] = [];
      const reconnects: { closeCode?: number }[] = [];
      const start = await publish(300);
      const stop = client.subscribe<Tick>(TICKS, { after: start.cursor }, { next: (data) => got.push(data.tick.data.n), reconnecting: (info) => reconnects.push(info) });
      try {
        await eventually(() => reconnects.length === 1, 10_000, 'the 4403 close');
        await publish(301);
        await eventually(() => got.includes(301), 10_000, 'the event after the reconnect');
        expect(reconnects[0]).toMatchObject({ closeCode: 4403 });
        expect(got).toEqual([301]);
      } finally {
        stop();
        await client.dispose();
      }
    });
  });

  it('should keep a document’s copy by its patches and catch up from its last version after the connection drops', async () => {
    const created = await gql(platform.url, `mutation($app: ID!) { createCollection(input: { applicationId: $app, environment: DEV, name: "notes" }) { name } }`, { app: owner.app }, { cookie: owner.cookie });
    expect(created.errors).toBeUndefined();
    TrackedWebSocket.opened = [];
    const reader = createRealtimeClient({ url: platform.url, apiKey: owner.sk, webSocketImpl: TrackedWebSocket, retry: { minDelayMs: 400, maxDelayMs: 400 } });
    const writer = producer.documentWriter('notes', 'n1');
    const copies: DocumentCopy[] = [];
    const ops: string[] = [];
    const stop = reader.document('notes', 'n1', { change: (copy, change) => (copies.push(copy), ops.push(change.op)) });
    try {
      await eventually(() => copies.length === 1, 10_000, 'the snapshot');
      expect(copies[0]).toEqual({ state: null, version: 0 });
      expect(await writer.set({ title: 'a', items: [] })).toBe(1);
      expect(await writer.patch([{ op: 'add', path: '/items/-', value: 'x' }])).toBe(2);
      await eventually(() => copies.at(-1)?.version === 2, 10_000, 'version 2');
      TrackedWebSocket.opened[0]!.terminate();
      await writer.patch([{ op: 'replace', path: '/title', value: 'b' }]);
      await writer.patch([{ op: 'add', path: '/items/-', value: 'y' }]);
      await eventually(() => copies.at(-1)?.version === 4, 10_000, 'version 4');
      expect(copies.map((c) => c.version)).toEqual([0, 1, 2, 3, 4]);
      expect(copies.at(-1)).toEqual({ state: { title: 'b', items: ['x', 'y'] }, version: 4 });
      expect(copies[2]).toEqual({ state: { title: 'a', items: ['x'] }, version: 2 }); // copies handed out stay as they were
      // Resumed after version 2 with the two patches, not a snapshot.
      expect(ops).toEqual(['SNAPSHOT', 'SET', 'PATCH', 'PATCH', 'PATCH']);
      const again = TrackedWebSocket.opened[1]!.sent.map((m) => JSON.parse(m) as { type: string; payload?: { variables?: { sinceVersion?: number } } });
      expect(again.find((m) => m.type === 'subscribe')?.payload?.variables?.sinceVersion).toBe(2);
      await expect(writer.set({ title: 'c' }, 1)).rejects.toMatchObject({ code: 'CONFLICT' });
      expect(await writer.delete(4)).toBe(5);
      await eventually(() => copies.at(-1)?.version === 5, 10_000, 'the delete');
      expect(copies.at(-1)).toEqual({ state: null, version: 5 });
    } finally {
      stop();
      await reader.dispose();
    }
  });

  it('should end with CONNECTION_CLOSED, without retrying, when the key is refused', async () => {
    const client = createRealtimeClient({ url: platform.url, apiKey: 'pk_dev_notakey', webSocketImpl: WebSocket, retry: { minDelayMs: 50 } });
    const reconnects: unknown[] = [];
    try {
      const error = await new Promise<RealtimeClientError>((resolve) => {
        client.subscribe<Tick>(TICKS, {}, { next: () => undefined, error: resolve, reconnecting: (info) => reconnects.push(info) });
      });
      expect(error).toMatchObject({ code: 'CONNECTION_CLOSED', closeCode: 4401 });
      await new Promise((r) => setTimeout(r, 300));
      expect(reconnects).toEqual([]);
    } finally {
      await client.dispose();
    }
  });

  it('should report a cursor the history cannot honour as a gap, then go on delivering', async () => {
    const first = await publish(100);
    const [epoch, ...rest] = first.cursor.split('_');
    const lost = [`${Number(epoch) + 1}`, ...rest].join('_'); // another history's cursor: reason LOST
    const client = createRealtimeClient({ url: platform.url, apiKey: owner.pk, webSocketImpl: WebSocket });
    const gaps: HistoryGap[] = [];
    const got: number[] = [];
    const stop = client.subscribe<Tick>(TICKS, { after: lost }, { next: (data) => got.push(data.tick.data.n), gap: (gap) => gaps.push(gap) });
    try {
      await eventually(() => gaps.length === 1, 10_000, 'the gap');
      expect(gaps[0]).toMatchObject({ reason: 'LOST', requestedCursor: lost, message: expect.stringContaining('cannot resume "tick"') });
      await publish(101);
      await eventually(() => got.includes(101), 10_000, 'the next event');
    } finally {
      stop();
      await client.dispose();
    }
  });

  it('should reject a publish with the server’s code and status, storing nothing', async () => {
    const subscriberOnly = createRealtimeClient({ url: platform.url, apiKey: owner.pk, webSocketImpl: WebSocket });
    await expect(subscriberOnly.publish({ topic: 'tick', data: { n: 1 } })).rejects.toMatchObject({ code: 'FORBIDDEN', status: 403 });
    await expect(producer.publish({ topic: 'tick', data: { n: 'one' } })).rejects.toMatchObject({ code: 'BAD_USER_INPUT', status: 400 });
    await expect(producer.publish({ topic: 'nope', data: {} })).rejects.toMatchObject({ code: 'NOT_FOUND', status: 404 });
    await subscriberOnly.dispose();
  });
});
