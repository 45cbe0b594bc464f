/** The `realtime` CLI as users run it: clear one-line failures, and SIGTERM draining the real process. */
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { connectWs, gql, subscribe } from '../../test/support/clients.js';
import { REPO_ROOT, startServerProcess } from '../../test/support/server-process.js';
import { TEST_ADMIN, deleteRedisPrefix, dropDatabase, eventually, testEnv } from '../../test/support/services.js';

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['server/dist/main.js', ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env } });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('realtime start', () => {
  it('should fail fast naming the PostgreSQL URL and how to start it', async () => {
    const { code, output } = await run(['start'], testEnv({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/realtime' }));
    expect(code).toBe(1);
    expect(output).toMatch(/^realtime: PostgreSQL is unreachable at postgres:\/\/postgres@127\.0\.0\.1:1\/realtime .*pg_ctlcluster/m);
  });

  it('should fail fast naming the Redis URL and how to start it', async () => {
    const env = testEnv({ REDIS_URL: 'redis://127.0.0.1:1' });
    const { code, output } = await run(['start'], env);
    await dropDatabase(new URL(env.DATABASE_URL).pathname.slice(1));
    expect(code).toBe(1);
    expect(output).toMatch(/^realtime: Redis is unreachable at redis:\/\/127\.0\.0\.1:1.*redis-server/m);
  });

  it('should refuse malformed configuration and unknown roles with one clear line', async () => {
    const port = await run(['start'], testEnv({ PORT: 'http' }));
    expect(port.code).toBe(1);
    expect(port.output).toContain('realtime: PORT must be an integer');
    const role = await run(['start', '--role', 'reports'], testEnv());
    expect(role.code).toBe(1);
    expect(role.output).toContain('unknown role "reports"; available roles: api');
  });
});

describe('SIGTERM', () => {
  const env = testEnv();

  afterAll(async () => {
    await deleteRedisPrefix(env.REALTIME_REDIS_PREFIX);
    await dropDatabase(new URL(env.DATABASE_URL).pathname.slice(1));
  });

  it('should close WebSockets with 1001 and exit 0', async () => {
    const server = await startServerProcess(env);
    const signIn = await gql(server.url, `mutation($email: String!, $password: String!) { signIn(email: $email, password: $password) { id } }`, TEST_ADMIN);
    const cookie = signIn.setCookie[0]!.split(';')[0]!;
    const app = (await gql<{ createApplication: { id: string } }>(server.url, `mutation { createApplication(input: { name: "S" }) { id } }`, {}, { cookie })).data!.createApplication.id;
    const pk = (await gql<{ createApiKey: { secret: string } }>(server.url, `mutation($app: ID!) { createApiKey(input: { applicationId: $app, environment: DEV, kind: PUBLISHABLE }) { secret } }`, { app }, { cookie })).data!.createApiKey.secret;
    await gql(server.url, `mutation($app: ID!) { registerTopic(input: { applicationId: $app, environment: DEV, name: "ping", schema: { type: "object" } }) { id } }`, { app }, { cookie });
    const socket = connectWs(server.url, { apiKey: pk });
    subscribe(socket, `subscription { ping { id } }`);
    await eventually(async () => (await (await fetch(`${server.url}/metrics`)).text()).includes('realtime_subscriber_listeners 1'), 10_000, 'subscription');
    const exit = server.stop();
    expect((await socket.closed).code).toBe(1001);
    expect(await exit).toBe(0);
    expect(server.output()).toContain('"msg":"stopped"');
  });
});
