/**
 * Real services for tests: each test file gets its own PostgreSQL database and Redis key prefix, and
 * removes both when it ends. Nothing here mocks PostgreSQL or Redis.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import pg from 'pg';
import { Redis } from 'ioredis';
import { ensureDatabase, loadConfig, type Config } from '@realtime/core';

export const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export const uniqueName = (prefix: string): string => `${prefix}_${randomBytes(5).toString('hex')}`;

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A URL naming a new, not yet created database (the platform creates it, as in production). */
export function freshDatabaseUrl(): { url: string; name: string } {
  const name = uniqueName('rt_test');
  return { url: `${POSTGRES_URL}/${name}`, name };
}

export async function dropDatabase(name: string): Promise<void> {
  const client = new pg.Client({ connectionString: `${POSTGRES_URL}/postgres` });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const { url, name } = freshDatabaseUrl();
  await ensureDatabase(url);
  return { url, name, drop: () => dropDatabase(name) };
}

/** Deletes every Redis key under a prefix. */
export async function deleteRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export const TEST_ADMIN = { email: 'owner@example.test', password: 'correct horse battery staple' };

/** Environment for a platform of its own: fresh database, own Redis prefix, quiet logs, any free port. */
export function testEnv(overrides: Record<string, string> = {}): Record<string, string> & { DATABASE_URL: string; REALTIME_REDIS_PREFIX: string } {
  return {
    DATABASE_URL: freshDatabaseUrl().url,
    REDIS_URL,
    REALTIME_REDIS_PREFIX: uniqueName('rtt'),
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    REALTIME_ADMIN_EMAIL: TEST_ADMIN.email,
    REALTIME_ADMIN_PASSWORD: TEST_ADMIN.password,
    REALTIME_SHUTDOWN_GRACE_MS: '2000',
    ...overrides,
  };
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig(testEnv(overrides));
}

/** Removes what a test platform left: its database and its Redis keys. */
export async function cleanupConfig(config: Config): Promise<void> {
  await deleteRedisPrefix(config.redisKeyPrefix);
  await dropDatabase(decodeURIComponent(new URL(config.databaseUrl).pathname.slice(1)));
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls until `check` holds (or throws after `timeoutMs`): for conditions a test cannot await directly. */
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface PrivateRedis {
  url: string;
  stop(): Promise<void>;
}

/**
 * A real redis-server of the test's own on a free port, for tests that FLUSHALL or kill Redis without
 * disturbing other test files that share the machine's Redis.
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const { spawn } = await import('node:child_process');
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  await eventually(async () => {
    const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      return true;
    } catch {
      return false;
    } finally {
      probe.disconnect();
    }
  }, 10_000, 'private redis-server');
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    url,
    async stop() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
