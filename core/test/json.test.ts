import { describe, expect, it } from 'vitest';
import { assertSafeJson, type RealtimeError } from '@realtime/core';

const failure = (value: unknown): RealtimeError => {
  try {
    assertSafeJson(value);
  } catch (error) {
    return error as RealtimeError;
  }
  throw new Error('expected a failure');
};

describe('assertSafeJson', () => {
  it('should accept plain JSON, including "constructor" and "prototype" as ordinary keys', () => {
    const data = JSON.parse('{"a": [1, "x", null, true, {"constructor": {"prototype": {"polluted": 1}}}]}') as unknown;
    expect(() => assertSafeJson(data)).not.toThrow();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('should refuse a __proto__ key anywhere, naming its path', () => {
    const error = failure(JSON.parse('{"a": [{"b": {"__proto__": {"isAdmin": true}}}]}'));
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.message).toContain('/a/0/b/__proto__');
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it('should refuse values JSON cannot carry', () => {
    expect(failure({ n: Number.NaN }).message).toContain('/n');
    expect(failure({ f: () => 1 }).message).toContain('not JSON');
  });

  it('should refuse nesting deeper than the limit', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100; i += 1) deep = [deep];
    expect(failure(deep).message).toContain('deeper than');
  });
});
