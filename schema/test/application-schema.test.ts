import { describe, expect, it } from 'vitest';
import { getNamedType, isEnumType, isNonNullType, printType, type GraphQLObjectType, type GraphQLSchema } from 'graphql';
import { RESERVED_FIELD_NAMES, topicFieldName, type Topic } from '@realtime/core';
import { baseSchema, buildApplicationSchema, createSchemaCache } from '@realtime/schema';

const topic = (name: string, schema: Record<string, unknown>, extra: Partial<Topic> = {}): Topic => ({
  id: `id-${name}`, applicationId: 'app', environment: 'DEV', name, fieldName: topicFieldName(name),
  description: null, schemaVersion: 1, schema, compatibility: 'BACKWARD', retentionMaxEvents: 10_000, retentionMaxAgeSeconds: 86_400, access: 'PUBLIC', claimFilters: [], clientMessages: false,
  createdAt: new Date(0), ...extra,
});

const ORDER = topic('order.updated', {
  type: 'object',
  description: 'An order changed.',
  properties: {
    orderId: { type: 'string' },
    status: { type: 'string', enum: ['NEW', 'PAID'] },
    count: { type: 'integer' },
    big: { type: 'integer', maximum: 2 ** 40 },
    total: { type: 'number' },
    paidAt: { type: 'string', format: 'date-time' },
    note: { type: ['string', 'null'] },
    tags: { type: 'array', items: { type: 'string' } },
    customer: { type: 'object', properties: { id: { type: 'string' }, vip: { type: 'boolean' } }, required: ['id'] },
    attributes: { type: 'object', additionalProperties: { type: 'string' } },
    payment: { oneOf: [{ type: 'object', properties: { card: { type: 'string' } } }, { type: 'object', properties: { iban: { type: 'string' } } }] },
    pair: { type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }] },
    legacy: { type: 'string', deprecated: true, description: 'Old field.' },
    'first-name': { type: 'string' },
    address: { $ref: '#/$defs/address' },
  },
  required: ['orderId', 'status', 'customer', 'note'],
  $defs: { address: { type: 'object', properties: { city: { type: 'string' } } } },
});

const typeOf = (schema: GraphQLSchema, name: string): string => printType(schema.getType(name)!);

describe('per-environment typed schema', () => {
  const schema = buildApplicationSchema(baseSchema(), [ORDER]);

  it('should add a typed Subscription field named after the topic', () => {
    const field = schema.getSubscriptionType()!.getFields().orderUpdated!;
    expect(String(field.type)).toBe('OrderUpdatedEvent!');
    expect(schema.getSubscriptionType()!.getFields().events).toBeDefined();
    const event = schema.getType('OrderUpdatedEvent') as GraphQLObjectType;
    expect(event.getInterfaces().map((i) => i.name)).toEqual(['EventEnvelope']);
    expect(Object.keys(event.getFields())).toEqual(expect.arrayContaining(['id', 'topic', 'time', 'cursor', 'subject', 'data']));
    expect(String(event.getFields().data!.type)).toBe('OrderUpdated!');
  });

  it('should map JSON Schema types to GraphQL types as documented', () => {
    const sdl = typeOf(schema, 'OrderUpdated');
    expect(sdl).toContain('orderId: String!');
    expect(sdl).toContain('status: OrderUpdatedStatus!');
    expect(sdl).toContain('count: Int\n');
    expect(sdl).toContain('big: Float\n');
    expect(sdl).toContain('total: Float\n');
    expect(sdl).toContain('paidAt: DateTime\n');
    expect(sdl).toContain('note: String\n');
    expect(sdl).toContain('tags: [String!]\n');
    expect(sdl).toContain('customer: OrderUpdatedCustomer!');
    expect(sdl).toContain('address: OrderUpdatedAddress\n');
    expect(sdl).toContain('first_name: String');
    expect(sdl).toMatch(/legacy: String @deprecated/);
    expect(typeOf(schema, 'OrderUpdatedCustomer')).toContain('id: String!');
    expect(isEnumType(schema.getType('OrderUpdatedStatus'))).toBe(true);
    expect(typeOf(schema, 'OrderUpdatedStatus')).toContain('NEW');
  });

  it('should deliver what GraphQL cannot express as JSON, saying why', () => {
    const data = schema.getType('OrderUpdated') as GraphQLObjectType;
    for (const [name, reason] of [['attributes', 'free-form map'], ['payment', 'oneOf'], ['pair', 'tuples']] as const) {
      const field = data.getFields()[name]!;
      expect(getNamedType(field.type).name, name).toBe('JSON');
      expect(field.description, name).toContain(reason);
    }
  });

  it('should resolve renamed properties from their JSON names', async () => {
    const field = (schema.getType('OrderUpdated') as GraphQLObjectType).getFields().first_name!;
    expect(field.resolve?.({ 'first-name': 'Ada' }, {}, {}, {} as never)).toBe('Ada');
  });

  it('should give colliding type names distinct, stable names', () => {
    // `order.updated.customer` wants the name OrderUpdatedCustomer, which order.updated's nested type wants too.
    const nested = topic('order.updated.customer', { type: 'object', properties: { x: { type: 'string' } } });
    const first = buildApplicationSchema(baseSchema(), [ORDER, nested]);
    const second = buildApplicationSchema(baseSchema(), [nested, ORDER]);
    const fieldType = (s: GraphQLSchema, f: string): string =>
      String((s.getType(String(s.getSubscriptionType()!.getFields()[f]!.type).replace('!', '')) as GraphQLObjectType).getFields().data!.type);
    // The topic's own root type keeps the plain name; the nested one steps aside, in either registration order.
    expect(fieldType(first, 'orderUpdatedCustomer')).toBe('OrderUpdatedCustomer!');
    expect(fieldType(second, 'orderUpdatedCustomer')).toBe('OrderUpdatedCustomer!');
    expect(String((first.getType('OrderUpdated') as GraphQLObjectType).getFields().customer!.type)).toBe('OrderUpdatedCustomer2!');
    expect(isNonNullType((first.getType('OrderUpdated') as GraphQLObjectType).getFields().customer!.type)).toBe(true);
  });

  it('should build a schema once per registry revision', () => {
    const schemaFor = createSchemaCache(baseSchema());
    const set = { scope: { applicationId: 'app', environment: 'DEV' as const }, revision: 1, topics: [ORDER], byName: new Map([[ORDER.name, ORDER]]) };
    expect(schemaFor(set)).toBe(schemaFor(set));
    expect(schemaFor({ ...set, revision: 2 })).not.toBe(schemaFor(set));
  });

  it('should generate a typed where filter and compile it into a predicate over events', async () => {
    const { compileWhere } = await import('../src/typed/where.js');
    const { isInputObjectType } = await import('graphql');
    const where = schema.getType('OrderUpdatedWhere');
    expect(isInputObjectType(where)).toBe(true);
    if (!isInputObjectType(where)) return;
    const fields = where.getFields();
    expect(String(fields.status!.type)).toBe('OrderUpdatedStatusFilter');
    expect(String(fields.count!.type)).toBe('IntFilter');
    expect(String(fields.big!.type)).toBe('FloatFilter');
    expect(String(fields.customer!.type)).toBe('OrderUpdatedCustomerWhere');
    expect(String(fields.first_name!.type)).toBe('StringFilter');
    expect(fields.tags).toBeUndefined(); // arrays are not filterable
    expect(String(fields.or!.type)).toBe('[OrderUpdatedWhere!]');
    const event = (data: Record<string, unknown>, subject: string | null = null) =>
      ({ id: '1', topic: 'order.updated', source: '', time: '', applicationId: 'a', environment: 'DEV' as const, subject, schemaVersion: 1, cursor: '', traceparent: null, data });
    const paidBig = compileWhere(where, { status: { eq: 'PAID' }, total: { gte: 100 } });
    expect(paidBig(event({ status: 'PAID', total: 150 }))).toBe(true);
    expect(paidBig(event({ status: 'PAID', total: 50 }))).toBe(false);
    expect(paidBig(event({ status: 'NEW', total: 150 }))).toBe(false);
    const nested = compileWhere(where, { customer: { id: { in: ['c1', 'c2'] } }, first_name: { ne: 'Bob' } });
    expect(nested(event({ customer: { id: 'c2' }, 'first-name': 'Ada' }))).toBe(true);
    expect(nested(event({ customer: { id: 'c2' }, 'first-name': 'Bob' }))).toBe(false);
    expect(nested(event({ customer: { id: 'c3' } }))).toBe(false);
    const bySubject = compileWhere(where, { subject: { eq: 'o-1' } });
    expect(bySubject(event({}, 'o-1'))).toBe(true);
    expect(bySubject(event({}, 'o-2'))).toBe(false);
  });
});

describe('reserved field names', () => {
  it('should reserve every field of the base Subscription type, so no topic can shadow one', () => {
    const fields = Object.keys(baseSchema().getSubscriptionType()?.getFields() ?? {});
    expect(fields.length).toBeGreaterThan(0);
    expect(fields.filter((name) => !RESERVED_FIELD_NAMES.has(name))).toEqual([]);
  });
});
