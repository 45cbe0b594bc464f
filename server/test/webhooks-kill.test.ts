/**
 * At-least-once across a crash: the webhooks role runs as its own process (`realtime start --role webhooks`)
 * and is killed with SIGKILL in the middle of deliveries; a new process takes over and nothing is lost.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { loadConfig } from '@realtime/core';
import { buildApp, type App } from '@realtime/server';
import { WEBHOOK_GROUP, startWebhooks } from '@realtime/workers';
import { gql } from '../../test/support/clients.js';
import { ownerWithApplication } from '../../test/support/fixtures.js';
import { startReceiver, type Receiver } from '../../test/support/receiver.js';
import { REPO_ROOT } from '../../test/support/server-process.js';
import { cleanupConfig, eventually, testEnv } from '../../test/support/services.js';

const EVENTS = 300;

function startWorkerProcess(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<unknown> } {
  const child = spawn(process.execPath, ['server/dist/main.js', 'start', '--role', 'webhooks'], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output, exited: new Promise((resolve) => child.once('exit', resolve)) };
}

describe('webhook worker crash', () => {
  const env = testEnv({ REALTIME_WEBHOOK_ALLOW_PRIVATE: '1', REALTIME_WEBHOOK_RETRY_SCHEDULE: '0s,1s,1s,1s,1s' });
  const config = loadConfig(env);
  let app: App;
  let url: string;
  let receiver: Receiver;
  const workers: ReturnType<typeof startWorkerProcess>[] = [];

  beforeAll(async () => {
    app = await buildApp({ config });
    url = await app.start();
    receiver = await startReceiver();
  });

  afterAll(async () => {
    for (const worker of workers) {
      if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
      await worker.exited;
    }
    await app?.stop();
    await receiver?.close();
    await cleanupConfig(config);
  });

  it('should lose no delivery when the worker process is killed with SIGKILL mid-delivery, duplicates sharing their webhook-id', async () => {
    const owner = await ownerWithApplication(url, 'Crash');
    const registered = await gql(url, `mutation($app: ID!) { registerTopic(input: { applicationId: $app, environment: DEV, name: "job.done", schema: { type: "object", properties: { n: { type: "integer" } }, required: ["n"] } }) { id } }`, { app: owner.app }, { cookie: owner.cookie });
    expect(registered.errors).toBeUndefined();
    // Slow answers keep many deliveries in flight when the kill comes.
    receiver.reply('/crash', { status: 200, delayMs: 200 });
    const created = await gql<{ createWebhookEndpoint: { secret: string } }>(
      url,
      `mutation($app: ID!, $url: String!) { createWebhookEndpoint(input: { applicationId: $app, environment: DEV, url: $url, topics: ["job.*"] }) { secret } }`,
      { app: owner.app, url: `${receiver.url}/crash` },
      { cookie: owner.cookie },
    );
    const secret = created.data!.createWebhookEndpoint.secret;

    const published: string[] = [];
    for (let n = 0; n < EVENTS; n += 1) {
      const response = await gql<{ publish: { event: { id: string } } }>(url, `mutation($n: Int!) { publish(input: { topic: "job.done", data: { n: $n } }) { event { id } } }`, { n }, { key: owner.sk });
      published.push(response.data!.publish.event.id);
    }
    const first = startWorkerProcess(env);
    workers.push(first);
    await eventually(() => receiver.on('/crash').length >= EVENTS / 5, 60_000, 'deliveries under way');
    first.child.kill('SIGKILL');
    await first.exited;
    const beforeRestart = new Set(receiver.on('/crash').map((r) => String(r.headers['webhook-id'])));
    expect(beforeRestart.size).toBeLessThan(EVENTS);

    const second = startWorkerProcess(env);
    workers.push(second);
    await eventually(
      () => new Set(receiver.on('/crash').map((r) => String(r.headers['webhook-id']))).size === EVENTS,
      90_000,
      'every event delivered after the restart',
    );
    expect(new Set(receiver.on('/crash').map((r) => String(r.headers['webhook-id'])))).toEqual(new Set(published));
    // The attempts the killed process made but never recorded run again once their locks expire: every
    // delivery ends SUCCEEDED, none stays pending.
    await eventually(async () => {
      const { rows } = await app.platform.pool.query<{ status: string; n: string }>('SELECT status, count(*) AS n FROM webhook_deliveries GROUP BY status');
      return rows.length === 1 && rows[0]?.status === 'SUCCEEDED' && Number(rows[0].n) === EVENTS;
    }, 60_000, 'every delivery recorded as SUCCEEDED');
    expect(receiver.on('/crash').length).toBeGreaterThan(EVENTS); // some were sent twice, with their one webhook-id
    const verifier = new Webhook(secret);
    for (const request of receiver.on('/crash')) {
      const body = verifier.verify(request.body, {
        'webhook-id': String(request.headers['webhook-id']),
        'webhook-timestamp': String(request.headers['webhook-timestamp']),
        'webhook-signature': String(request.headers['webhook-signature']),
      }) as { id: string };
      // A duplicate (a delivery the killed worker sent but did not record) carries the same webhook-id.
      expect(body.id).toBe(request.headers['webhook-id']);
    }
    second.child.kill('SIGTERM');
    await second.exited;
  });
});

describe('webhook dispatcher crash', () => {
  const env = testEnv({ REALTIME_WEBHOOK_ALLOW_PRIVATE: '1' });
  const config = loadConfig(env);
  let app: App;
  let url: string;
  let receiver: Receiver;

  beforeAll(async () => {
    app = await buildApp({ config });
    url = await app.start();
    receiver = await startReceiver();
  });

  afterAll(async () => {
    await app?.stop();
    await receiver?.close();
    await cleanupConfig(config);
  });

  it('should deliver history entries a dead dispatcher read but never acknowledged, then forget its consumer', async () => {
    const owner = await ownerWithApplication(url, 'Orphans');
    await gql(url, `mutation($app: ID!) { registerTopic(input: { applicationId: $app, environment: DEV, name: "job.done", schema: { type: "object" } }) { id } }`, { app: owner.app }, { cookie: owner.cookie });
    await gql(url, `mutation($app: ID!, $url: String!) { createWebhookEndpoint(input: { applicationId: $app, environment: DEV, url: $url, topics: ["job.done"] }) { secret } }`, { app: owner.app, url: `${receiver.url}/orphans` }, { cookie: owner.cookie });
    const published: string[] = [];
    for (let n = 0; n < 20; n += 1) {
      const response = await gql<{ publish: { event: { id: string } } }>(url, `mutation($n: Int!) { publish(input: { topic: "job.done", data: { n: $n } }) { event { id } } }`, { n }, { key: owner.sk });
      published.push(response.data!.publish.event.id);
    }
    // A dispatcher reads every entry and dies before enqueueing or acknowledging any of them.
    const stream = `${config.redisKeyPrefix}:${owner.app}:DEV:h:job.done`;
    await app.platform.redis.xgroup('CREATE', stream, WEBHOOK_GROUP, '0', 'MKSTREAM');
    const read = (await app.platform.redis.xreadgroup('GROUP', WEBHOOK_GROUP, 'dead-dispatcher', 'COUNT', 100, 'STREAMS', stream, '>')) as [string, unknown[]][];
    expect(read[0]?.[1]).toHaveLength(20);

    const worker = await startWebhooks(app.platform, { log: () => undefined, dispatcher: { claimIdleMs: 300, claimIntervalMs: 200, forgetConsumersAfterMs: 300 } });
    try {
      await eventually(() => new Set(receiver.on('/orphans').map((r) => r.headers['webhook-id'])).size === 20, 20_000, 'the orphaned entries delivered');
      expect(new Set(receiver.on('/orphans').map((r) => String(r.headers['webhook-id'])))).toEqual(new Set(published));
      // Acknowledged once their attempts are recorded (a moment after the receiver has them).
      await eventually(async () => ((await app.platform.redis.xpending(stream, WEBHOOK_GROUP)) as [number])[0] === 0, 10_000, 'every entry acknowledged');
      // The dead dispatcher's consumer, idle with nothing pending, is removed from the group.
      await eventually(async () => !JSON.stringify(await app.platform.redis.xinfo('CONSUMERS', stream, WEBHOOK_GROUP)).includes('dead-dispatcher'), 10_000, 'the dead consumer forgotten');
    } finally {
      await worker.stop();
    }
  });
});
