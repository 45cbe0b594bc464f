/** Real services on 127.0.0.1: free ports, databases to drop, Redis prefixes to delete. */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

export const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Tags every database, Redis prefix and temporary directory of this run with the bench's pid, so that a later
 * run can tell leftovers of a run that was killed outright (SIGKILL: no cleanup ran) from those of a live one.
 */
export const RUN_TAG = `p${process.pid}`;

/** A name nobody else uses: `bench_p4242_3fa9c01b2e`. */
export const uniqueName = (prefix: string): string => `${prefix}_${RUN_TAG}_${randomBytes(5).toString('hex')}`;

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Removes what bench runs that no longer exist left behind: `rt_bench_p<pid>_…` databases, `bench_p<pid>_…`
 * Redis keys and `realtime-bench-…-p<pid>-…` directories whose pid is not running. Names without a pid are
 * never touched. Returns what was removed.
 */
export async function sweepOrphans(): Promise<string[]> {
  const removed: string[] = [];
  const url = new URL(POSTGRES_URL);
  const list = spawnSync(
    'psql',
    ['-h', url.hostname, '-p', url.port || '5432', '-U', decodeURIComponent(url.username) || 'postgres', '-d', 'postgres', '-Atc', "SELECT datname FROM pg_database WHERE datname ~ '^rt_bench_p[0-9]+_'"],
    { encoding: 'utf8', env: { ...process.env, PGPASSWORD: decodeURIComponent(url.password) } },
  );
  for (const name of list.status === 0 ? list.stdout.split('\n').filter(Boolean) : []) {
    const pid = Number(/^rt_bench_p(\d+)_/.exec(name)?.[1]);
    if (pid && !isAlive(pid)) {
      await dropDatabase(name).then(() => removed.push(`database ${name}`), () => undefined);
    }
  }
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2 });
  try {
    await redis.connect();
    const prefixes = new Set<string>();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', 'bench_p*', 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const match = /^(bench_p(\d+)_[0-9a-f]+)/.exec(key);
        if (match?.[1] && !isAlive(Number(match[2]))) prefixes.add(match[1]);
      }
    } while (cursor !== '0');
    for (const prefix of prefixes) removed.push(`${await deleteRedisPrefix(prefix)} Redis keys ${prefix}*`);
  } catch {
    // Redis is checked again when the run starts; a sweep is best effort.
  } finally {
    redis.disconnect();
  }
  for (const entry of readdirSync(tmpdir())) {
    const pid = Number(/^realtime-bench-[0-9a-f]+-p(\d+)-/.exec(entry)?.[1]);
    if (pid && !isAlive(pid)) {
      rmSync(join(tmpdir(), entry), { recursive: true, force: true });
      removed.push(`directory ${join(tmpdir(), entry)}`);
    }
  }
  return removed;
}

/** A TCP port on 127.0.0.1 nobody listens on right now. */
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

/** Drops a database with psql (the bench has no PostgreSQL driver of its own). */
export function dropDatabase(name: string): Promise<void> {
  if (!/^[a-z0-9_]+$/.test(name)) return Promise.reject(new Error(`refusing to drop odd database name ${name}`));
  const url = new URL(POSTGRES_URL);
  const result = spawnSync(
    'psql',
    ['-h', url.hostname, '-p', url.port || '5432', '-U', decodeURIComponent(url.username) || 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-qc', `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`],
    { encoding: 'utf8', env: { ...process.env, PGPASSWORD: decodeURIComponent(url.password) } },
  );
  return result.status === 0 ? Promise.resolve() : Promise.reject(new Error(`dropping ${name} failed: ${result.stderr}`));
}

/** Deletes every Redis key whose name starts with `prefix` (SCAN + DEL). Returns how many were deleted. */
export async function deleteRedisPrefix(prefix: string): Promise<number> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

/** The redis-server's pid when it runs on this machine (to measure its CPU), else undefined. */
export async function redisServerPid(): Promise<number | undefined> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2 });
  try {
    await redis.connect();
    const info = await redis.info('server');
    const pid = Number(/^process_id:(\d+)/m.exec(info)?.[1]);
    return Number.isFinite(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}
