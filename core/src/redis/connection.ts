import { Redis } from 'ioredis';
import { ServiceUnreachableError, redactUrl } from '../db/pool.js';
import { createTickCorks } from '../tick-corks.js';

export type { Redis };

const REDIS_HINT =
  'start it with `redis-server --daemonize yes --bind 127.0.0.1 --port 6379` or set REDIS_URL';

/**
 * Opens a Redis connection and waits until it answers, failing fast with a message that names the URL.
 * After that, ioredis reconnects by itself; commands issued while it is down fail after one retry.
 */
export async function connectRedis(url: string, name: string): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectionName: name,
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
    enableOfflineQueue: true,
  });
  redis.on('error', () => {
    // Errors are reported by the commands that fail; without a listener ioredis would print every reconnect.
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    throw new ServiceUnreachableError(`Redis is unreachable at ${redactUrl(url)} (${(error as Error).message}); ${REDIS_HINT}`);
  }
  return redis;
}

/**
 * Closes a connection: politely (QUIT, so pending replies arrive) when it is up, at once when it is not
 * (a connection waiting to reconnect never emits 'end', so there is nothing to wait for).
 * Never waits longer than `timeoutMs`.
 */
export async function closeRedis(redis: Redis, timeoutMs = 2_000): Promise<void> {
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  const ended = new Promise<void>((resolve) => {
    redis.once('end', () => resolve());
    setTimeout(resolve, timeoutMs).unref();
  });
  await redis.quit().catch(() => redis.disconnect());
  await ended;
}

/**
 * Returns a function to call before issuing a command on `redis` that others are likely to follow in the same
 * tick (a producer publishing a batch of changes): the first call of a tick corks the connection's socket, and it
 * is uncorked once the tick's work, its promise jobs included, is done, so the tick's commands leave in one write
 * instead of one system call each. Nothing waits longer than the tick that issued it. Does nothing while the
 * connection is not ready (ioredis then queues the commands itself).
 */
export function createWriteCoalescer(redis: Redis): () => void {
  const corks = createTickCorks();
  return () => {
    if (redis.status !== 'ready') return;
    const stream = redis.stream;
    if (!stream || typeof stream.cork !== 'function') return;
    corks.cork(stream);
  };
}
