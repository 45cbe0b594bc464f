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
    return ajv.compile(schema);
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
    default:
      return { path: error.instancePath || '/', message: error.message ?? 'is invalid' };
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
