/**
 * Schema evolution rules for topic schemas (JSON Schema draft 2020-12), with the semantics of Confluent Schema
 * Registry's compatibility modes. Pure: no I/O, no ajv; it reasons about the two schemas, never about data.
 *
 * The question is always "is every instance valid under the WRITER schema also valid under the READER schema?"
 * - BACKWARD: writer = the previous version, reader = the candidate (new consumers read old data).
 * - FORWARD: writer = the candidate, reader = the previous version (old consumers read new data).
 * - FULL: both. `*_TRANSITIVE`: against every previous version instead of only the latest. NONE: no checks.
 *
 * Reading a schema soundly is undecidable in general, so the checker is conservative: when it cannot prove a
 * reader constraint is implied by the writer, it reports a breaking change. Where it is conservative:
 * - `pattern` and `format` are compared as text (a different regex that accepts the same strings is breaking),
 *   unless the writer limits the value with `enum`/`const`, in which case each value is tested against the
 *   reader's `pattern` (never against `format`).
 * - Keywords it does not reason about (`allOf`, `not`, `if`/`then`/`else`, `dependentRequired`,
 *   `dependentSchemas`, `patternProperties`, `propertyNames`, `contains`/`minContains`/`maxContains`,
 *   `unevaluatedItems`, `$dynamicRef`, draft-07 tuple `items`/`additionalItems`, unknown keywords) are breaking
 *   (UNSUPPORTED_CHANGE) whenever the reader has them and they differ from the writer's; a keyword only the writer
 *   has only narrows the writer's data and is not reported. `if`/`then`/`else` and `contains`/`minContains`/
 *   `maxContains` are compared as groups.
 * - `anyOf`/`oneOf`: every writer branch must fit some reader branch (or the reader itself), and a writer without
 *   branches (split by type when it allows several) must fit some reader branch. A writer that only the UNION of
 *   several reader branches covers is reported as COMPOSITION_NARROWED. For a reader `oneOf`, exclusivity is NOT
 *   checked: data matching two reader branches would be rejected by `oneOf` but is not reported.
 * - An open writer model (additionalProperties absent or `true`) makes any reader property that constrains its
 *   value breaking (PROPERTY_ADDED_OPEN_MODEL), as in Confluent: old data may already carry that property with any
 *   value. A writer with `patternProperties` that the reader does not share counts as open.
 * - `unevaluatedProperties` is read as `additionalProperties` when the latter is absent (for a writer, only when
 *   it has no in-place applicators such as `allOf`; otherwise the writer counts as open).
 * - `$ref` with sibling keywords: on the reader both the target and the siblings must accept the writer (exact);
 *   on the writer they are merged approximately (the merge may accept more than the writer does, never less).
 * - Local `$ref`s (`#`, `#/$defs/X`, `#/definitions/X`, any JSON Pointer) resolve within their own document,
 *   ignoring nested `$id`; anchors (`#name`) and other documents are REF_UNRESOLVED unless both sides carry the
 *   same external `$ref`. Recursive schemas are compared coinductively: a (writer, reader) pair met again while
 *   it is being compared is assumed compatible, and the first difference is reported once, at its shallowest path.
 *
 * Because JSON Schema compatibility is set inclusion, the modes are transitive in themselves: if v1→v2 and v2→v3
 * pass under the same mode, v1→v3 does too (up to the conservative points above). The transitive modes differ
 * from the non-transitive ones when earlier versions were registered under another mode (or NONE).
 */
export type CompatibilityMode =
  | 'NONE'
  | 'BACKWARD'
  | 'BACKWARD_TRANSITIVE'
  | 'FORWARD'
  | 'FORWARD_TRANSITIVE'
  | 'FULL'
  | 'FULL_TRANSITIVE';

/** Every compatibility mode, for validation and for listing them in UIs. */
export const COMPATIBILITY_MODES: readonly CompatibilityMode[] = Object.freeze([
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
] as const);

/** One reason why data valid under the writer schema may be invalid under the reader schema. */
export interface SchemaChange {
  /**
   * JSON Pointer into the DATA (not the schema) where the change bites: `/customer/name`; array items
   * `/lines/*\/qty`; tuple positions `/point/0`; additionalProperties values `/attributes/*`; root `/`.
   */
  path: string;
  /**
   * Stable SCREAMING_SNAKE id: TYPE_NARROWED, TYPE_CHANGED, REQUIRED_ADDED, PROPERTY_ADDED_OPEN_MODEL,
   * PROPERTY_REMOVED_CLOSED_MODEL, CONTENT_MODEL_CLOSED, ENUM_NARROWED, ENUM_ADDED, CONST_CHANGED,
   * MINIMUM_INCREASED, MAXIMUM_DECREASED, EXCLUSIVE_MINIMUM_INCREASED, EXCLUSIVE_MAXIMUM_DECREASED,
   * MULTIPLE_OF_CHANGED, MIN_LENGTH_INCREASED, MAX_LENGTH_DECREASED, PATTERN_CHANGED, FORMAT_CHANGED,
   * MIN_ITEMS_INCREASED, MAX_ITEMS_DECREASED, UNIQUE_ITEMS_ADDED, MIN_PROPERTIES_INCREASED,
   * MAX_PROPERTIES_DECREASED, COMPOSITION_NARROWED, UNSUPPORTED_CHANGE, SCHEMA_FALSE, REF_UNRESOLVED.
   */
  rule: string;
  /** One sentence naming both schemas by their labels, e.g. `the new schema requires "status", which data valid under version 2 may lack`. */
  message: string;
}

/** A change found by {@link checkCompatibility}, with the version it was checked against and the direction. */
export interface BreakingChange extends SchemaChange {
  /** The previous version the candidate was compared with. */
  version: number;
  /** BACKWARD: that version wrote, the candidate reads. FORWARD: the candidate wrote, that version reads. */
  direction: 'BACKWARD' | 'FORWARD';
}

type SchemaObject = Readonly<Record<string, unknown>>;
type Schema = boolean | SchemaObject;
type Segment = string | number;

/** Keywords that never constrain data. */
const ANNOTATIONS = new Set([
  'title',
  'description',
  'default',
  'examples',
  'deprecated',
  '$comment',
  'readOnly',
  'writeOnly',
  'contentMediaType',
  'contentEncoding',
  'contentSchema',
  '$schema',
  '$id',
  '$anchor',
  '$dynamicAnchor',
  '$vocabulary',
  '$defs',
  'definitions',
]);

/** Keywords the checker reasons about; any other asserting keyword goes through UNSUPPORTED_CHANGE. */
const HANDLED = new Set([
  '$ref',
  'type',
  'enum',
  'const',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'format',
  'items',
  'prefixItems',
  'minItems',
  'maxItems',
  'uniqueItems',
  'properties',
  'required',
  'additionalProperties',
  'unevaluatedProperties',
  'minProperties',
  'maxProperties',
  'anyOf',
  'oneOf',
]);

/** Unsupported keywords whose meaning depends on each other: they are compared together. */
const KEYWORD_GROUPS: Readonly<Record<string, readonly string[]>> = {
  if: ['if', 'then', 'else'],
  then: ['if', 'then', 'else'],
  else: ['if', 'then', 'else'],
  contains: ['contains', 'minContains', 'maxContains'],
  minContains: ['contains', 'minContains', 'maxContains'],
  maxContains: ['contains', 'minContains', 'maxContains'],
};

/** Writer keywords next to which `unevaluatedProperties` sees more than `properties`. */
const IN_PLACE_APPLICATORS = ['allOf', 'anyOf', 'oneOf', 'if', 'dependentSchemas', '$ref', '$dynamicRef'];

/** Recursion beyond this many nested comparisons is reported instead of followed (a guard, not a limit in practice). */
const MAX_DEPTH = 500;

const EMPTY: SchemaObject = Object.freeze({});

interface Context {
  readonly writerLabel: string;
  readonly readerLabel: string;
  readonly writerRoot: unknown;
  readonly readerRoot: unknown;
  /** (writer, reader) pairs being compared right now: met again means recursion, assumed compatible. */
  readonly inProgress: Map<object, Set<object>>;
  /** Memoised derived nodes, so that a derived node keeps its identity (the recursion guard relies on it). */
  readonly derived: Map<object, Map<unknown, Schema>>;
  /** For COMPOSITION_NARROWED changes about reader branches: why no branch fits, to reword when nested. */
  readonly compositionReasons: Map<SchemaChange, string>;
  depth: number;
}

const isObject = (value: unknown): value is SchemaObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A subschema as found in a keyword; absent or malformed values count as `true` (schemas are compiled by ajv first). */
const toSchema = (value: unknown): Schema => (typeof value === 'boolean' || isObject(value) ? value : true);

const finite = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

const show = (value: unknown): string => JSON.stringify(value) ?? String(value);

const list = (items: readonly string[], conjunction = 'or'): string =>
  items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} ${conjunction} ${items[items.length - 1] ?? ''}`;

/** Deep equality of JSON values, ignoring object key order. */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

/** True when the schema accepts every instance: `true`, `{}`, or annotations only. */
function acceptsAnything(schema: Schema): boolean {
  return schema === true || (isObject(schema) && Object.keys(schema).every((k) => ANNOTATIONS.has(k)));
}

/** Resolves a local reference (`#`, `#/$defs/X`, any JSON Pointer fragment) within `root`, one step. */
function resolveStep(root: unknown, ref: string): Schema | undefined {
  if (!ref.startsWith('#')) return undefined;
  const fragment = ref.slice(1);
  if (fragment === '') return typeof root === 'boolean' || isObject(root) ? root : undefined;
  if (!fragment.startsWith('/')) return undefined;
  let node: unknown = root;
  for (const raw of fragment.slice(1).split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    } catch {
      return undefined;
    }
    if (Array.isArray(node) && /^(0|[1-9][0-9]*)$/.test(segment)) node = node[Number(segment)];
    else if (isObject(node) && Object.hasOwn(node, segment)) node = node[segment];
    else return undefined;
  }
  return typeof node === 'boolean' || isObject(node) ? node : undefined;
}

/**
 * Resolves a local reference within `root`, following references that point at bare references; undefined when
 * the reference is not local, points nowhere, or only loops through references.
 */
function resolveLocal(root: unknown, ref: string): Schema | undefined {
  const seen = new Set<string>();
  let current = ref;
  while (!seen.has(current)) {
    seen.add(current);
    const target = resolveStep(root, current);
    if (!isObject(target) || typeof target.$ref !== 'string') return target;
    if (Object.keys(target).some((k) => k !== '$ref' && !ANNOTATIONS.has(k))) return target;
    current = target.$ref;
  }
  return undefined;
}

/** JSON type of a data value; integral numbers are `integer`. */
function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** Whether a type set admits instances of `type` (`integer` is a subset of `number`). */
const admits = (types: ReadonlySet<string>, type: string): boolean =>
  types.has(type) || (type === 'integer' && types.has('number'));

function declaredTypes(schema: SchemaObject): Set<string> | undefined {
  const type = schema.type;
  if (typeof type === 'string') return new Set([type]);
  if (Array.isArray(type)) return new Set(strings(type));
  return undefined;
}

/** Intersection of two type sets (undefined = any type). */
function intersectTypes(a: Set<string> | undefined, b: Set<string> | undefined): Set<string> | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const out = new Set<string>();
  for (const t of a) {
    if (admits(b, t)) out.add(t);
    else if (t === 'number' && b.has('integer')) out.add('integer');
  }
  return out;
}

/**
 * The finite set of values the writer can produce, when it has one (`const`, `enum`, or only boolean/null
 * types), filtered by its declared types; undefined when unbounded.
 */
function finiteValues(schema: SchemaObject): unknown[] | undefined {
  const declared = declaredTypes(schema);
  let values: unknown[] | undefined;
  if ('const' in schema) values = [schema.const];
  else if (Array.isArray(schema.enum)) values = schema.enum;
  else if (declared !== undefined && [...declared].every((t) => t === 'boolean' || t === 'null')) {
    values = [...(declared.has('boolean') ? [true, false] : []), ...(declared.has('null') ? [null] : [])];
  }
  if (values === undefined) return undefined;
  const allowed = schema.enum;
  if ('const' in schema && Array.isArray(allowed)) values = values.filter((v) => allowed.some((a: unknown) => jsonEqual(a, v)));
  return declared === undefined ? values : values.filter((v) => admits(declared, jsonType(v)));
}

/** The writer's possible types: declared types narrowed by its finite values (undefined = any type). */
function writerTypes(schema: SchemaObject, values: readonly unknown[] | undefined): Set<string> | undefined {
  const declared = declaredTypes(schema);
  if (values === undefined) return declared;
  return new Set(values.map(jsonType));
}

function codePoints(text: string): number {
  return [...text].length;
}

function matches(pattern: string, text: string): boolean {
  try {
    return new RegExp(pattern, 'u').test(text);
  } catch {
    return false;
  }
}

function isMultiple(value: number, divisor: number): boolean {
  if (divisor <= 0) return false;
  const quotient = value / divisor;
  return Math.abs(quotient - Math.round(quotient)) < 1e-9;
}

/**
 * Every reason an instance valid under `writer` may be invalid under `reader`. Empty = reader accepts all writer
 * data (as far as the checker can prove; see the module comment for where it is conservative).
 * `labels` name the schemas in messages; default `{ writer: 'the old schema', reader: 'the new schema' }`.
 * Schemas should be valid JSON Schema (compiled with ajv first); malformed subschemas count as `true`.
 */
export function findIncompatibilities(
  writer: unknown,
  reader: unknown,
  labels: { writer: string; reader: string } = { writer: 'the old schema', reader: 'the new schema' },
): SchemaChange[] {
  if (jsonEqual(writer, reader)) return [];
  const context: Context = {
    writerLabel: labels.writer,
    readerLabel: labels.reader,
    writerRoot: writer,
    readerRoot: reader,
    inProgress: new Map(),
    derived: new Map(),
    compositionReasons: new Map(),
    depth: 0,
  };
  const changes = compare(context, toSchema(writer), toSchema(reader), []);
  const seen = new Set<string>();
  return changes.filter((change) => {
    const key = `${change.path}\u0000${change.rule}\u0000${change.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Checks `candidate` against the previous versions as `mode` demands. `previous`: earlier versions in ascending
 * order (may be empty ⇒ compatible). Non-transitive modes compare with the last element only; transitive modes
 * with each. BACKWARD reads each version's data with the candidate, FORWARD the candidate's data with each
 * version; FULL does both. Changes are listed by version (ascending), BACKWARD before FORWARD.
 * Throws a RangeError for a mode that is not one of {@link COMPATIBILITY_MODES}.
 */
export function checkCompatibility(
  mode: CompatibilityMode,
  candidate: unknown,
  previous: readonly { version: number; schema: unknown }[],
): { compatible: boolean; breakingChanges: BreakingChange[] } {
  if (!COMPATIBILITY_MODES.includes(mode)) {
    throw new RangeError(`unknown compatibility mode "${String(mode)}"; use one of ${COMPATIBILITY_MODES.join(', ')}`);
  }
  if (mode === 'NONE') return { compatible: true, breakingChanges: [] };
  const targets = mode.endsWith('_TRANSITIVE') ? previous : previous.slice(-1);
  const directions: ('BACKWARD' | 'FORWARD')[] = mode.startsWith('BACKWARD')
    ? ['BACKWARD']
    : mode.startsWith('FORWARD')
      ? ['FORWARD']
      : ['BACKWARD', 'FORWARD'];
  const breakingChanges: BreakingChange[] = [];
  for (const { version, schema } of targets) {
    const name = `version ${version}`;
    for (const direction of directions) {
      const changes =
        direction === 'BACKWARD'
          ? findIncompatibilities(schema, candidate, { writer: name, reader: 'the new schema' })
          : findIncompatibilities(candidate, schema, { writer: 'the new schema', reader: name });
      for (const change of changes) breakingChanges.push({ ...change, version, direction });
    }
  }
  return { compatible: breakingChanges.length === 0, breakingChanges };
}

// ---------------------------------------------------------------------------------------------------------------
// Comparison

/**
 * JSON Pointer (RFC 6901) of a data path, as `jsonPointer` in `core/src/json.ts` formats it (root `/`). Kept
 * local so that this module stays free of imports.
 */
function pointer(path: readonly Segment[]): string {
  if (path.length === 0) return '/';
  return path.map((s) => '/' + String(s).replaceAll('~', '~0').replaceAll('/', '~1')).join('');
}

function change(path: readonly Segment[], rule: string, message: string): SchemaChange {
  return { path: pointer(path), rule, message };
}

/** Memoises a node derived from `base` under `key`, so that it keeps one identity per comparison. */
function derive(context: Context, base: object, key: unknown, build: () => Schema): Schema {
  let byKey = context.derived.get(base);
  if (byKey === undefined) {
    byKey = new Map();
    context.derived.set(base, byKey);
  }
  let node = byKey.get(key);
  if (node === undefined) {
    node = build();
    byKey.set(key, node);
  }
  return node;
}

/** The schema without one keyword. */
function without(context: Context, schema: SchemaObject, keyword: string): SchemaObject {
  const node = derive(context, schema, `without:${keyword}`, () => {
    const { [keyword]: _removed, ...rest } = schema;
    return rest;
  });
  return isObject(node) ? node : EMPTY;
}

/**
 * A schema accepting at least every instance valid under both `a` and `b` (both from the writer's document):
 * exact for types, bounds, `required`, `enum`/`const` and `properties`; otherwise keeps `a`'s keyword, which can
 * only accept more. Used on the WRITER side only, where accepting more is conservative.
 */
function merge(context: Context, a: Schema, b: Schema): Schema {
  if (a === false || b === false) return false;
  if (acceptsAnything(a)) return b;
  if (acceptsAnything(b) || b === true) return a;
  if (a === true) return b;
  const right = b;
  return derive(context, a, right, () => {
    const out: Record<string, unknown> = { ...a };
    for (const [keyword, value] of Object.entries(right)) {
      if (!(keyword in out)) {
        out[keyword] = value;
        continue;
      }
      const current = out[keyword];
      if (jsonEqual(current, value) || ANNOTATIONS.has(keyword)) continue;
      switch (keyword) {
        case 'type': {
          const types = intersectTypes(declaredTypes(a), declaredTypes(right)) ?? new Set<string>();
          if (types.size === 0) return false;
          out.type = [...types];
          break;
        }
        case 'required':
          out.required = [...new Set([...strings(current), ...strings(value)])];
          break;
        case 'enum':
          if (Array.isArray(current) && Array.isArray(value)) {
            out.enum = current.filter((v: unknown) => value.some((w: unknown) => jsonEqual(v, w)));
          }
          break;
        case 'const':
          return false;
        case 'minimum':
        case 'exclusiveMinimum':
        case 'minLength':
        case 'minItems':
        case 'minProperties':
          out[keyword] = Math.max(finite(current) ?? -Infinity, finite(value) ?? -Infinity);
          break;
        case 'maximum':
        case 'exclusiveMaximum':
        case 'maxLength':
        case 'maxItems':
        case 'maxProperties':
          out[keyword] = Math.min(finite(current) ?? Infinity, finite(value) ?? Infinity);
          break;
        case 'uniqueItems':
          out.uniqueItems = current === true || value === true;
          break;
        case 'items':
        case 'additionalProperties':
          out[keyword] = merge(context, toSchema(current), toSchema(value));
          break;
        case 'properties': {
          const props: Record<string, unknown> = { ...(isObject(current) ? current : {}) };
          for (const [name, schema] of Object.entries(isObject(value) ? value : {})) {
            props[name] = name in props ? merge(context, toSchema(props[name]), toSchema(schema)) : schema;
          }
          out.properties = props;
          break;
        }
        default:
          // Keep a's keyword: the merge then accepts more than the writer, which is conservative.
          break;
      }
    }
    return out;
  });
}

/**
 * Equality of two subschemas (one from each document), following local `$ref`s into their own documents, so
 * that `{ "$ref": "#/$defs/A" }` on both sides is equal only when both `A`s are.
 */
function sameSchema(context: Context, w: unknown, r: unknown, seen = new Map<object, Set<object>>()): boolean {
  if (isObject(w) && isObject(r) && typeof w.$ref === 'string' && typeof r.$ref === 'string') {
    const wTarget = resolveLocal(context.writerRoot, w.$ref);
    const rTarget = resolveLocal(context.readerRoot, r.$ref);
    if (wTarget === undefined || rTarget === undefined) {
      if (w.$ref !== r.$ref || w.$ref.startsWith('#')) return false;
    } else if (isObject(wTarget) && isObject(rTarget)) {
      const pairs = seen.get(wTarget) ?? new Set<object>();
      seen.set(wTarget, pairs);
      if (!pairs.has(rTarget)) {
        pairs.add(rTarget);
        if (!sameSchema(context, wTarget, rTarget, seen)) return false;
      }
    } else if (wTarget !== rTarget) {
      return false;
    }
    const wKeys = Object.keys(w).filter((k) => k !== '$ref');
    const rKeys = Object.keys(r).filter((k) => k !== '$ref');
    return wKeys.length === rKeys.length && wKeys.every((k) => Object.hasOwn(r, k) && sameSchema(context, w[k], r[k], seen));
  }
  if (Array.isArray(w)) return Array.isArray(r) && w.length === r.length && w.every((item, i) => sameSchema(context, item, r[i], seen));
  if (isObject(w) && isObject(r)) {
    const keys = Object.keys(w);
    return keys.length === Object.keys(r).length && keys.every((k) => Object.hasOwn(r, k) && sameSchema(context, w[k], r[k], seen));
  }
  return w === r;
}

function compare(context: Context, writer: Schema, reader: Schema, path: readonly Segment[]): SchemaChange[] {
  if (reader === true || acceptsAnything(reader) || writer === false) return [];
  const w = writer === true ? EMPTY : writer;
  if (sameSchema(context, w, reader)) return [];
  if (reader === false) {
    return [
      change(path, 'SCHEMA_FALSE', `${context.readerLabel} accepts no value here (its schema is false), but data valid under ${context.writerLabel} may have one`),
    ];
  }
  const pairs = context.inProgress.get(w) ?? new Set<object>();
  if (pairs.has(reader)) return [];
  if (context.depth >= MAX_DEPTH) {
    return [
      change(path, 'UNSUPPORTED_CHANGE', `the schemas are nested too deeply to compare here, so ${context.readerLabel} is assumed to reject some data valid under ${context.writerLabel}`),
    ];
  }
  context.inProgress.set(w, pairs);
  pairs.add(reader);
  context.depth += 1;
  try {
    return compareNodes(context, w, reader, path);
  } finally {
    context.depth -= 1;
    pairs.delete(reader);
  }
}

function refUnresolved(context: Context, path: readonly Segment[], ref: string, label: string): SchemaChange {
  return change(
    path,
    'REF_UNRESOLVED',
    `"$ref": ${show(ref)} in ${label} cannot be resolved locally, so the change is assumed breaking; use a local reference such as "#/$defs/Name"`,
  );
}

/** Compares two object schemas: references first, then composition, then keywords. */
function compareNodes(context: Context, w: SchemaObject, r: SchemaObject, path: readonly Segment[]): SchemaChange[] {
  // Reader $ref: the reader is target AND siblings, so the writer must fit both (exact).
  if (typeof r.$ref === 'string') {
    const target = resolveLocal(context.readerRoot, r.$ref);
    if (target === undefined) {
      if (typeof w.$ref === 'string' && w.$ref === r.$ref && !r.$ref.startsWith('#')) {
        return compare(context, without(context, w, '$ref'), without(context, r, '$ref'), path);
      }
      return [refUnresolved(context, path, r.$ref, context.readerLabel)];
    }
    const siblings = without(context, r, '$ref');
    return [...compare(context, w, target, path), ...compare(context, w, siblings, path)];
  }
  // Writer $ref: the writer's data fits target AND siblings; the merge accepts at least that.
  if (typeof w.$ref === 'string') {
    const target = resolveLocal(context.writerRoot, w.$ref);
    if (target === undefined) return [refUnresolved(context, path, w.$ref, context.writerLabel)];
    return compare(context, merge(context, target, without(context, w, '$ref')), r, path);
  }

  const wBranchKey = branchKeyword(w);
  const rBranchKey = branchKeyword(r);
  if (wBranchKey !== undefined && rBranchKey !== undefined && sameSchema(context, w[wBranchKey], r[rBranchKey])) {
    // Same branches on both sides: only the siblings can differ.
    return compare(context, without(context, w, wBranchKey), without(context, r, rBranchKey), path);
  }
  if (wBranchKey !== undefined) return compareWriterBranches(context, w, wBranchKey, r, path);
  if (rBranchKey !== undefined) return compareReaderBranches(context, w, r, rBranchKey, path);
  return compareKeywords(context, w, r, path);
}

function branchKeyword(schema: SchemaObject): 'anyOf' | 'oneOf' | undefined {
  if (Array.isArray(schema.anyOf)) return 'anyOf';
  if (Array.isArray(schema.oneOf)) return 'oneOf';
  return undefined;
}

/** Every writer branch (with the writer's other keywords) must fit the reader. */
function compareWriterBranches(
  context: Context,
  w: SchemaObject,
  keyword: 'anyOf' | 'oneOf',
  r: SchemaObject,
  path: readonly Segment[],
): SchemaChange[] {
  const { readerLabel: R, writerLabel: W } = context;
  const siblings = without(context, w, keyword);
  const branches = Array.isArray(w[keyword]) ? (w[keyword] as unknown[]) : [];
  const here = pointer(path);
  const out: SchemaChange[] = [];
  branches.forEach((branch, index) => {
    const first = compare(context, merge(context, siblings, toSchema(branch)), r, path)[0];
    if (first === undefined) return;
    const data = `data matching branch ${index + 1} of "${keyword}" in ${W}`;
    const reason = first.path === here ? context.compositionReasons.get(first) : undefined;
    out.push(
      change(
        path,
        'COMPOSITION_NARROWED',
        reason !== undefined
          ? `${data} ${reason}`
          : `${R} rejects ${data}: ${first.path === here ? '' : `at ${first.path}, `}${first.message}`,
      ),
    );
  });
  return out;
}

/**
 * How far a failed branch is from fitting, to pick the most relevant one: a branch of another type, or whose
 * discriminator (a `const`) differs, ranks after the others; then fewer changes rank first.
 */
function distance(changes: readonly SchemaChange[], here: string): number {
  const otherKind = changes.some((c) => (c.path === here && c.rule === 'TYPE_CHANGED') || c.rule === 'CONST_CHANGED');
  return (otherKind ? 1_000_000 : 0) + changes.length;
}

/** A writer without branches must fit the reader's other keywords and, type by type, some reader branch. */
function compareReaderBranches(
  context: Context,
  w: SchemaObject,
  r: SchemaObject,
  keyword: 'anyOf' | 'oneOf',
  path: readonly Segment[],
): SchemaChange[] {
  const { readerLabel: R, writerLabel: W } = context;
  const out = compare(context, w, without(context, r, keyword), path);
  const branches = (Array.isArray(r[keyword]) ? (r[keyword] as unknown[]) : []).map(toSchema);
  const here = pointer(path);
  const types = writerTypes(w, finiteValues(w));
  const parts: [string | undefined, Schema][] =
    types !== undefined && types.size > 1
      ? [...types].map((type) => [type, derive(context, w, `type:${type}`, () => merge(context, w, { type }))])
      : [[undefined, w]];
  for (const [type, part] of parts) {
    const results = branches.map((branch) => compare(context, part, branch, path));
    if (results.some((result) => result.length === 0)) continue;
    const closest = results.reduce<SchemaChange[] | undefined>(
      (best, result) => (best === undefined || distance(result, here) < distance(best, here) ? result : best),
      undefined,
    );
    const first = closest?.[0];
    const exclusivity = keyword === 'oneOf' ? ' (exclusivity of "oneOf" is not checked)' : '';
    const reason =
      first === undefined
        ? `fits no branch of "${keyword}" in ${R}, which is empty and accepts nothing`
        : `fits no branch of "${keyword}" in ${R}${exclusivity}; the closest branch fails at ${first.path}: ${first.message}`;
    const composition = change(path, 'COMPOSITION_NARROWED', `data${type === undefined ? '' : ` of type ${type}`} valid under ${W} ${reason}`);
    context.compositionReasons.set(composition, reason);
    out.push(composition);
  }
  return out;
}

/** Compares keyword by keyword two schemas without `$ref`, `anyOf` or `oneOf` at this level. */
function compareKeywords(context: Context, w: SchemaObject, r: SchemaObject, path: readonly Segment[]): SchemaChange[] {
  const out: SchemaChange[] = [];
  const values = finiteValues(w);
  const wTypes = writerTypes(w, values);
  if (wTypes !== undefined && wTypes.size === 0) return out; // the writer accepts nothing
  const rTypes = declaredTypes(r);
  compareTypes(context, wTypes, rTypes, path, out);
  compareValues(context, values, r, path, out);

  const writerMay = (...types: string[]): boolean => wTypes === undefined || types.some((t) => admits(wTypes, t));
  const readerMay = (...types: string[]): boolean => rTypes === undefined || types.some((t) => admits(rTypes, t));
  const both = (...types: string[]): boolean => writerMay(...types) && readerMay(...types);

  const integerOnly = wTypes !== undefined && [...wTypes].every((t) => t === 'integer');
  if (both('number', 'integer')) compareNumbers(context, w, r, values, integerOnly, path, out);
  if (both('string')) compareStrings(context, w, r, values, path, out);
  if (both('array')) compareArrays(context, w, r, path, out);
  if (both('object')) compareObjects(context, w, r, path, out);
  compareUnsupported(context, w, r, path, out);
  return out;
}

function describeTypes(types: ReadonlySet<string>): string {
  return list([...types]);
}

function compareTypes(
  context: Context,
  wTypes: Set<string> | undefined,
  rTypes: Set<string> | undefined,
  path: readonly Segment[],
  out: SchemaChange[],
): void {
  if (rTypes === undefined) return;
  const { readerLabel: R, writerLabel: W } = context;
  if (wTypes === undefined) {
    out.push(change(path, 'TYPE_NARROWED', `${R} only accepts ${describeTypes(rTypes)}, but data valid under ${W} may be of any type`));
    return;
  }
  const missing = [...wTypes].filter((t) => !admits(rTypes, t));
  if (missing.length === 0) return;
  const overlaps = [...wTypes].some((t) => admits(rTypes, t) || (t === 'number' && rTypes.has('integer')));
  const described = missing.map((t) => (t === 'number' && rTypes.has('integer') ? 'a non-integer number' : t));
  out.push(
    overlaps
      ? change(path, 'TYPE_NARROWED', `${R} only accepts ${describeTypes(rTypes)}, but data valid under ${W} may be ${list(described)}`)
      : change(path, 'TYPE_CHANGED', `${R} only accepts ${describeTypes(rTypes)}, but data valid under ${W} is ${describeTypes(wTypes)}`),
  );
}

/** Reader `enum` and `const` against the writer's finite values (or their absence). */
function compareValues(
  context: Context,
  values: readonly unknown[] | undefined,
  r: SchemaObject,
  path: readonly Segment[],
  out: SchemaChange[],
): void {
  const { readerLabel: R, writerLabel: W } = context;
  if ('const' in r) {
    const bad = values?.find((v) => !jsonEqual(v, r.const));
    if (values === undefined) {
      out.push(change(path, 'CONST_CHANGED', `${R} only accepts ${show(r.const)}, but data valid under ${W} may hold other values`));
    } else if (bad !== undefined) {
      out.push(change(path, 'CONST_CHANGED', `${R} only accepts ${show(r.const)}, but data valid under ${W} may hold ${show(bad)}`));
    }
  }
  if (Array.isArray(r.enum)) {
    const allowed: unknown[] = r.enum;
    if (values === undefined) {
      out.push(
        change(path, 'ENUM_ADDED', `${R} only accepts ${list(allowed.map(show))}, but data valid under ${W} is not limited to these values`),
      );
    } else {
      const bad = values.filter((v) => !allowed.some((a) => jsonEqual(a, v)));
      if (bad.length > 0) {
        out.push(
          change(path, 'ENUM_NARROWED', `${R} does not accept ${list(bad.map(show))}, which data valid under ${W} may hold`),
        );
      }
    }
  }
}

/** Pushes a bound-style change: `<reader> requires <requirement>, which data valid under <writer> may not meet (<writer> <has>)`. */
function requirement(
  context: Context,
  path: readonly Segment[],
  rule: string,
  required: string,
  writerHas: string,
  out: SchemaChange[],
): void {
  const { readerLabel: R, writerLabel: W } = context;
  out.push(change(path, rule, `${R} requires ${required}, which data valid under ${W} may not meet (${W} ${writerHas})`));
}

function compareNumbers(
  context: Context,
  w: SchemaObject,
  r: SchemaObject,
  values: readonly unknown[] | undefined,
  integerOnly: boolean,
  path: readonly Segment[],
  out: SchemaChange[],
): void {
  const checks: {
    keyword: string;
    rule: string;
    required: (bound: number) => string;
    ok: (value: number, bound: number) => boolean;
    implied: (bound: number) => boolean;
    has: () => string;
  }[] = [];
  let wMin = finite(w.minimum);
  const wExMin = finite(w.exclusiveMinimum);
  let wMax = finite(w.maximum);
  const wExMax = finite(w.exclusiveMaximum);
  if (integerOnly && wExMin !== undefined) wMin = Math.max(wMin ?? -Infinity, Math.floor(wExMin) + 1);
  if (integerOnly && wExMax !== undefined) wMax = Math.min(wMax ?? Infinity, Math.ceil(wExMax) - 1);
  const lower = (): string =>
    finite(w.minimum) !== undefined ? `has minimum ${show(w.minimum)}` : wExMin !== undefined ? `has exclusiveMinimum ${wExMin}` : 'has no lower bound';
  const upper = (): string =>
    finite(w.maximum) !== undefined ? `has maximum ${show(w.maximum)}` : wExMax !== undefined ? `has exclusiveMaximum ${wExMax}` : 'has no upper bound';
  checks.push(
    {
      keyword: 'minimum',
      rule: 'MINIMUM_INCREASED',
      required: (b) => `a value of at least ${b}`,
      ok: (v, b) => v >= b,
      implied: (b) => (wMin ?? -Infinity) >= b || (wExMin ?? -Infinity) >= b,
      has: lower,
    },
    {
      keyword: 'exclusiveMinimum',
      rule: 'EXCLUSIVE_MINIMUM_INCREASED',
      required: (b) => `a value greater than ${b}`,
      ok: (v, b) => v > b,
      implied: (b) => (wMin ?? -Infinity) > b || (wExMin ?? -Infinity) >= b,
      has: lower,
    },
    {
      keyword: 'maximum',
      rule: 'MAXIMUM_DECREASED',
      required: (b) => `a value of at most ${b}`,
      ok: (v, b) => v <= b,
      implied: (b) => (wMax ?? Infinity) <= b || (wExMax ?? Infinity) <= b,
      has: upper,
    },
    {
      keyword: 'exclusiveMaximum',
      rule: 'EXCLUSIVE_MAXIMUM_DECREASED',
      required: (b) => `a value less than ${b}`,
      ok: (v, b) => v < b,
      implied: (b) => (wMax ?? Infinity) < b || (wExMax ?? Infinity) <= b,
      has: upper,
    },
    {
      keyword: 'multipleOf',
      rule: 'MULTIPLE_OF_CHANGED',
      required: (b) => `a multiple of ${b}`,
      ok: (v, b) => isMultiple(v, b),
      implied: (b) => {
        const wMultiple = finite(w.multipleOf);
        return (wMultiple !== undefined && isMultiple(wMultiple, b)) || (integerOnly && isMultiple(1, b));
      },
      has: () => (finite(w.multipleOf) !== undefined ? `has multipleOf ${show(w.multipleOf)}` : 'has no multipleOf'),
    },
  );
  const numbers = values?.filter((v): v is number => typeof v === 'number');
  for (const check of checks) {
    const bound = finite(r[check.keyword]);
    if (bound === undefined) continue;
    if (numbers !== undefined) {
      const bad = numbers.find((v) => !check.ok(v, bound));
      if (bad !== undefined) requirement(context, path, check.rule, check.required(bound), `allows ${bad}`, out);
    } else if (!check.implied(bound)) {
      requirement(context, path, check.rule, check.required(bound), check.has(), out);
    }
  }
}

function compareStrings(
  context: Context,
  w: SchemaObject,
  r: SchemaObject,
  values: readonly unknown[] | undefined,
  path: readonly Segment[],
  out: SchemaChange[],
): void {
  const texts = values?.filter((v): v is string => typeof v === 'string');
  const minLength = finite(r.minLength);
  if (minLength !== undefined && minLength > 0) {
    const required = `at least ${minLength} characters`;
    if (texts !== undefined) {
      const bad = texts.find((t) => codePoints(t) < minLength);
      if (bad !== undefined) requirement(context, path, 'MIN_LENGTH_INCREASED', required, `allows ${show(bad)}`, out);
    } else if ((finite(w.minLength) ?? 0) < minLength) {
      const has = finite(w.minLength) !== undefined ? `has minLength ${show(w.minLength)}` : 'has no minLength';
      requirement(context, path, 'MIN_LENGTH_INCREASED', required, has, out);
    }
  }
  const maxLength = finite(r.maxLength);
  if (maxLength !== undefined) {
    const required = `at most ${maxLength} characters`;
    if (texts !== undefined) {
      const bad = texts.find((t) => codePoints(t) > maxLength);
      if (bad !== undefined) requirement(context, path, 'MAX_LENGTH_DECREASED', required, `allows ${show(bad)}`, out);
    } else if ((finite(w.maxLength) ?? Infinity) > maxLength) {
      const has = finite(w.maxLength) !== undefined ? `has maxLength ${show(w.maxLength)}` : 'has no maxLength';
      requirement(context, path, 'MAX_LENGTH_DECREASED', required, has, out);
    }
  }
  if (typeof r.pattern === 'string' && r.pattern !== w.pattern) {
    const pattern = r.pattern;
    const required = `strings matching the pattern ${show(pattern)}`;
    if (texts !== undefined) {
      const bad = texts.find((t) => !matches(pattern, t));
      if (bad !== undefined) requirement(context, path, 'PATTERN_CHANGED', required, `allows ${show(bad)}`, out);
    } else {
      const has = typeof w.pattern === 'string' ? `has the pattern ${show(w.pattern)}` : 'has no pattern';
      requirement(context, path, 'PATTERN_CHANGED', required, has, out);
    }
  }
  if (typeof r.format === 'string' && r.format !== w.format) {
    const has = typeof w.format === 'string' ? `has the format ${show(w.format)}` : 'has no format';
    requirement(context, path, 'FORMAT_CHANGED', `the format ${show(r.format)}`, has, out);
  }
}

function compareArrays(context: Context, w: SchemaObject, r: SchemaObject, path: readonly Segment[], out: SchemaChange[]): void {
  const wPrefix = Array.isArray(w.prefixItems) ? w.prefixItems.map(toSchema) : [];
  const rPrefix = Array.isArray(r.prefixItems) ? r.prefixItems.map(toSchema) : [];
  const tupleItems = Array.isArray(w.items) || Array.isArray(r.items);
  const wItems = tupleItems ? true : toSchema(w.items);
  const rItems = tupleItems ? true : toSchema(r.items);
  if (tupleItems && 'items' in r && !sameSchema(context, w.items, r.items)) unsupported(context, path, ['items'], out);

  const wMaxItems = Math.min(finite(w.maxItems) ?? Infinity, wItems === false ? wPrefix.length : Infinity);
  const positions = Math.max(wPrefix.length, rPrefix.length);
  for (let i = 0; i < positions && i < wMaxItems; i += 1) {
    out.push(...compare(context, wPrefix[i] ?? wItems, rPrefix[i] ?? rItems, [...path, i]));
  }
  if (wMaxItems > positions) out.push(...compare(context, wItems, rItems, [...path, '*']));

  const minItems = finite(r.minItems);
  if (minItems !== undefined && minItems > 0 && (finite(w.minItems) ?? 0) < minItems) {
    const has = finite(w.minItems) !== undefined ? `has minItems ${show(w.minItems)}` : 'has no minItems';
    requirement(context, path, 'MIN_ITEMS_INCREASED', `at least ${minItems} items`, has, out);
  }
  const maxItems = finite(r.maxItems);
  if (maxItems !== undefined && wMaxItems > maxItems) {
    const has = Number.isFinite(wMaxItems) ? `allows ${wMaxItems} items` : 'has no maxItems';
    requirement(context, path, 'MAX_ITEMS_DECREASED', `at most ${maxItems} items`, has, out);
  }
  if (r.uniqueItems === true && w.uniqueItems !== true && wMaxItems > 1) {
    requirement(context, path, 'UNIQUE_ITEMS_ADDED', 'unique items', 'allows repeated items', out);
  }
}

/** The schema every property not named in `properties` must match (`true` = open model). */
function additionalSchema(schema: SchemaObject, side: 'writer' | 'reader'): Schema {
  if ('additionalProperties' in schema) return toSchema(schema.additionalProperties);
  if ('unevaluatedProperties' in schema) {
    if (side === 'reader' || !IN_PLACE_APPLICATORS.some((k) => k in schema)) return toSchema(schema.unevaluatedProperties);
  }
  return true;
}

/** The writer's or reader's `patternProperties` schemas whose pattern matches `name`. */
function patternSchemasFor(schema: SchemaObject, name: string): Schema[] {
  const patterns = isObject(schema.patternProperties) ? schema.patternProperties : EMPTY;
  return Object.entries(patterns)
    .filter(([pattern]) => matches(pattern, name))
    .map(([, value]) => toSchema(value));
}

function compareObjects(context: Context, w: SchemaObject, r: SchemaObject, path: readonly Segment[], out: SchemaChange[]): void {
  const { readerLabel: R, writerLabel: W } = context;
  const wProps = isObject(w.properties) ? w.properties : EMPTY;
  const rProps = isObject(r.properties) ? r.properties : EMPTY;
  const wAdditionalRaw = additionalSchema(w, 'writer');
  const rAdditional = additionalSchema(r, 'reader');
  // Keys matching the writer's patternProperties escape its additionalProperties; unless the reader has the same
  // patterns, the writer counts as open for keys neither side names.
  const writerHasPatterns = isObject(w.patternProperties) && Object.keys(w.patternProperties).length > 0;
  const samePatterns = sameSchema(context, w.patternProperties, r.patternProperties);
  const wAdditional = writerHasPatterns && !samePatterns ? true : wAdditionalRaw;
  /** What the writer allows under a name its `properties` do not declare. */
  const writerUndeclared = (name: string): Schema => {
    const [first, ...rest] = patternSchemasFor(w, name);
    return first === undefined ? wAdditionalRaw : rest.reduce((acc, s) => merge(context, acc, s), first);
  };

  for (const [name, rValue] of Object.entries(rProps)) {
    const rSchema = toSchema(rValue);
    const at = [...path, name];
    if (Object.hasOwn(wProps, name)) {
      out.push(...compare(context, toSchema(wProps[name]), rSchema, at));
      continue;
    }
    const wSchema = writerUndeclared(name);
    if (wSchema === false) continue; // the writer never carries it: declaring it is safe
    if (acceptsAnything(wSchema)) {
      if (!acceptsAnything(rSchema)) {
        out.push(
          change(
            at,
            'PROPERTY_ADDED_OPEN_MODEL',
            `${R} constrains "${name}", but ${W} allows additional properties, so its data may already carry "${name}" with any value; accept any value for "${name}" (true) or leave it undeclared`,
          ),
        );
      }
    } else {
      out.push(...compare(context, wSchema, rSchema, at));
    }
  }

  for (const [name, wValue] of Object.entries(wProps)) {
    if (Object.hasOwn(rProps, name)) continue;
    const wSchema = toSchema(wValue);
    const at = [...path, name];
    const readerPatterns = patternSchemasFor(r, name);
    if (wSchema === false) continue;
    if (readerPatterns.length > 0) {
      for (const pattern of readerPatterns) out.push(...compare(context, wSchema, pattern, at));
    } else if (rAdditional === false) {
      out.push(
        change(
          at,
          'PROPERTY_REMOVED_CLOSED_MODEL',
          `${R} does not declare "${name}" and allows no additional properties, but data valid under ${W} may carry "${name}"; keep "${name}" declared`,
        ),
      );
    } else {
      out.push(...compare(context, wSchema, rAdditional, at));
    }
  }

  if (wAdditional !== false && !acceptsAnything(rAdditional)) {
    const declared = Object.keys(rProps).map((k) => `"${k}"`);
    if (rAdditional === false) {
      const besides = declared.length > 0 ? `besides ${list(declared, 'and')}` : 'at all';
      out.push(change(path, 'CONTENT_MODEL_CLOSED', `${R} allows no properties ${besides}, but data valid under ${W} may carry others`));
    } else if (acceptsAnything(wAdditional)) {
      out.push(
        change(
          path,
          'CONTENT_MODEL_CLOSED',
          `${R} constrains additional properties, but data valid under ${W} may carry additional properties with any value`,
        ),
      );
    } else {
      out.push(...compare(context, wAdditional, rAdditional, [...path, '*']));
    }
  }

  const wRequired = new Set(strings(w.required));
  for (const name of new Set(strings(r.required))) {
    if (!wRequired.has(name)) {
      out.push(change([...path, name], 'REQUIRED_ADDED', `${R} requires "${name}", which data valid under ${W} may lack`));
    }
  }

  const minProperties = finite(r.minProperties);
  if (minProperties !== undefined && minProperties > 0 && Math.max(finite(w.minProperties) ?? 0, wRequired.size) < minProperties) {
    const has = finite(w.minProperties) !== undefined ? `has minProperties ${show(w.minProperties)}` : 'has no minProperties';
    requirement(context, path, 'MIN_PROPERTIES_INCREASED', `at least ${minProperties} properties`, has, out);
  }
  const maxProperties = finite(r.maxProperties);
  if (maxProperties !== undefined) {
    const closedCount = wAdditional === false ? Object.values(wProps).filter((v) => v !== false).length : Infinity;
    const wMax = Math.min(finite(w.maxProperties) ?? Infinity, closedCount);
    if (wMax > maxProperties) {
      const has = Number.isFinite(wMax) ? `allows ${wMax} properties` : 'has no maxProperties';
      requirement(context, path, 'MAX_PROPERTIES_DECREASED', `at most ${maxProperties} properties`, has, out);
    }
  }
}

function unsupported(context: Context, path: readonly Segment[], keywords: readonly string[], out: SchemaChange[]): void {
  const { readerLabel: R, writerLabel: W } = context;
  const names = list(keywords.map((k) => `"${k}"`), 'and');
  out.push(
    change(
      path,
      'UNSUPPORTED_CHANGE',
      `${names} ${keywords.length > 1 ? 'differ' : 'differs'} between ${W} and ${R}, and the checker cannot prove the difference safe, so it is treated as breaking; keep ${names} identical`,
    ),
  );
}

/** Keywords the checker does not reason about: breaking when the reader has them and they differ. */
function compareUnsupported(context: Context, w: SchemaObject, r: SchemaObject, path: readonly Segment[], out: SchemaChange[]): void {
  const done = new Set<string>();
  for (const keyword of Object.keys(r)) {
    if (HANDLED.has(keyword) || ANNOTATIONS.has(keyword) || done.has(keyword)) continue;
    const group = KEYWORD_GROUPS[keyword] ?? [keyword];
    for (const k of group) done.add(k);
    const differing = group.filter((k) => (k in w || k in r) && !sameSchema(context, w[k], r[k]));
    if (differing.length > 0) unsupported(context, path, differing, out);
  }
}

