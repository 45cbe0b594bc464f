import { describe, expect, it } from 'vitest';
import { assertMatchesSchema, compileTopicSchema, type RealtimeError } from '@realtime/core';

const schema = {
  type: 'object',
  properties: {
    status: { enum: ['NEW', 'PAID'] },
    at: { type: 'string', format: 'date-time' },
    lines: { type: 'array', items: { type: 'object', properties: { qty: { type: 'integer', minimum: 1 } }, required: ['qty'] } },
  },
  required: ['status'],
  additionalProperties: false,
};

function violations(data: unknown): { path: string; message: string }[] {
  try {
    assertMatchesSchema(compileTopicSchema(schema), data, 'order.updated');
  } catch (error) {
    return (error as RealtimeError).extensions.violations as { path: string; message: string }[];
  }
  return [];
}

describe('topic schemas', () => {
  it('should accept valid data', () => {
    expect(violations({ status: 'NEW', at: '2026-11-27T10:00:00Z', lines: [{ qty: 2 }] })).toEqual([]);
  });

  it('should list every violation with its JSON Pointer', () => {
    expect(violations({ at: 'yesterday', lines: [{ qty: 0 }, {}], extra: 1 })).toEqual(
      expect.arrayContaining([
        { path: '/status', message: 'is required' },
        { path: '/extra', message: 'is not allowed by the schema' },
        { path: '/at', message: 'must match format "date-time"' },
        { path: '/lines/0/qty', message: 'must be >= 1' },
        { path: '/lines/1/qty', message: 'is required' },
      ]),
    );
    expect(violations({ status: 'LOST' })).toEqual([{ path: '/status', message: 'must be one of "NEW", "PAID"' }]);
  });

  it('should refuse schemas that are not strict draft 2020-12 objects', () => {
    expect(() => compileTopicSchema({ type: 'object', properties: { a: { type: 'strin' } } })).toThrow(/valid JSON Schema/);
    expect(() => compileTopicSchema({ type: 'object', propertiez: {} })).toThrow(/unknown keyword/);
    expect(() => compileTopicSchema({ type: 'string' })).toThrow(/root needs "type": "object"/);
    expect(() => compileTopicSchema([])).toThrow(/JSON Schema object/);
  });

  it('should refuse integers beyond 32 bits at publish unless the schema declares a larger bound', () => {
    const validate = compileTopicSchema({
      type: 'object',
      properties: { n: { type: 'integer' }, big: { type: 'integer', maximum: 2 ** 40 }, maybe: { type: ['integer', 'null'] } },
    });
    const violationsOf = (data: unknown): string[] => {
      try {
        assertMatchesSchema(validate, data, 't');
        return [];
      } catch (error) {
        return ((error as RealtimeError).extensions.violations as { path: string; message: string }[]).map((v) => `${v.path} ${v.message}`);
      }
    };
    expect(violationsOf({ n: 2 ** 31 - 1, big: 2 ** 35, maybe: null })).toEqual([]);
    expect(violationsOf({ n: 2 ** 31, maybe: -(2 ** 33) })).toEqual([
      '/n must be <= 2147483647 (integers are delivered as GraphQL Int; declare a larger maximum in the schema for bigger numbers)',
      '/maybe must be >= -2147483648 (integers are delivered as GraphQL Int; declare a larger maximum in the schema for bigger numbers)',
    ]);
  });
});
