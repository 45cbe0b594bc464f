import pg from 'pg';

/**
 * How PostgreSQL column values become JSON in CDC events, and the JSON Schema that describes them. The
 * replication stream and snapshots both receive values in PostgreSQL's text format and convert them here,
 * so a row reads the same whichever path delivered it.
 *
 * | PostgreSQL | JSON | JSON Schema |
 * |---|---|---|
 * | boolean | true/false | boolean |
 * | smallint, integer, oid | number | integer with 16/32-bit bounds |
 * | bigint | number (exact up to 2^53) | integer with 64-bit bounds |
 * | real, double precision | number (NaN/±Infinity as strings) | number or string |
 * | numeric | string (exact decimal) | string |
 * | json, jsonb | the JSON value | any |
 * | timestamptz | ISO-8601 string with offset | string, format date-time |
 * | arrays of built-in types | arrays of the element's JSON | array |
 * | everything else (text, uuid, date, timestamp, interval, bytea as `\x…`, enums, …) | PostgreSQL's text | string |
 */

/** A column as the catalog describes it. */
export interface ColumnInfo {
  name: string;
  typeOid: number;
  /** pg_type.typname (`int4`, `_text`, an enum's name). */
  typeName: string;
  notNull: boolean;
}

const BOOL = 16;
const INT8 = 20;
const INT2 = 21;
const INT4 = 23;
const OID = 26;
const FLOAT4 = 700;
const FLOAT8 = 701;
const JSON_OID = 114;
const JSONB = 3802;
const TIMESTAMPTZ = 1184;
const UUID = 2950;

const noParse = pg.types.getTypeParser(25);

/** True for array types pg parses into arrays (built-in element types). */
const parsedArray = (typeOid: number, typeName: string): boolean =>
  typeName.startsWith('_') && pg.types.getTypeParser(typeOid) !== noParse;

/** ISO-8601 from PostgreSQL's timestamptz text (`2026-11-27 23:48:30.123456+00`), keeping microseconds. */
function isoTimestamp(text: string): string {
  const match = /^(\d{4,}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)([+-]\d\d)(?::?(\d\d))?(?::?(\d\d))?$/.exec(text);
  if (!match) return text; // infinity, -infinity, BC dates: kept as PostgreSQL prints them
  return `${match[1] as string}T${match[2] as string}${match[3] as string}:${match[4] ?? '00'}`;
}

function jsonish(value: unknown): unknown {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Buffer.isBuffer(value)) return `\\x${value.toString('hex')}`;
  if (Array.isArray(value)) return value.map(jsonish);
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return value;
}

/** Converts one value from PostgreSQL's text format to its JSON form (see the table above). */
export function columnValue(typeOid: number, typeName: string, text: string | null): unknown {
  if (text === null) return null;
  switch (typeOid) {
    case BOOL:
      return text === 't' || text === 'true';
    case INT2:
    case INT4:
    case OID:
    case INT8:
      return Number(text);
    case FLOAT4:
    case FLOAT8: {
      const n = Number(text);
      return Number.isFinite(n) ? n : text;
    }
    case JSON_OID:
    case JSONB:
      return JSON.parse(text) as unknown;
    case TIMESTAMPTZ:
      return isoTimestamp(text);
    default:
      if (parsedArray(typeOid, typeName)) return jsonish(pg.types.getTypeParser(typeOid)(text));
      return text;
  }
}

/** The JSON Schema of one column's values (nullable unless the column is NOT NULL). */
export function columnSchema(column: ColumnInfo): Record<string, unknown> {
  const base = ((): Record<string, unknown> => {
    switch (column.typeOid) {
      case BOOL:
        return { type: 'boolean' };
      case INT2:
        return { type: 'integer', minimum: -32768, maximum: 32767 };
      case INT4:
        return { type: 'integer', minimum: -2147483648, maximum: 2147483647 };
      case OID:
        return { type: 'integer', minimum: 0, maximum: 4294967295 };
      case INT8:
        // ±2^63, as close as a JSON number gets to bigint's range (values beyond 2^53 lose precision).
        return { type: 'integer', minimum: -(2 ** 63), maximum: 2 ** 63 };
      case FLOAT4:
      case FLOAT8:
        return { type: ['number', 'string'] };
      case JSON_OID:
      case JSONB:
        return {};
      case TIMESTAMPTZ:
        return { type: 'string' };
      case UUID:
        return { type: 'string', format: 'uuid' };
      default:
        return parsedArray(column.typeOid, column.typeName) ? { type: 'array' } : { type: 'string' };
    }
  })();
  const schema: Record<string, unknown> = { ...base, description: `PostgreSQL ${column.typeName.replace(/^_(.*)$/, '$1[]')}` };
  if (column.notNull || base.type === undefined) return schema;
  schema.type = Array.isArray(base.type) ? [...(base.type as string[]), 'null'] : [base.type, 'null'];
  return schema;
}

/**
 * The JSON Schema of a row: one property per column, none required (key-only and TOAST-less images omit
 * some), no others allowed, so an added column is a compatible new version under the registry's rules.
 */
export function rowSchema(columns: readonly ColumnInfo[]): Record<string, unknown> {
  return {
    type: ['object', 'null'],
    properties: Object.fromEntries(columns.map((c) => [c.name, columnSchema(c)])),
    additionalProperties: false,
  };
}
