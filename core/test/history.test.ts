import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { parseCursor, readHistoryBatch, readHistoryState, topicKeys } from '@realtime/core';
import { REDIS_URL, deleteRedisPrefix, uniqueName } from '../../test/support/services.js';

describe('history reads (real Redis)', () => {
  const prefix = uniqueName('rtt');
  const scope = { applicationId: '00000000-0000-4000-8000-000000000001', environment: 'DEV' as const };
  let redis: Redis;
  let other: Redis;

  /** Appends entries as the publish script stores them: `o` (offset) and `e` (envelope JSON). */
  const append = async (topic: string, epoch: string, events: { id: string; data: unknown }[], firstOffset = 1): Promise<string[]> => {
    const keys = topicKeys(prefix, scope, topic);
    await redis.set(keys.epoch, epoch);
    const positions: string[] = [];
    for (const [i, event] of events.entries()) {
      const offset = firstOffset + i;
      positions.push((await redis.xadd(keys.history, '*', 'o', String(offset), 'e', JSON.stringify({ ...event, topic }))) as string);
      await redis.set(keys.offset, String(offset));
    }
    return positions;
  };

  beforeAll(() => {
    redis = new Redis(REDIS_URL);
    other = new Redis(REDIS_URL);
  });

  afterAll(async () => {
    redis.disconnect();
    other.disconnect();
    await deleteRedisPrefix(prefix);
  });

  it('should read epoch, last offset and the oldest kept entry in one call, and nulls for a topic never written', async () => {
    const keys = topicKeys(prefix, scope, 'state');
    expect(await readHistoryState(redis, keys)).toEqual({ epoch: null, lastOffset: 0, first: null });
    const positions = await append('state', '1700000000000', [{ id: 'a', data: 1 }, { id: 'b', data: 2 }, { id: 'c', data: 3 }], 7);
    // The oldest kept entry is trimmed away: the state must name the next one, with its own offset.
    await redis.xdel(keys.history, positions[0] as string);
    expect(await readHistoryState(redis, keys)).toEqual({ epoch: '1700000000000', lastOffset: 9, first: { position: positions[1], offset: 8 } });
  });

  it('should hand every reader of one entry through one connection the same frozen event, with its cursor', async () => {
    const keys = topicKeys(prefix, scope, 'shared');
    const positions = await append('shared', '1700000000001', [{ id: 'a', data: { n: 1 } }, { id: 'b', data: { n: 2 } }]);
    const first = await readHistoryBatch(redis, keys, '1700000000001', null, 10);
    const second = await readHistoryBatch(redis, keys, '1700000000001', positions[0] as string, 10);
    expect(first.events.map((e) => e.id)).toEqual(['a', 'b']);
    expect(second.events.map((e) => e.id)).toEqual(['b']);
    expect(second.events[0]).toBe(first.events[1]);
    expect(Object.isFrozen(first.events[0])).toBe(true);
    expect(parseCursor(first.events[1]!.cursor)).toEqual({ epoch: '1700000000001', offset: 2, position: positions[1] });
    // Another connection (which may be another Redis server) decodes its own.
    const elsewhere = await readHistoryBatch(other, keys, '1700000000001', null, 10);
    expect(elsewhere.events[0]).toEqual(first.events[0]);
    expect(elsewhere.events[0]).not.toBe(first.events[0]);
  });

  it('should not hand out an entry of a lost history for the same position under a new epoch', async () => {
    const keys = topicKeys(prefix, scope, 'epochs');
    await append('epochs', '1700000000002', [{ id: 'old', data: 1 }]);
    const before = await readHistoryBatch(redis, keys, '1700000000002', null, 10);
    const position = before.first!.position;
    // The history is lost and written again; the new entry is forced onto the same position.
    await redis.del(keys.history);
    await redis.xadd(keys.history, position, 'o', '1', 'e', JSON.stringify({ id: 'new', topic: 'epochs', data: 2 }));
    const after = await readHistoryBatch(redis, keys, '1700000000003', null, 10);
    expect(after.events.map((e) => [e.id, parseCursor(e.cursor)?.epoch])).toEqual([['new', '1700000000003']]);
  });

  it('should keep decoding correctly once the shared entries exceed their memory bound', async () => {
    const keys = topicKeys(prefix, scope, 'bound');
    // 20 entries of about 300 KB: more than the 2 MB kept decoded per connection, so the oldest are let go.
    const pad = 'x'.repeat(300 * 1024);
    const positions = await append('bound', '1700000000004', Array.from({ length: 20 }, (_, i) => ({ id: `e${i}`, data: { i, pad } })));
    const whole = await readHistoryBatch(redis, keys, '1700000000004', null, 100);
    expect(whole.events.map((e) => (e.data as { i: number }).i)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    // The newest are still shared; the oldest were let go and are decoded again, equal and correct.
    const newest = await readHistoryBatch(redis, keys, '1700000000004', positions[18] as string, 100);
    expect(newest.events[0]).toBe(whole.events[19]);
    const oldest = await readHistoryBatch(redis, keys, '1700000000004', null, 1);
    expect(oldest.events[0]).not.toBe(whole.events[0]);
    expect(oldest.events[0]).toEqual(whole.events[0]);
  });
});
