import { describe, expect, it } from 'vitest';
import { createLatencyFloor } from '../src/webhooks/latency-floor.js';

describe('latency floor: the fastest answer an endpoint gave lately', () => {
  const clock = (): { now: () => number; advance: (ms: number) => void } => {
    let t = 1_000_000;
    return { now: () => t, advance: (ms) => (t += ms) };
  };

  it('should stay low for an endpoint that answers quickly now and then, however slow the others are', () => {
    const time = clock();
    const floor = createLatencyFloor(time.now);
    floor.note('fast', 2);
    for (let i = 0; i < 50; i += 1) {
      time.advance(10);
      floor.note('fast', 90); // answers that waited for a busy event loop
    }
    expect(floor.of('fast')).toBe(2);
  });

  it('should be high for an endpoint that never answers quickly', () => {
    const floor = createLatencyFloor(clock().now);
    for (const ms of [55, 61, 52, 70]) floor.note('slow', ms);
    expect(floor.of('slow')).toBe(52);
  });

  it('should forget a quick answer after two windows, and an endpoint it is told to', () => {
    const time = clock();
    const floor = createLatencyFloor(time.now);
    floor.note('e', 1);
    time.advance(1_500);
    floor.note('e', 80); // a new window; the last one (1 ms) still counts
    expect(floor.of('e')).toBe(1);
    time.advance(1_000);
    floor.note('e', 75); // the quick window is two windows old now
    expect(floor.of('e')).toBe(75);
    time.advance(2_500);
    floor.note('e', 60); // the 75 ms window ended long ago: only this one counts
    expect(floor.of('e')).toBe(60);
    floor.prune((id) => id !== 'e');
    expect(floor.of('e')).toBe(0);
  });
});
