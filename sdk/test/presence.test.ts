/** The client's presence map and broadcasts against a real platform. */
import { beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { createRealtimeClient, type BroadcastMessage, type RealtimeClient } from '@smarterservices/realtime';
import { gql } from '../../test/support/clients.js';
import { ownerWithApplication } from '../../test/support/fixtures.js';
import { usePlatform } from '../../test/support/platform.js';
import { eventually } from '../../test/support/services.js';

describe('@smarterservices/realtime: presence and broadcast', () => {
  const platform = usePlatform();
  let pk: string;
  let secret: Uint8Array;
  const clients: RealtimeClient[] = [];
  const client = (sub?: string, name?: string): RealtimeClient => {
    const token = sub ? (): Promise<string> => new SignJWT({ sub, presence: { name } }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(secret) : undefined;
    const created = createRealtimeClient({ url: platform.url, apiKey: pk, webSocketImpl: WebSocket, ...(token ? { token } : {}) });
    clients.push(created);
    return created;
  };

  beforeAll(async () => {
    const owner = await ownerWithApplication(platform.url, 'Rooms');
    pk = owner.pk;
    for (const [name, clientMessages] of [['room.chat', true], ['room.quiet', false]] as const) {
      const registered = await gql(
        platform.url,
        `mutation($app: ID!, $name: String!, $cm: Boolean) { registerTopic(input: { applicationId: $app, environment: DEV, name: $name, clientMessages: $cm, schema: { type: "object" } }) { id } }`,
        { app: owner.app, name, cm: clientMessages },
        { cookie: owner.cookie },
      );
      expect(registered.errors).toBeUndefined();
    }
    const rotated = await gql<{ rotateJwtSecret: { secret: string } }>(platform.url, `mutation($app: ID!) { rotateJwtSecret(applicationId: $app, environment: DEV) { secret } }`, { app: owner.app }, { cookie: owner.cookie });
    secret = new TextEncoder().encode(rotated.data!.rotateJwtSecret.secret);
    return async () => {
      await Promise.all(clients.map((c) => c.dispose()));
    };
  });

  it('should keep a map of who is present from the snapshot, joins and leaves', async () => {
    const watcher = client();
    let seen: ReadonlyMap<string, unknown> = new Map();
    const types: string[] = [];
    watcher.presence('room.chat', { change: (members, event) => ((seen = new Map(members)), types.push(event.type)) });
    await eventually(() => types[0] === 'SNAPSHOT', 10_000, 'the snapshot');
    const alice = client('alice', 'Alice');
    const leave = alice.presence('room.chat', { change: () => undefined });
    await eventually(() => seen.has('alice'), 10_000, 'alice joining');
    expect([...seen]).toEqual([['alice', { name: 'Alice' }]]);
    leave();
    await eventually(() => seen.size === 0, 10_000, 'alice leaving');
    // A change may repeat what is already known (docs/protocol.md); the map applies each idempotently.
    expect(types[0]).toBe('SNAPSHOT');
    expect(types).toContain('JOIN');
    expect(types.at(-1)).toBe('LEAVE');
  });

  it('should deliver a broadcast with its sender, and refuse one on a topic without client messages', async () => {
    const listener = client();
    const got: BroadcastMessage[] = [];
    listener.broadcasts('room.chat', { next: (message) => got.push(message) });
    const bob = client('bob', 'Bob');
    // Sent until the listener's subscription is live (broadcasts are never stored).
    await eventually(async () => {
      await bob.broadcast('room.chat', { text: 'hi' });
      return got.length > 0;
    }, 10_000, 'a broadcast received');
    expect(got[0]).toMatchObject({ topic: 'room.chat', from: 'bob', data: { text: 'hi' } });
    await expect(bob.broadcast('room.quiet', { text: 'hi' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});
