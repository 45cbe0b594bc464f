/** Commands a producer issues in one tick leave in one write (real Redis on 127.0.0.1). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, createWriteCoalescer, type Redis } from '@realtime/core';
import { REDIS_URL, deleteRedisPrefix, uniqueName } from '../../test/support/services.js';

describe('write coalescer (real Redis)', () => {
  const prefix = uniqueName('rtt');
  let redis: Redis;

  beforeAll(async () => {
    redis = await connectRedis(REDIS_URL, 'test-coalescer');
  });

  afterAll(async () => {
    redis.disconnect();
    await deleteRedisPrefix(prefix);
  });

  /** Counts the socket's writes that reach the kernel (one chunk, or several at once after a cork). */
  function countWrites(): { count: () => number; stop: () => void } {
    const stream = redis.stream as unknown as { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void };
    const { _write: write, _writev: writev } = stream;
    let count = 0;
    stream._write = (...args) => {
      count += 1;
      write.apply(stream, args);
    };
    stream._writev = (...args) => {
      count += 1;
      writev.apply(stream, args);
    };
    return {
      count: () => count,
      stop: () => {
        stream._write = write;
        stream._writev = writev;
      },
    };
  }

  it('should send the commands of one tick, promise jobs included, in one write and in order', async () => {
    const coalesce = createWriteCoalescer(redis);
    const key = `${prefix}:list`;
    const writes = countWrites();
    const replies: Promise<unknown>[] = [];
    // Half issued at once, half from promise jobs of the same tick (as a producer awaiting its own steps does).
    for (let i = 0; i < 20; i += 1) {
      coalesce();
      replies.push(redis.rpush(key, String(i)));
    }
    await Promise.resolve();
    for (let i = 20; i < 40; i += 1) {
      await Promise.resolve();
      coalesce();
      replies.push(redis.rpush(key, String(i)));
    }
    await Promise.all(replies);
    writes.stop();
    expect(writes.count()).toBe(1);
    expect(await redis.lrange(key, 0, -1)).toEqual(Array.from({ length: 40 }, (_, i) => String(i)));
  });

  it('should hold no command past its tick: the next tick’s commands go out on their own', async () => {
    const coalesce = createWriteCoalescer(redis);
    const key = `${prefix}:ticks`;
    const writes = countWrites();
    for (let tick = 0; tick < 3; tick += 1) {
      coalesce();
      await redis.rpush(key, String(tick)); // answered: the tick's write was not held back
      await new Promise((resolve) => setImmediate(resolve));
    }
    writes.stop();
    expect(writes.count()).toBe(3);
    expect(await redis.lrange(key, 0, -1)).toEqual(['0', '1', '2']);
  });
});
