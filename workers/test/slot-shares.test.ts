/** Which endpoint may take one of the webhook worker's slots (pure unit, clock injected). */
import { describe, expect, it } from 'vitest';
import { createSlotShares } from '../src/webhooks/delivery-processor.js';
import type { SendResult } from '../src/webhooks/sender.js';

/** What an attempt's sender reported: a status (null: no response) after `latencyMs`. */
const answer = (statusCode: number | null, latencyMs: number): SendResult => ({
  ok: statusCode !== null && statusCode < 300,
  statusCode,
  latencyMs,
  responseExcerpt: null,
  error: statusCode === null ? 'timed out' : null,
  retryAfterMs: null,
});

const takeAll = (shares: ReturnType<typeof createSlotShares>, endpointId: string, times: number): number =>
  Array.from({ length: times }, () => shares.take(endpointId)).filter(Boolean).length;

describe('slot shares', () => {
  it('should give an endpoint that answers every slot', () => {
    const shares = createSlotShares(20);
    expect(takeAll(shares, 'a', 30)).toBe(20);
    shares.release('a', answer(204, 50));
    expect(shares.take('a')).toBe(true);
  });

  it('should keep the last quarter from a slow endpoint holding a tenth, until it answers quickly or 30 s pass', () => {
    let now = 0;
    const shares = createSlotShares(20, () => now);
    expect(takeAll(shares, 'a', 16)).toBe(16);
    shares.release('a', answer(null, 1_000)); // timed out: a is slow (15 held)
    expect(shares.take('a')).toBe(false); // 15 in flight: only the reserved five are left, and a holds more than 2
    expect(takeAll(shares, 'b', 5)).toBe(5); // another endpoint takes them
    shares.release('b', answer(204, 1_500)); // answered, but slowly: b is slow too
    expect(shares.take('b')).toBe(false); // b holds 4, more than its tenth
    shares.release('b', null); // no attempt made: says nothing about the endpoint
    shares.release('b', null);
    shares.release('b', null);
    expect(shares.take('b')).toBe(true); // b holds 1, below its tenth (2)
    expect(shares.take('b')).toBe(false);
    now += 30_001; // a's and b's 30 s are over
    expect(shares.take('a')).toBe(true);
    shares.release('a', answer(null, 0)); // refused: slow again
    expect(shares.take('a')).toBe(false);
    shares.release('a', answer(204, 5)); // a quick answer ends it at once
    expect(takeAll(shares, 'a', 3)).toBe(3);
  });
});
