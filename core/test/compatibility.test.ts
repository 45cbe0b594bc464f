import { describe, expect, it } from 'vitest';
import {
  checkCompatibility,
  COMPATIBILITY_MODES,
  findIncompatibilities,
  type CompatibilityMode,
  type SchemaChange,
} from '../src/registry/compatibility.js';

const object = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  type: 'object',
  properties,
  ...extra,
});
const string = { type: 'string' };

const rules = (changes: readonly SchemaChange[]): string[] => [...new Set(changes.map((c) => c.rule))].sort();
const paths = (changes: readonly SchemaChange[]): string[] => [...new Set(changes.map((c) => c.path))].sort();

interface Row {
  /** Completes "should …". */
  name: string;
  old: unknown;
  new: unknown;
  /** Rules of findIncompatibilities(old, new): new consumers reading old data. */
  backward: string[];
  /** Rules of findIncompatibilities(new, old): old consumers reading new data. */
  forward: string[];
  backwardPaths?: string[];
  forwardPaths?: string[];
}

const address = object({ street: string, zip: string });
const addressWithZipRequired = object({ street: string, zip: string }, { required: ['zip'] });
const tree = (name: unknown): Record<string, unknown> => ({
  $defs: {
    Node: object({ name, children: { type: 'array', items: { $ref: '#/$defs/Node' } } }),
  },
  $ref: '#/$defs/Node',
});
const order = object(
  {
    id: { type: 'string', format: 'uuid' },
    status: { enum: ['NEW', 'PAID'] },
    lines: { type: 'array', items: object({ sku: string, qty: { type: 'integer', minimum: 1 } }, { required: ['sku', 'qty'] }) },
    customer: { $ref: '#/$defs/Customer' },
  },
  { required: ['id', 'status'], additionalProperties: false, $defs: { Customer: object({ name: string }) } },
);

const rows: Row[] = [
  // Types
  { name: 'refuse a type narrowed to a subset', old: { type: ['string', 'null'] }, new: string, backward: ['TYPE_NARROWED'], forward: [] },
  { name: 'refuse a number narrowed to an integer', old: { type: 'number' }, new: { type: 'integer' }, backward: ['TYPE_NARROWED'], forward: [] },
  { name: 'accept an integer widened to a number', old: { type: 'integer' }, new: { type: 'number' }, backward: [], forward: ['TYPE_NARROWED'] },
  { name: 'refuse a type changed to a disjoint one', old: string, new: { type: 'number' }, backward: ['TYPE_CHANGED'], forward: ['TYPE_CHANGED'] },
  {
    name: 'accept an enum that states its type',
    old: { enum: ['NEW', 'PAID'] },
    new: { type: 'string', enum: ['NEW', 'PAID'] },
    backward: [],
    forward: [],
  },

  // Objects
  {
    name: 'refuse a property that becomes required',
    old: object({ status: string }),
    new: object({ status: string }, { required: ['status'] }),
    backward: ['REQUIRED_ADDED'],
    forward: [],
    backwardPaths: ['/status'],
  },
  {
    name: 'refuse a constrained property added to an open model',
    old: object({ id: string }),
    new: object({ id: string, nickname: string }),
    backward: ['PROPERTY_ADDED_OPEN_MODEL'],
    forward: [],
    backwardPaths: ['/nickname'],
  },
  {
    name: 'accept a property that accepts any value added to an open model',
    old: object({ id: string }),
    new: object({ id: string, extra: true }),
    backward: [],
    forward: [],
  },
  {
    name: 'accept a property added under a closed writer',
    old: object({ id: string }, { additionalProperties: false }),
    new: object({ id: string, note: string }, { additionalProperties: false }),
    backward: [],
    forward: ['PROPERTY_REMOVED_CLOSED_MODEL'],
    forwardPaths: ['/note'],
  },
  {
    name: 'refuse a property removed from a closed model',
    old: object({ id: string, note: string }, { additionalProperties: false }),
    new: object({ id: string }, { additionalProperties: false }),
    backward: ['PROPERTY_REMOVED_CLOSED_MODEL'],
    forward: [],
    backwardPaths: ['/note'],
  },
  {
    name: 'accept an optional property removed from an open reader',
    old: object({ id: string, note: string }),
    new: object({ id: string }),
    backward: [],
    forward: ['PROPERTY_ADDED_OPEN_MODEL'],
    forwardPaths: ['/note'],
  },
  {
    name: 'refuse a model that becomes closed',
    old: object({ id: string }),
    new: object({ id: string }, { additionalProperties: false }),
    backward: ['CONTENT_MODEL_CLOSED'],
    forward: [],
    backwardPaths: ['/'],
  },
  {
    name: 'compare additionalProperties schemas at the values of the map',
    old: object({ attributes: { type: 'object', additionalProperties: { type: ['string', 'number'] } } }),
    new: object({ attributes: { type: 'object', additionalProperties: string } }),
    backward: ['TYPE_NARROWED'],
    forward: [],
    backwardPaths: ['/attributes/*'],
  },
  {
    name: "compare a property the reader does not declare with the reader's additionalProperties schema",
    old: object({ id: string, count: { type: 'number' } }),
    new: object({ id: string }, { additionalProperties: string }),
    backward: ['CONTENT_MODEL_CLOSED', 'TYPE_CHANGED'],
    forward: ['TYPE_CHANGED'],
    backwardPaths: ['/', '/count'],
    forwardPaths: ['/count'],
  },
  {
    name: 'refuse more properties required by minProperties',
    old: { type: 'object' },
    new: { type: 'object', minProperties: 1 },
    backward: ['MIN_PROPERTIES_INCREASED'],
    forward: [],
  },
  {
    name: 'refuse a lower maxProperties',
    old: { type: 'object', maxProperties: 10 },
    new: { type: 'object', maxProperties: 5 },
    backward: ['MAX_PROPERTIES_DECREASED'],
    forward: [],
  },
  {
    name: 'refuse a nested property whose type narrows',
    old: object({ customer: object({ name: { type: ['string', 'null'] } }) }),
    new: object({ customer: object({ name: string }) }),
    backward: ['TYPE_NARROWED'],
    forward: [],
    backwardPaths: ['/customer/name'],
  },

  // Values
  {
    name: 'refuse an enum that loses a value',
    old: { type: 'string', enum: ['NEW', 'PAID', 'SHIPPED'] },
    new: { type: 'string', enum: ['NEW', 'PAID'] },
    backward: ['ENUM_NARROWED'],
    forward: [],
  },
  {
    name: 'accept an enum that gains a value',
    old: { type: 'string', enum: ['NEW', 'PAID'] },
    new: { type: 'string', enum: ['NEW', 'PAID', 'SHIPPED'] },
    backward: [],
    forward: ['ENUM_NARROWED'],
  },
  { name: 'refuse an enum added to a free value', old: string, new: { type: 'string', enum: ['NEW', 'PAID'] }, backward: ['ENUM_ADDED'], forward: [] },
  { name: 'refuse a const that changes', old: { const: 'v1' }, new: { const: 'v2' }, backward: ['CONST_CHANGED'], forward: ['CONST_CHANGED'] },

  // Numbers
  {
    name: 'refuse a higher minimum',
    old: { type: 'integer', minimum: 0 },
    new: { type: 'integer', minimum: 1 },
    backward: ['MINIMUM_INCREASED'],
    forward: [],
  },
  {
    name: 'accept a relaxed maximum',
    old: { type: 'integer', maximum: 10 },
    new: { type: 'integer', maximum: 100 },
    backward: [],
    forward: ['MAXIMUM_DECREASED'],
  },
  { name: 'refuse a maximum added to an unbounded number', old: { type: 'number' }, new: { type: 'number', maximum: 100 }, backward: ['MAXIMUM_DECREASED'], forward: [] },
  {
    name: 'refuse a higher exclusiveMinimum',
    old: { type: 'number', exclusiveMinimum: 0 },
    new: { type: 'number', exclusiveMinimum: 10 },
    backward: ['EXCLUSIVE_MINIMUM_INCREASED'],
    forward: [],
  },
  {
    name: 'refuse a lower exclusiveMaximum',
    old: { type: 'number', exclusiveMaximum: 100 },
    new: { type: 'number', exclusiveMaximum: 10 },
    backward: ['EXCLUSIVE_MAXIMUM_DECREASED'],
    forward: [],
  },
  {
    name: 'accept an integer exclusiveMinimum rewritten as the equivalent minimum',
    old: { type: 'integer', exclusiveMinimum: 0 },
    new: { type: 'integer', minimum: 1 },
    backward: [],
    forward: [],
  },
  {
    name: 'refuse a multipleOf the old values are not multiples of',
    old: { type: 'number', multipleOf: 0.01 },
    new: { type: 'number', multipleOf: 0.05 },
    backward: ['MULTIPLE_OF_CHANGED'],
    forward: [],
  },

  // Strings
  {
    name: 'refuse a longer minLength',
    old: { type: 'string', minLength: 1 },
    new: { type: 'string', minLength: 3 },
    backward: ['MIN_LENGTH_INCREASED'],
    forward: [],
  },
  {
    name: 'refuse a shorter maxLength',
    old: { type: 'string', maxLength: 200 },
    new: { type: 'string', maxLength: 50 },
    backward: ['MAX_LENGTH_DECREASED'],
    forward: [],
  },
  {
    name: 'refuse a pattern that changes',
    old: { type: 'string', pattern: '^[A-Z]+$' },
    new: { type: 'string', pattern: '^[A-Z]{3}$' },
    backward: ['PATTERN_CHANGED'],
    forward: ['PATTERN_CHANGED'],
  },
  {
    name: 'refuse an added format and accept a removed one',
    old: string,
    new: { type: 'string', format: 'email' },
    backward: ['FORMAT_CHANGED'],
    forward: [],
  },

  // Arrays
  {
    name: 'refuse a higher minItems',
    old: { type: 'array', items: string },
    new: { type: 'array', items: string, minItems: 1 },
    backward: ['MIN_ITEMS_INCREASED'],
    forward: [],
  },
  {
    name: 'refuse a lower maxItems',
    old: { type: 'array', items: string, maxItems: 10 },
    new: { type: 'array', items: string, maxItems: 5 },
    backward: ['MAX_ITEMS_DECREASED'],
    forward: [],
  },
  {
    name: 'refuse items that must become unique',
    old: { type: 'array', items: string },
    new: { type: 'array', items: string, uniqueItems: true },
    backward: ['UNIQUE_ITEMS_ADDED'],
    forward: [],
  },
  {
    name: 'refuse array items whose nested property narrows',
    old: object({ lines: { type: 'array', items: object({ qty: { type: 'number' } }) } }),
    new: object({ lines: { type: 'array', items: object({ qty: { type: 'integer' } }) } }),
    backward: ['TYPE_NARROWED'],
    forward: [],
    backwardPaths: ['/lines/*/qty'],
  },
  {
    name: 'compare prefixItems position by position',
    old: { type: 'array', prefixItems: [string, { type: 'number' }], items: false },
    new: { type: 'array', prefixItems: [string, { type: 'integer' }], items: false },
    backward: ['TYPE_NARROWED'],
    forward: [],
    backwardPaths: ['/1'],
  },

  // Composition
  {
    name: 'refuse an anyOf that loses a branch',
    old: { anyOf: [string, { type: 'number' }] },
    new: { anyOf: [string] },
    backward: ['COMPOSITION_NARROWED'],
    forward: [],
  },
  {
    name: 'refuse a nested oneOf that loses a branch',
    old: object({ payment: { oneOf: [string, object({ iban: string }, { required: ['iban'] })] } }),
    new: object({ payment: { oneOf: [object({ iban: string }, { required: ['iban'] })] } }),
    backward: ['COMPOSITION_NARROWED'],
    forward: [],
    backwardPaths: ['/payment'],
  },
  {
    name: 'refuse a value that fits no branch of a new anyOf',
    old: object({ amount: string }),
    new: object({ amount: { anyOf: [{ type: 'string', maxLength: 12 }, { type: 'number' }] } }),
    backward: ['COMPOSITION_NARROWED'],
    forward: ['COMPOSITION_NARROWED'], // the new number branch is not a string
    backwardPaths: ['/amount'],
    forwardPaths: ['/amount'],
  },
  {
    name: 'accept a nullable type rewritten as anyOf',
    old: { type: ['string', 'null'] },
    new: { anyOf: [string, { type: 'null' }] },
    backward: [],
    forward: [],
  },

  // Keywords the checker does not reason about
  {
    name: 'refuse a changed allOf as unsupported',
    old: { type: 'object', allOf: [{ required: ['id'] }] },
    new: { type: 'object', allOf: [{ required: ['id', 'sku'] }] },
    backward: ['UNSUPPORTED_CHANGE'],
    forward: ['UNSUPPORTED_CHANGE'],
  },
  {
    name: 'refuse added patternProperties as unsupported',
    old: { type: 'object' },
    new: { type: 'object', patternProperties: { '^x-': string } },
    backward: ['UNSUPPORTED_CHANGE'],
    forward: [],
  },
  {
    name: 'refuse an added dependentRequired as unsupported but accept its removal',
    old: { type: 'object' },
    new: { type: 'object', dependentRequired: { card: ['cvv'] } },
    backward: ['UNSUPPORTED_CHANGE'],
    forward: [],
  },

  // false, $ref
  {
    name: 'refuse a property whose schema becomes false',
    old: object({ legacy: string }),
    new: object({ legacy: false }),
    backward: ['SCHEMA_FALSE'],
    forward: [],
    backwardPaths: ['/legacy'],
  },
  {
    name: 'refuse a reference to another document',
    old: object({ address: { type: 'object' } }),
    new: object({ address: { $ref: 'https://example.com/address.json' } }),
    backward: ['REF_UNRESOLVED'],
    forward: ['REF_UNRESOLVED'],
    backwardPaths: ['/address'],
    forwardPaths: ['/address'],
  },
  {
    name: 'refuse a local reference that points nowhere',
    old: object({ address }),
    new: object({ address: { $ref: '#/$defs/Adress' } }, { $defs: { Address: address } }),
    backward: ['REF_UNRESOLVED'],
    forward: ['REF_UNRESOLVED'],
    backwardPaths: ['/address'],
  },
  {
    name: 'follow $ref into $defs and report every path that uses the definition',
    old: object({ billing: { $ref: '#/$defs/Address' }, shipping: { $ref: '#/$defs/Address' } }, { $defs: { Address: address } }),
    new: object({ billing: { $ref: '#/$defs/Address' }, shipping: { $ref: '#/$defs/Address' } }, { $defs: { Address: addressWithZipRequired } }),
    backward: ['REQUIRED_ADDED'],
    forward: [],
    backwardPaths: ['/billing/zip', '/shipping/zip'],
  },
  {
    name: 'accept an inline schema moved into definitions',
    old: object({ billing: address }),
    new: object({ billing: { $ref: '#/definitions/Address' } }, { definitions: { Address: address } }),
    backward: [],
    forward: [],
  },
  {
    name: 'compare recursive schemas without looping',
    old: tree(string),
    new: tree({ type: 'string', maxLength: 10 }),
    backward: ['MAX_LENGTH_DECREASED'],
    forward: [],
    backwardPaths: ['/name'],
  },

  // Compatible edits
  {
    name: 'accept changed annotations',
    old: object({ id: { type: 'string', description: 'the id' } }, { title: 'Order' }),
    new: object(
      { id: { type: 'string', description: 'the order id', deprecated: true, examples: ['o-1'], default: 'o-0', $comment: 'kept' } },
      { title: 'Order v2' },
    ),
    backward: [],
    forward: [],
  },
  { name: 'accept identical schemas', old: order, new: structuredClone(order), backward: [], forward: [] },
];

describe('findIncompatibilities', () => {
  for (const row of rows) {
    it(`should ${row.name}`, () => {
      const backward = findIncompatibilities(row.old, row.new);
      const forward = findIncompatibilities(row.new, row.old);
      expect(rules(backward), 'backward rules').toEqual([...row.backward].sort());
      expect(rules(forward), 'forward rules').toEqual([...row.forward].sort());
      if (row.backwardPaths) expect(paths(backward), 'backward paths').toEqual([...row.backwardPaths].sort());
      if (row.forwardPaths) expect(paths(forward), 'forward paths').toEqual([...row.forwardPaths].sort());
      for (const change of [...backward, ...forward]) {
        expect(change.path).toMatch(/^\//);
        expect(change.message).toMatch(/the (old|new) schema/);
      }
    });
  }

  it('should name both schemas by their labels in an actionable message', () => {
    const [change] = findIncompatibilities(object({ status: string }), object({ status: string }, { required: ['status'] }), {
      writer: 'version 2',
      reader: 'the new schema',
    });
    expect(change).toEqual({
      path: '/status',
      rule: 'REQUIRED_ADDED',
      message: 'the new schema requires "status", which data valid under version 2 may lack',
    });
  });

  it('should say that oneOf exclusivity is not checked when no reader branch fits', () => {
    const [change] = findIncompatibilities(string, { oneOf: [{ type: 'number' }, { type: 'boolean' }] });
    expect(change?.rule).toBe('COMPOSITION_NARROWED');
    expect(change?.message).toMatch(/exclusivity of "oneOf" is not checked/);
  });

  it('should explain a narrowed composition with the most relevant branch', () => {
    const kind = (k: string, extra: Record<string, unknown>) => object({ kind: { const: k }, ...extra }, { required: ['kind'] });
    const [change] = findIncompatibilities(
      { oneOf: [kind('card', { last4: string }), kind('iban', { iban: string })] },
      { oneOf: [kind('card', { last4: { type: 'string', maxLength: 4 } }), kind('iban', { iban: string })] },
    );
    expect(change).toEqual({
      path: '/',
      rule: 'COMPOSITION_NARROWED',
      message:
        'data matching branch 1 of "oneOf" in the old schema fits no branch of "oneOf" in the new schema (exclusivity of "oneOf" is not checked); ' +
        'the closest branch fails at /last4: the new schema requires at most 4 characters, which data valid under the old schema may not meet (the old schema has no maxLength)',
    });
  });

  it('should report a $ref that only loops through references instead of assuming it compatible', () => {
    const looping = { $defs: { A: { $ref: '#/$defs/B' }, B: { $ref: '#/$defs/A' } }, $ref: '#/$defs/A' };
    expect(rules(findIncompatibilities(looping, string))).toEqual(['REF_UNRESOLVED']);
  });

  it('should ignore key order when comparing values', () => {
    expect(findIncompatibilities({ const: { a: 1, b: 2 } }, { const: { b: 2, a: 1 } })).toEqual([]);
    expect(findIncompatibilities({ type: 'object', allOf: [{ required: ['a'], type: 'object' }] }, { allOf: [{ type: 'object', required: ['a'] }], type: 'object' })).toEqual([]);
  });
});

describe('checkCompatibility', () => {
  const qty = (schema: Record<string, unknown>): Record<string, unknown> => object({ qty: schema }, { required: ['qty'] });
  const history = (...schemas: Record<string, unknown>[]) => schemas.map((schema, i) => ({ version: i + 1, schema }));

  // Under one mode, set inclusion is transitive: a v3 compatible with v2 can only break v1 when v2 was registered
  // under another mode. Each history below was compatible in the direction of the mode the topic had then.
  const narrowedThenRelaxed = history(qty({ type: 'number', maximum: 100 }), qty({ type: 'integer', maximum: 100 })); // v1→v2: FORWARD
  const widenedThenNarrowed = history(qty({ type: 'integer', maximum: 100 }), qty({ type: 'number', maximum: 100 })); // v1→v2: BACKWARD
  const widenedThenDocumented = history(qty({ type: 'integer' }), qty({ type: 'number' })); // v1→v2: BACKWARD

  const relaxed = qty({ type: 'integer', maximum: 1000 });
  const narrowed = qty({ type: 'number', maximum: 50 });
  const documented = qty({ type: 'number', description: 'units ordered' });

  it('should start from histories whose second version was compatible when it was registered', () => {
    expect(checkCompatibility('FORWARD', narrowedThenRelaxed[1]?.schema, narrowedThenRelaxed.slice(0, 1)).compatible).toBe(true);
    expect(checkCompatibility('BACKWARD', widenedThenNarrowed[1]?.schema, widenedThenNarrowed.slice(0, 1)).compatible).toBe(true);
    expect(checkCompatibility('BACKWARD', widenedThenDocumented[1]?.schema, widenedThenDocumented.slice(0, 1)).compatible).toBe(true);
  });

  const cases: {
    mode: CompatibilityMode;
    name: string;
    candidate: unknown;
    previous: { version: number; schema: unknown }[];
    breaking: { version: number; direction: 'BACKWARD' | 'FORWARD'; rule: string; path: string }[];
  }[] = [
    { mode: 'NONE', name: 'should accept any candidate', candidate: qty(string), previous: widenedThenDocumented, breaking: [] },
    { mode: 'BACKWARD', name: 'should accept a candidate that reads the latest version', candidate: relaxed, previous: narrowedThenRelaxed, breaking: [] },
    {
      mode: 'BACKWARD_TRANSITIVE',
      name: 'should refuse a candidate that cannot read an earlier version',
      candidate: relaxed,
      previous: narrowedThenRelaxed,
      breaking: [{ version: 1, direction: 'BACKWARD', rule: 'TYPE_NARROWED', path: '/qty' }],
    },
    { mode: 'FORWARD', name: 'should accept a candidate the latest version can read', candidate: narrowed, previous: widenedThenNarrowed, breaking: [] },
    {
      mode: 'FORWARD_TRANSITIVE',
      name: 'should refuse a candidate an earlier version cannot read',
      candidate: narrowed,
      previous: widenedThenNarrowed,
      breaking: [{ version: 1, direction: 'FORWARD', rule: 'TYPE_NARROWED', path: '/qty' }],
    },
    { mode: 'FULL', name: 'should accept a candidate equivalent to the latest version', candidate: documented, previous: widenedThenDocumented, breaking: [] },
    {
      mode: 'FULL_TRANSITIVE',
      name: 'should refuse a candidate that breaks an earlier version in either direction',
      candidate: documented,
      previous: widenedThenDocumented,
      breaking: [{ version: 1, direction: 'FORWARD', rule: 'TYPE_NARROWED', path: '/qty' }],
    },
  ];

  for (const { mode, name, candidate, previous, breaking } of cases) {
    describe(mode, () => {
      it(name, () => {
        const result = checkCompatibility(mode, candidate, previous);
        expect(result.compatible).toBe(breaking.length === 0);
        expect(result.breakingChanges.map(({ version, direction, rule, path }) => ({ version, direction, rule, path }))).toEqual(breaking);
        for (const change of result.breakingChanges) expect(change.message).toContain(`version ${change.version}`);
      });
    });
  }

  it('should check FULL in both directions and record each', () => {
    const result = checkCompatibility('FULL', qty({ type: 'string' }), widenedThenDocumented);
    expect(result.compatible).toBe(false);
    expect(result.breakingChanges.map((c) => `${c.version} ${c.direction} ${c.rule}`)).toEqual(['2 BACKWARD TYPE_CHANGED', '2 FORWARD TYPE_CHANGED']);
    expect(result.breakingChanges[0]?.message).toBe('the new schema only accepts string, but data valid under version 2 is number');
    expect(result.breakingChanges[1]?.message).toBe('version 2 only accepts number, but data valid under the new schema is string');
  });

  it('should accept any candidate when there is no previous version', () => {
    for (const mode of COMPATIBILITY_MODES) expect(checkCompatibility(mode, qty(string), [])).toEqual({ compatible: true, breakingChanges: [] });
  });

  it('should list the seven modes and refuse an unknown one', () => {
    expect(COMPATIBILITY_MODES).toHaveLength(7);
    expect(() => checkCompatibility('SIDEWAYS' as CompatibilityMode, {}, [])).toThrow(RangeError);
  });
});
