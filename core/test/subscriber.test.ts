import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { connectRedis, createMessageDecoder, createSubscriber, type EventEnvelope, type Subscriber } from '@realtime/core';
import { REDIS_URL, deleteRedisPrefix, eventually, uniqueName } from '../../test/support/services.js';

describe('subscriber (real Redis)', () => {
  const prefix = uniqueName('rtt');
  let subscriber: Subscriber;
  let publisher: Redis;

  const numsub = async (channel: string): Promise<number> => Number(((await publisher.pubsub('NUMSUB', channel)) as [string, number])[1]);
  const message = (id: string): string => `1_1_1-0\n${JSON.stringify({ id, topic: 't', data: { id } })}`;

  beforeAll(async () => {
    subscriber = createSubscriber(await connectRedis(REDIS_URL, 'test-subscriber'));
    publisher = new Redis(REDIS_URL);
  });

  afterAll(async () => {
    await subscriber.close();
    publisher.disconnect();
    await deleteRedisPrefix(prefix);
  });

  it('should decode a message once and hand the same frozen envelope to every listener', async () => {
    const channel = `${prefix}:decode`;
    const seen: EventEnvelope[] = [];
    const stopA = await subscriber.listen(channel, (e) => seen.push(e));
    const stopB = await subscriber.listen(channel, (e) => seen.push(e));
    expect(await numsub(channel)).toBe(1);
    await publisher.publish(channel, message('e1'));
    await eventually(() => seen.length === 2, 5_000, 'two deliveries');
    expect(seen[0]).toBe(seen[1]);
    expect(Object.isFrozen(seen[0])).toBe(true);
    expect(seen[0]).toMatchObject({ id: 'e1', cursor: '1_1_1-0' });
    stopA();
    stopB();
  });

  it('should hand a subject listener only its subject’s events, every plain listener all of them, and unsubscribe with the last', async () => {
    const channel = `${prefix}:subjects`;
    const withSubject = (id: string, subject: string | null): string => `1_1_1-0\n${JSON.stringify({ id, topic: 't', subject, data: {} })}`;
    const all: string[] = [];
    const alice: string[] = [];
    const bob: string[] = [];
    const stopAll = await subscriber.listen(channel, (e) => all.push(e.id));
    const stopAlice = await subscriber.listen(channel, (e) => alice.push(e.id), 'alice');
    const stopBob = await subscriber.listen(channel, (e) => bob.push(e.id), 'bob');
    for (const [id, subject] of [['1', 'alice'], ['2', 'bob'], ['3', null], ['4', 'carol'], ['5', 'alice']] as const) {
      await publisher.publish(channel, withSubject(id, subject));
    }
    await eventually(() => all.length === 5, 5_000, 'every event to the plain listener');
    expect(alice).toEqual(['1', '5']);
    expect(bob).toEqual(['2']);
    expect(subscriber.listenerCount()).toBe(3);
    stopAll();
    stopAlice();
    expect(await numsub(channel)).toBe(1); // bob still listens
    stopBob();
    await eventually(async () => (await numsub(channel)) === 0, 5_000, 'unsubscribed with the last subject listener');
    expect(subscriber.listenerCount()).toBe(0);
  });

  it('should leave no listener and no Redis subscription after 1,000 subscribe/unsubscribe cycles', async () => {
    const channels = Array.from({ length: 10 }, (_, i) => `${prefix}:cycle:${i}`);
    for (let cycle = 0; cycle < 1_000; cycle += 1) {
      const stop = await subscriber.listen(channels[cycle % channels.length]!, () => undefined);
      if (cycle % 3 === 0) {
        // Interleave: leave a second listener on the channel briefly, released out of order.
        const other = await subscriber.listen(channels[(cycle + 1) % channels.length]!, () => undefined);
        stop();
        other();
      } else {
        stop();
      }
    }
    await eventually(() => subscriber.listenerCount() === 0 && subscriber.channelCount() === 0, 5_000, 'release');
    for (const channel of channels) expect(await numsub(channel)).toBe(0);
  });

  it('should keep delivering when a listener joins while the last one is leaving', async () => {
    const channel = `${prefix}:race`;
    const seen: string[] = [];
    for (let i = 0; i < 50; i += 1) {
      const stop = await subscriber.listen(channel, () => undefined);
      stop();
    }
    const stop = await subscriber.listen(channel, (e) => seen.push(e.id));
    await eventually(async () => (await numsub(channel)) === 1, 5_000, 'resubscribed');
    await publisher.publish(channel, message('late'));
    await eventually(() => seen.includes('late'), 5_000, 'delivery after churn');
    stop();
  });

  it('should dispatch messages that arrive together between the batch hooks, in order, and a lone one without them', async () => {
    const a = `${prefix}:batch-a`;
    const b = `${prefix}:batch-b`;
    const seen: string[] = [];
    const stopHooks = subscriber.onBatch({ begin: () => seen.push('begin'), end: () => seen.push('end') });
    const stopA = await subscriber.listen(a, (e) => seen.push(e.id));
    const stopB = await subscriber.listen(b, (e) => seen.push(e.id));
    const ids = ['a1', 'b1', 'a2', 'a3', 'b2'];
    // One MULTI: Redis writes the five messages to the subscriber connection at once, so they arrive together.
    const multi = publisher.multi();
    for (const id of ids) multi.publish(id.startsWith('a') ? a : b, message(id));
    await multi.exec();
    await eventually(() => seen.includes('end'), 5_000, 'the batch');
    expect(seen).toEqual(['begin', ...ids, 'end']);

    seen.length = 0;
    await publisher.publish(a, message('alone'));
    await eventually(() => seen.length > 0, 5_000, 'the lone message');
    expect(seen).toEqual(['alone']);

    // Without hooks, messages that come together are still each delivered, in order.
    stopHooks();
    seen.length = 0;
    const again = publisher.multi();
    for (const id of ids) again.publish(id.startsWith('a') ? a : b, message(`${id}'`));
    await again.exec();
    await eventually(() => seen.length === ids.length, 5_000, 'the second batch');
    expect(seen).toEqual(ids.map((id) => `${id}'`));
    stopA();
    stopB();
  });
});

describe('message decoder', () => {
  it('should hand every listener of one message the same frozen object, and a new message a new one', () => {
    const decode = createMessageDecoder<{ data: { n: number } }>();
    const message = JSON.stringify({ data: { n: 1 } });
    const first = decode(message);
    expect(decode(message)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(first).toEqual({ data: { n: 1 } });
    const second = decode(JSON.stringify({ data: { n: 2 } }));
    expect(second).not.toBe(first);
    expect(second.data.n).toBe(2);
    // A malformed message throws and leaves the last good one in place.
    expect(() => decode('{not json')).toThrow(SyntaxError);
    expect(decode(JSON.stringify({ data: { n: 2 } }))).toBe(second);
  });
});
