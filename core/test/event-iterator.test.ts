import { describe, expect, it } from 'vitest';
import { ATTACH_SINK, createEventIterator, type EventEnvelope, type EventListener } from '@realtime/core';

const event = (n: number): EventEnvelope => ({
  id: String(n), topic: 't', source: 's', time: '', applicationId: 'a', environment: 'DEV',
  subject: null, schemaVersion: 1, cursor: `1_${n}-0`, traceparent: null, data: { n },
});

async function source(options: { bufferSize?: number; filter?: (e: EventEnvelope) => boolean } = {}) {
  let push: EventListener = () => undefined;
  let stops = 0;
  const iterator = await createEventIterator({
    ...options,
    start: async (p) => {
      push = p;
      return () => {
        stops += 1;
      };
    },
  });
  return { iterator, push: (e: EventEnvelope) => push(e), stops: () => stops };
}

describe('event iterator', () => {
  it('should deliver pushed events in order, buffered or awaited', async () => {
    const { iterator, push } = await source();
    const pending = iterator.next();
    push(event(1));
    push(event(2));
    push(event(3));
    expect((await pending).value?.id).toBe('1');
    expect((await iterator.next()).value?.id).toBe('2');
    expect((await iterator.next()).value?.id).toBe('3');
  });

  it('should drop filtered events before buffering them', async () => {
    const { iterator, push } = await source({ bufferSize: 1, filter: (e) => (e.data as { n: number }).n % 2 === 0 });
    for (let n = 1; n <= 3; n += 1) push(event(n));
    expect((await iterator.next()).value?.id).toBe('2');
  });

  it('should stop a consumer that falls a buffer behind with SLOW_CONSUMER, releasing its source once', async () => {
    const { iterator, push, stops } = await source({ bufferSize: 3 });
    for (let n = 1; n <= 10; n += 1) push(event(n));
    expect(stops()).toBe(1);
    const failure = await iterator.next().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toHaveProperty('code', 'SLOW_CONSUMER');
    expect((await iterator.next()).done).toBe(true);
    expect(stops()).toBe(1);
  });

  it('should release its source once when returned, and end a pending read', async () => {
    const { iterator, stops } = await source();
    const pending = iterator.next();
    await iterator.return?.();
    await iterator.return?.();
    expect((await pending).done).toBe(true);
    expect(stops()).toBe(1);
  });

  it('should hand events to an attached sink only once nothing is left to pull, in order, and end it on return', async () => {
    const { iterator, push, stops } = await source({ filter: (e) => (e.data as { n: number }).n !== 4 });
    const received: string[] = [];
    let ended = 0;
    const sink = { next: (e: EventEnvelope) => void received.push(e.id), end: () => void (ended += 1) };
    push(event(1));
    expect(iterator[ATTACH_SINK]?.(sink)).toBe(false); // event 1 is buffered: it must be pulled first
    expect((await iterator.next()).value?.id).toBe('1');
    expect(iterator[ATTACH_SINK]?.(sink)).toBe(true);
    for (let n = 2; n <= 5; n += 1) push(event(n));
    expect(received).toEqual(['2', '3', '5']); // synchronously, filtered
    await iterator.return?.();
    push(event(6));
    expect(received).toEqual(['2', '3', '5']);
    expect(ended).toBe(1);
    expect(stops()).toBe(1);
  });
});
