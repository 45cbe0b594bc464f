import { jsonPointer } from '../json.js';

/** One structural difference between two JSON Schemas, at a JSON Pointer into the schema document. */
export interface SchemaDiffEntry {
  /** Where in the schema document (`/properties/status/enum`). */
  path: string;
  kind: 'ADDED' | 'REMOVED' | 'CHANGED';
  before: unknown;
  after: unknown;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The structural differences between two schema documents, in document order: what a reviewer reads
 * next to the compatibility verdict. Arrays (enum, required, type lists) are compared as whole values.
 */
export function diffSchemas(before: unknown, after: unknown): SchemaDiffEntry[] {
  const entries: SchemaDiffEntry[] = [];
  const walk = (a: unknown, b: unknown, path: string[]): void => {
    if (isObject(a) && isObject(b)) {
      for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
        if (!(key in b)) entries.push({ path: jsonPointer([...path, key]), kind: 'REMOVED', before: a[key], after: null });
        else if (!(key in a)) entries.push({ path: jsonPointer([...path, key]), kind: 'ADDED', before: null, after: b[key] });
        else walk(a[key], b[key], [...path, key]);
      }
      return;
    }
    if (JSON.stringify(a) !== JSON.stringify(b)) entries.push({ path: jsonPointer(path), kind: 'CHANGED', before: a, after: b });
  };
  walk(before, after, []);
  return entries;
}
