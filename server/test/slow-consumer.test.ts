/**
 * A client that never reads while 100,000 events flow: the server closes it instead of buffering for it,
 * its RSS stays under a stated bound, and a client that does read receives every event.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createPlatform, loadConfig, resolveApiKey, type Platform } from '@realtime/core';
import { signInOwner, createApplication, createKey } from '../../test/support/fixtures.js';
import { connectWs, gql, type WsConnection } from '../../test/support/clients.js';
import { REPO_ROOT } from '../../test/support/server-process.js';
import { cleanupConfig, eventually, freePort, testEnv } from '../../test/support/services.js';

const EVENTS = 100_000;
const PAD = 'x'.repeat(4_000); // 100,000 × 4 KB ≈ 400 MB if the server buffered them for the idle client
/**
 * Growth allowed over the server's RSS before the flood: half of what buffering would take. The growth seen
 * (2026-11-28) is 125–150 MB whether 25,000 or 100,000 events flow: garbage awaiting collection (each frame
 * of 4 KB is its own buffer) and the socket's 8 MB limit, not the flood.
 */
const RSS_BOUND_MB = 200;

const rssMb = (pid: number): number => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
};

describe('slow consumer', () => {
  // The flood publishes far faster than the default per-key rate limit allows.
  const env = testEnv({ REALTIME_MAX_SOCKET_BUFFER_BYTES: String(8 * 1024 * 1024), REALTIME_PUBLISH_RATE_PER_KEY: '1000000', LOG_LEVEL: 'warn' });
  const config = loadConfig(env);
  let server: ChildProcess;
  let url: string;
  let platform: Platform;
  let pk: string;
  let sk: string;
  const sockets: WsConnection[] = [];

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    // The server in its own process (the same entry point `npm start` runs), so its RSS is its own.
    server = spawn(process.execPath, ['server/dist/main.js', 'start'], { cwd: REPO_ROOT, env: { ...process.env, ...env, PORT: String(port) }, stdio: 'ignore' });
    await eventually(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200, 30_000, 'server ready');
    const cookie = await signInOwner(url);
    const app = await createApplication(url, cookie, 'S');
    const key = (kind: 'PUBLISHABLE' | 'SECRET'): Promise<string> => createKey(url, cookie, app, kind);
    await gql(url, `mutation($app: ID!) { registerTopic(input: { applicationId: $app, environment: DEV, name: "flood", retention: { maxEvents: 1000 }, schema: { type: "object", properties: { n: { type: "integer" }, pad: { type: "string" } } } }) { id } }`, { app }, { cookie });
    pk = await key('PUBLISHABLE');
    sk = await key('SECRET');
    // Publishing through the platform's own publish pipeline, in this process: fast enough to flood.
    platform = await createPlatform({ config, bootstrapOwner: false });
  });

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await platform?.close();
    server?.kill('SIGTERM');
    await new Promise((resolve) => (server.exitCode !== null ? resolve(undefined) : server.once('exit', resolve)));
    await cleanupConfig(config);
  });

  it('should close a client that never reads, keep its RSS bounded, and keep serving the others', { timeout: 240_000 }, async () => {
    const metric = async (name: string): Promise<number> =>
      Number(new RegExp(`^${name} (\\d+)`, 'm').exec(await (await fetch(`${url}/metrics`)).text())?.[1] ?? -1);

    // The idle client: a raw graphql-transport-ws socket that subscribes and then stops reading.
    const idle = new WebSocket(`${url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    const idleClosed = new Promise<number>((resolve) => idle.once('close', (code) => resolve(code)));
    await new Promise<void>((resolve) => idle.once('open', () => resolve()));
    idle.send(JSON.stringify({ type: 'connection_init', payload: { apiKey: pk } }));
    await new Promise<void>((resolve) => idle.once('message', () => resolve()));
    idle.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { flood { id data { n pad } } }' } }));

    // The reader.
    const reader = connectWs(url, { apiKey: pk });
    sockets.push(reader);
    let received = 0;
    const seen = new Set<number>();
    reader.client.subscribe<{ flood: { data: { n: number } } }>(
      { query: 'subscription { flood { data { n } } }' },
      { next: (r) => { received += 1; seen.add(r.data?.flood.data.n ?? -1); }, error: () => undefined, complete: () => undefined },
    );
    await eventually(async () => (await metric('realtime_subscriber_listeners')) === 2, 10_000, 'two subscriptions');
    idle.pause();

    const baseline = rssMb(server.pid!);
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(server.pid!))), 50);
    const principal = (await resolveApiKey(platform.pool, sk))!;
    try {
      for (let n = 0; n < EVENTS; n += 100) {
        await Promise.all(Array.from({ length: 100 }, (_, i) => platform.publisher.publish(principal, { topic: 'flood', data: { n: n + i, pad: PAD } })));
        // Let the reader keep pace with the flood: it shares this process with the publisher.
        while (received < n - 2_000) await new Promise((r) => setTimeout(r, 5));
      }
      await eventually(() => received === EVENTS, 60_000, 'the reader to receive every event');
    } finally {
      clearInterval(sampler);
    }

    expect(received).toBe(EVENTS);
    expect(seen.size).toBe(EVENTS); // every event once
    // The idle client's subscription was dropped on the server…
    await eventually(async () => (await metric('realtime_subscriber_listeners')) === 1, 10_000, 'the idle subscription released');
    // …and its socket closed (the close frame sits behind unread data, so the client may only see the cut).
    idle.resume();
    const closeCode = await Promise.race([idleClosed, new Promise<string>((r) => setTimeout(() => r('still open after 10 s'), 10_000))]);
    expect([4008, 1006]).toContain(closeCode);
    expect(peak - baseline).toBeLessThan(RSS_BOUND_MB);
  });
});
