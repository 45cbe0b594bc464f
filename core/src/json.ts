import { badInput } from './errors.js';

/** Keys that would reach an object's prototype if a consumer merged the data naively. */
const FORBIDDEN_KEYS = new Set(['__proto__']);

/** Formats a JSON Pointer (RFC 6901) from path segments. */
export function jsonPointer(path: readonly (string | number)[]): string {
  if (path.length === 0) return '/';
  return path.map((s) => '/' + String(s).replaceAll('~', '~0').replaceAll('/', '~1')).join('');
}

/**
 * Checks that a value is plain JSON that is safe to store and fan out: only objects, arrays, strings,
 * finite numbers, booleans and null, nested at most `maxDepth` deep, and no `__proto__` key anywhere
 * (`constructor` and `prototype` are ordinary data keys: JSON.parse and our copies never assign through them).
 * Throws BAD_USER_INPUT naming the offending path.
 */
export function assertSafeJson(value: unknown, maxDepth = 64): void {
  const visit = (node: unknown, path: (string | number)[]): void => {
    if (path.length > maxDepth) throw badInput(`data is nested deeper than ${maxDepth} levels at ${jsonPointer(path)}`);
    if (node === null || typeof node === 'string' || typeof node === 'boolean') return;
    if (typeof node === 'number') {
      if (!Number.isFinite(node)) throw badInput(`data has a non-finite number at ${jsonPointer(path)}`);
      return;
    }
    if (Array.isArray(node)) {
      node.forEach((item, index) => visit(item, [...path, index]));
      return;
    }
    if (typeof node === 'object') {
      for (const key of Object.keys(node)) {
        if (FORBIDDEN_KEYS.has(key)) {
          throw badInput(`data may not contain the key "${key}" (at ${jsonPointer([...path, key])})`, {
            path: jsonPointer([...path, key]),
          });
        }
        visit((node as Record<string, unknown>)[key], [...path, key]);
      }
      return;
    }
    throw badInput(`data has a value that is not JSON (${typeof node}) at ${jsonPointer(path)}`);
  };
  visit(value, []);
}
