import jsonpatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import { badInput } from '../errors.js';
import { assertSafeJson } from '../json.js';

/** Most operations one patch may carry. */
export const MAX_PATCH_OPERATIONS = 1000;

const OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

/** What each fast-json-patch error name means, for people. */
const REASONS: Record<string, string> = {
  OPERATION_NOT_AN_OBJECT: 'is not an object',
  OPERATION_OP_INVALID: 'has an "op" that is not one of add, remove, replace, move, copy, test',
  OPERATION_PATH_INVALID: 'has a "path" that is not a JSON Pointer (a string starting with "/", or "" for the whole document)',
  OPERATION_FROM_REQUIRED: 'needs a "from" (move and copy)',
  OPERATION_VALUE_REQUIRED: 'needs a "value" (add, replace and test)',
  OPERATION_VALUE_CANNOT_CONTAIN_UNDEFINED: 'has a "value" that is not JSON',
  OPERATION_PATH_CANNOT_ADD: 'cannot add there: the parent does not exist',
  OPERATION_PATH_UNRESOLVABLE: 'names a path that does not exist',
  OPERATION_FROM_UNRESOLVABLE: 'names a "from" path that does not exist',
  OPERATION_PATH_ILLEGAL_ARRAY_INDEX: 'uses an array index that is not an unsigned integer',
  OPERATION_VALUE_OUT_OF_BOUNDS: 'uses an array index past the end of the array',
  TEST_OPERATION_FAILED: 'failed: the value at the path is not the expected one',
};

/**
 * Checks the shape of every operation before anything is applied: an array of 1–1000 RFC 6902
 * operations with string paths, and values that are safe JSON. Throws BAD_USER_INPUT naming the first
 * bad operation's index and path.
 */
export function assertPatchShape(patch: unknown): asserts patch is Operation[] {
  if (!Array.isArray(patch) || patch.length === 0 || patch.length > MAX_PATCH_OPERATIONS) {
    throw badInput(`patch must be a list of 1–${MAX_PATCH_OPERATIONS} JSON Patch (RFC 6902) operations`, { field: 'patch' });
  }
  patch.forEach((op: unknown, index) => {
    const fail = (reason: string, path?: unknown): never => {
      throw badInput(`patch[${index}]${typeof path === 'string' ? ` (${path})` : ''} ${reason}`, {
        field: 'patch',
        index,
        ...(typeof path === 'string' ? { path } : {}),
      });
    };
    if (typeof op !== 'object' || op === null || Array.isArray(op)) return fail(REASONS.OPERATION_NOT_AN_OBJECT as string);
    const { op: name, path, from } = op as Record<string, unknown>;
    if (typeof name !== 'string' || !OPS.has(name)) return fail(REASONS.OPERATION_OP_INVALID as string, path);
    if (typeof path !== 'string' || (path !== '' && !path.startsWith('/'))) return fail(REASONS.OPERATION_PATH_INVALID as string, path);
    if ((name === 'move' || name === 'copy') && (typeof from !== 'string' || (from !== '' && !from.startsWith('/')))) {
      return fail(REASONS.OPERATION_FROM_REQUIRED as string, path);
    }
    if (name === 'add' || name === 'replace' || name === 'test') {
      if (!('value' in op)) return fail(REASONS.OPERATION_VALUE_REQUIRED as string, path);
      try {
        assertSafeJson((op as { value: unknown }).value);
      } catch (error) {
        return fail(`has a "value" that is not allowed: ${(error as Error).message}`, path);
      }
    }
    if (path.split('/').includes('__proto__') || (typeof from === 'string' && from.split('/').includes('__proto__'))) {
      return fail('may not reach "__proto__"', path);
    }
  });
}

/**
 * Applies a patch to a copy of `state` and returns the new state; `state` is never modified. Operations
 * apply in order and all or none do: the first failing one (missing path, failed `test`, bad index)
 * throws BAD_USER_INPUT with its index and path, and nothing is returned.
 */
export function applyDocumentPatch(state: unknown, patch: readonly Operation[]): unknown {
  try {
    // validateOperation: true checks each op against the document as it is at that step.
    return jsonpatch.applyPatch(state, patch, true, false, true).newDocument;
  } catch (error) {
    if (error instanceof jsonpatch.JsonPatchError) {
      const index = error.index ?? 0;
      const path = (error.operation as { path?: unknown } | undefined)?.path;
      const reason = REASONS[error.name] ?? error.message;
      throw badInput(`patch[${index}]${typeof path === 'string' ? ` (${path})` : ''} ${reason}; nothing was applied`, {
        field: 'patch',
        index,
        reason: error.name,
        ...(typeof path === 'string' ? { path } : {}),
      });
    }
    throw error;
  }
}
