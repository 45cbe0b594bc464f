import { describe, expect, it } from 'vitest';
import { changeEventSchema, columnSchema, columnValue, compileTopicSchema, deterministicEventId, formatLsn, normalizeLsn, parseLsn, type ColumnInfo } from '@realtime/core';

const column = (name: string, typeOid: number, typeName: string, notNull = false): ColumnInfo => ({ name, typeOid, typeName, notNull });

describe('LSNs', () => {
  it('should parse, compare and print positions as PostgreSQL does', () => {
    expect(parseLsn('16/B374D848')).toBe((0x16n << 32n) | 0xb374d848n);
    expect(formatLsn(parseLsn('00000016/0000D848'))).toBe('16/D848');
    expect(normalizeLsn('0/1a')).toBe('0/1A');
    expect(parseLsn('1/0') > parseLsn('0/FFFFFFFF')).toBe(true);
    expect(() => parseLsn('16-B3')).toThrow(/not an LSN/);
  });
});

describe('column values', () => {
  it('should convert PostgreSQL text to JSON as the README table says', () => {
    expect(columnValue(16, 'bool', 't')).toBe(true);
    expect(columnValue(23, 'int4', '-42')).toBe(-42);
    expect(columnValue(20, 'int8', '9007199254740991')).toBe(9007199254740991);
    expect(columnValue(1700, 'numeric', '1.50')).toBe('1.50');
    expect(columnValue(701, 'float8', 'NaN')).toBe('NaN');
    expect(columnValue(3802, 'jsonb', '{"a":[1]}')).toEqual({ a: [1] });
    expect(columnValue(1184, 'timestamptz', '2026-11-27 23:48:30.123456+00')).toBe('2026-11-27T23:48:30.123456+00:00');
    expect(columnValue(1184, 'timestamptz', '2026-11-27 23:48:30+05:30')).toBe('2026-11-27T23:48:30+05:30');
    expect(columnValue(1082, 'date', '2026-11-27')).toBe('2026-11-27');
    expect(columnValue(1009, '_text', '{a,"b c",NULL}')).toEqual(['a', 'b c', null]);
    expect(columnValue(1007, '_int4', '{1,2}')).toEqual([1, 2]);
    expect(columnValue(99999, 'mood', 'happy')).toBe('happy');
    expect(columnValue(23, 'int4', null)).toBeNull();
  });

  it('should describe each value with a schema it satisfies, nullable unless NOT NULL', () => {
    expect(columnSchema(column('id', 23, 'int4', true))).toMatchObject({ type: 'integer', minimum: -2147483648 });
    expect(columnSchema(column('note', 25, 'text'))).toMatchObject({ type: ['string', 'null'] });
    expect(columnSchema(column('meta', 3802, 'jsonb'))).not.toHaveProperty('type');
    const schema = changeEventSchema('public', 'orders', [column('id', 23, 'int4', true), column('tags', 1009, '_text'), column('amount', 1700, 'numeric')]);
    const validate = compileTopicSchema(schema);
    const data = { op: 'insert', schema: 'public', table: 'orders', before: null, after: { id: 1, tags: ['a'], amount: '1.50' }, lsn: '0/1', commitTime: '2026-11-27T23:48:30.123456Z', txId: 7 };
    expect(validate(data)).toBe(true);
    expect(validate({ ...data, after: { id: 1, extra: true } })).toBe(false);
  });
});

describe('deterministic event ids', () => {
  it('should give the same change the same UUIDv7-shaped id, ordered by commit time', () => {
    const a = deterministicEventId(1_764_277_083_123, 'source', '0/1A', 1);
    expect(a).toBe(deterministicEventId(1_764_277_083_123, 'source', '0/1A', 1));
    expect(a).not.toBe(deterministicEventId(1_764_277_083_123, 'source', '0/1A', 2));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(deterministicEventId(1_764_277_083_124, 'source', '0/1B', 1) > a).toBe(true);
  });
});
