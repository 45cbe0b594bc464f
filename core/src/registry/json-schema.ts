import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { badInput } from '../errors.js';
import { jsonPointer } from '../json.js';

// ajv-formats is CommonJS; under NodeNext its default export arrives as the module object.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/** One ajv instance: strict mode, JSON Schema draft 2020-12, with the standard formats. */
function createAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
  addFormats(ajv);
  return ajv;
}

const ajv = createAjv();

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const BOUNDS = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'] as const;

/**
 * A copy of the schema for validation in which every `integer` whose declared bounds fit 32 bits (or that
 * declares none) is also limited to 32 bits: such integers are delivered as GraphQL `Int`, so a larger
 * value must be refused at publish rather than fail at delivery. Declare a bound beyond 32 bits to get
 * `Float` and 53-bit integers.
 */
function withGraphQLIntBounds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withGraphQLIntBounds);
  if (typeof node !== 'object' || node === null) return node;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    // `const`, `enum`, `default` and `examples` hold data, not schemas.
    copy[key] = ['const', 'enum', 'default', 'examples'].includes(key) ? value : withGraphQLIntBounds(value);
  }
  const isInteger = copy.type === 'integer' || (Array.isArray(copy.type) && copy.type.includes('integer'));
  if (isInteger) {
    const bounds = BOUNDS.map((k) => copy[k]).filter((v): v is number => typeof v === 'number');
    if (bounds.every((b) => b >= INT32_MIN && b <= INT32_MAX)) {
      // Declared bounds already fit; add the missing side(s) only.
      if (copy.minimum === undefined && copy.exclusiveMinimum === undefined) copy.minimum = INT32_MIN;
      if (copy.maximum === undefined && copy.exclusiveMaximum === undefined) copy.maximum = INT32_MAX;
    }
  }
  return copy;
}

/** Compiles a topic schema, or throws BAD_USER_INPUT saying why it is not an acceptable JSON Schema. */
export function compileTopicSchema(schema: unknown): ValidateFunction {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw badInput('schema must be a JSON Schema object', { field: 'schema' });
  }
  const root = schema as Record<string, unknown>;
  if (root.type !== 'object') {
    throw badInput('schema must describe an object: its root needs "type": "object"', { field: 'schema' });
  }
  if ('$id' in root) {
    throw badInput('schema may not set "$id"; the registry names schemas itself', { field: 'schema' });
  }
  try {
    ajv.compile(schema); // the schema as registered must be valid on its own
    return ajv.compile(withGraphQLIntBounds(schema) as Record<string, unknown>);
  } catch (error) {
    throw badInput(`schema is not a valid JSON Schema (draft 2020-12, strict): ${(error as Error).message}`, {
      field: 'schema',
    });
  }
}

export interface SchemaViolation {
  path: string;
  message: string;
}

function describe(error: ErrorObject): SchemaViolation {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return { path: `${error.instancePath}/${String(params.missingProperty)}`, message: 'is required' };
    case 'additionalProperties':
      return {
        path: `${error.instancePath}/${String(params.additionalProperty)}`,
        message: 'is not allowed by the schema',
      };
    case 'enum':
      return {
        path: error.instancePath || '/',
        message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    default: {
      const int32 = (error.keyword === 'maximum' || error.keyword === 'minimum') && Math.abs(Number(params.limit)) >= INT32_MAX;
      const message = error.message ?? 'is invalid';
      return {
        path: error.instancePath || '/',
        message: int32 ? `${message} (integers are delivered as GraphQL Int; declare a larger maximum in the schema for bigger numbers)` : message,
      };
    }
  }
}

/**
 * Validates data against a compiled topic schema; throws BAD_USER_INPUT listing every violation with its
 * JSON Pointer, e.g. `schema violation at /status: must be one of "NEW", "PAID"`.
 */
export function assertMatchesSchema(validate: ValidateFunction, data: unknown, topic: string): void {
  if (validate(data)) return;
  const violations = (validate.errors ?? []).map(describe);
  const summary = violations.map((v) => `at ${v.path}: ${v.message}`).join('; ');
  throw badInput(`data does not match the schema of "${topic}": schema violation ${summary}`, {
    topic,
    violations,
  });
}

export { jsonPointer };
