/** Presence and client broadcasts over real sockets, across server instances, including one that crashes. */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { loadConfig } from '@realtime/core';
import { buildApp, type App } from '@realtime/server';
import { signInOwner, createApplication } from '../../test/support/fixtures.js';
import { connectWs, errorCode, gql, subscribe, type WsConnection } from '../../test/support/clients.js';
import { REPO_ROOT } from '../../test/support/server-process.js';
import { cleanupConfig, eventually, freePort, testEnv } from '../../test/support/services.js';

type Presence = { presence: { type: string; members: { id: string; data: unknown }[] } };

describe('presence and broadcast', () => {
  const env = testEnv({ REALTIME_PRESENCE_TTL_MS: '1500' });
  const config = loadConfig(env);
  let server: App;
  let url: string;
  let cookie: string;
  let app: string;
  let pk: string;
  let jwtSecret: string;
  const sockets: WsConnection[] = [];

  const token = (sub: string, name: string): Promise<string> =>
    new SignJWT({ sub, topics: ['room.*'], presence: { name } }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(new TextEncoder().encode(jwtSecret));
  const changes = (sub: ReturnType<typeof subscribe<Presence>>): string[] =>
    sub.results.map((r) => `${r.data!.presence.type}:${r.data!.presence.members.map((m) => m.id).join(',')}`);

  beforeAll(async () => {
    server = await buildApp({ config });
    url = await server.start();
    cookie = await signInOwner(url);
    app = await createApplication(url, cookie, 'Chat');
    pk = (await gql<{ createApiKey: { secret: string } }>(url, `mutation($app: ID!) { createApiKey(input: { applicationId: $app, environment: DEV, kind: PUBLISHABLE }) { secret } }`, { app }, { cookie })).data!.createApiKey.secret;
    for (const [name, clientMessages] of [['room.chat', true], ['room.quiet', false]] as const) {
      const r = await gql(url, `mutation($app: ID!, $name: String!, $cm: Boolean) { registerTopic(input: { applicationId: $app, environment: DEV, name: $name, clientMessages: $cm, schema: { type: "object" } }) { id } }`, { app, name, cm: clientMessages }, { cookie });
      expect(r.errors).toBeUndefined();
    }
    jwtSecret = (await gql<{ rotateJwtSecret: { secret: string } }>(url, `mutation($app: ID!) { rotateJwtSecret(applicationId: $app, environment: DEV) { secret } }`, { app }, { cookie })).data!.rotateJwtSecret.secret;
  });

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await server?.stop();
    await cleanupConfig(config);
  });

  it('should show a snapshot then joins and leaves, counting a member with two connections once', async () => {
    const watcher = connectWs(url, { apiKey: pk });
    sockets.push(watcher);
    const watch = subscribe<Presence>(watcher, 'subscription { presence(topic: "room.chat") { type members { id data } } }');
    await watch.waitFor(1);
    expect(changes(watch)).toEqual(['SNAPSHOT:']);

    const aliceTab1 = connectWs(url, { apiKey: pk, token: await token('alice', 'Alice') });
    const aliceTab2 = connectWs(url, { apiKey: pk, token: await token('alice', 'Alice') });
    const bob = connectWs(url, { apiKey: pk, token: await token('bob', 'Bob') });
    sockets.push(aliceTab1, aliceTab2, bob);
    const query = 'subscription { presence(topic: "room.chat") { type members { id data } } }';
    const a1 = subscribe<Presence>(aliceTab1, query);
    await watch.waitFor(2);
    subscribe<Presence>(aliceTab2, query);
    const b = subscribe<Presence>(bob, query);
    await watch.waitFor(3);
    await b.waitFor(1);
    expect(b.results[0]!.data!.presence).toEqual({ type: 'SNAPSHOT', members: [{ id: 'alice', data: { name: 'Alice' } }, { id: 'bob', data: { name: 'Bob' } }] });
    await new Promise((r) => setTimeout(r, 200));
    expect(changes(watch)).toEqual(['SNAPSHOT:', 'JOIN:alice', 'JOIN:bob']);

    a1.stop(); // alice still has a second tab: no LEAVE
    await new Promise((r) => setTimeout(r, 300));
    expect(changes(watch)).toHaveLength(3);
    await aliceTab2.dispose();
    await watch.waitFor(4);
    expect(changes(watch)[3]).toBe('LEAVE:alice');
  });

  it('should let a member of a crashed server leave when its heartbeats stop (no ghosts)', async () => {
    const watcher = connectWs(url, { apiKey: pk });
    sockets.push(watcher);
    const watch = subscribe<Presence>(watcher, 'subscription { presence(topic: "room.chat") { type members { id } } }');
    await watch.waitFor(1);

    const port = await freePort();
    const other = spawn(process.execPath, ['server/dist/main.js', 'start'], { cwd: REPO_ROOT, env: { ...process.env, ...env, PORT: String(port) }, stdio: 'ignore' });
    try {
      await eventually(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200, 30_000, 'second server');
      const carol = connectWs(`http://127.0.0.1:${port}`, { apiKey: pk, token: await token('carol', 'Carol') });
      subscribe(carol, 'subscription { presence(topic: "room.chat") { type } }');
      await eventually(() => changes(watch).includes('JOIN:carol'), 10_000, 'carol joins');
      other.kill('SIGKILL'); // no leave is ever sent by that server
      await eventually(() => changes(watch).includes('LEAVE:carol'), 10_000, 'carol leaves by expiry');
      void carol.dispose();
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('should broadcast client messages on topics that allow them, over WebSocket only, rate limited', async () => {
    const alice = connectWs(url, { apiKey: pk, token: await token('alice', 'Alice') });
    const bob = connectWs(url, { apiKey: pk, token: await token('bob', 'Bob') });
    sockets.push(alice, bob);
    const inbox = subscribe<{ broadcasts: { from: string; data: unknown } }>(bob, 'subscription { broadcasts(topic: "room.chat") { from data } }');
    const channel = `${config.redisKeyPrefix}:${app}:DEV:bc:room.chat`;
    await eventually(async () => Number(((await server.platform.redis.pubsub('NUMSUB', channel)) as [string, number])[1]) === 1, 10_000, 'inbox');
    const sent = subscribe<{ broadcast: boolean }>(alice, 'mutation { broadcast(topic: "room.chat", data: { typing: true }) }');
    await sent.waitFor(1);
    expect(sent.results[0]!.data).toEqual({ broadcast: true });
    await inbox.waitFor(1);
    expect(inbox.results[0]!.data!.broadcasts).toEqual({ from: 'alice', data: { typing: true } });

    const quiet = subscribe(alice, 'mutation { broadcast(topic: "room.quiet", data: {}) }');
    await quiet.waitFor(1);
    expect(errorCode(quiet.results[0]!)).toBe('FORBIDDEN');
    const overHttp = await gql(url, 'mutation { broadcast(topic: "room.chat", data: {}) }', {}, { key: pk });
    expect(errorCode(overHttp)).toBe('FORBIDDEN');

    const burst = Array.from({ length: 40 }, () => subscribe(alice, 'mutation { broadcast(topic: "room.chat", data: { n: 1 }) }'));
    await Promise.all(burst.map((s) => s.waitFor(1)));
    const limited = burst.filter((s) => errorCode(s.results[0]!) === 'RATE_LIMITED').length;
    expect(limited).toBeGreaterThan(0);
    expect(limited).toBeLessThan(40);
    // Ephemeral: nothing of it is in the topic's history.
    expect(await server.platform.redis.exists(`${config.redisKeyPrefix}:${app}:DEV:h:room.chat`)).toBe(0);
  });
});
