import {
  type GraphQLEnumType,
  GraphQLInputObjectType,
  GraphQLList,
  GraphQLNonNull,
  isEnumType,
  type GraphQLInputFieldConfigMap,
  type GraphQLInputType,
} from 'graphql';
import type { EventEnvelope } from '@realtime/core';
import type { NameAllocator } from './json-schema-to-graphql.js';
import { graphqlFieldName, pascal } from './names.js';

type JsonSchema = Record<string, unknown> | boolean;

export interface FilterInputs {
  string: GraphQLInputObjectType;
  int: GraphQLInputObjectType;
  float: GraphQLInputObjectType;
  boolean: GraphQLInputObjectType;
}

/** Where a generated input field reads its value: the JSON property name it stands for. */
interface WhereFieldExtensions {
  realtimeProperty?: string;
  realtimeEnvelope?: boolean;
  /** The field is a nested `<Type>Where`, not a comparison. */
  realtimeNested?: boolean;
}

const MAX_DEPTH = 4;

/** The same field names as the output type (`first-name` → `first_name`); `and`, `or`, `subject` get a `_`. */
function fieldNameFor(property: string): string {
  const name = graphqlFieldName(property);
  return ['and', 'or', 'subject'].includes(name) ? `${name}_` : name;
}

/**
 * Builds `<Topic>Where` for a topic's schema: one filter per scalar property (strings and enums: eq/ne/in;
 * integers and numbers: also gt/gte/lt/lte; booleans: eq/ne), nested `<Type>Where` for objects, `subject`
 * of the envelope, and `and`/`or` lists. Arrays, maps and JSON values are not filterable.
 * When nothing in the schema is filterable the input still has `subject`, `and` and `or`.
 */
export function buildWhereInput(
  root: Record<string, unknown>,
  rootName: string,
  allocate: NameAllocator,
  filters: FilterInputs,
  enumFor: (schema: Record<string, unknown>) => GraphQLEnumType | undefined,
): GraphQLInputObjectType {
  const enumFilters = new Map<GraphQLEnumType, GraphQLInputObjectType>();

  const resolve = (schema: JsonSchema): JsonSchema => {
    if (typeof schema === 'object' && typeof schema.$ref === 'string') {
      const match = /^#\/(\$defs|definitions)\/([^/]+)$/.exec(schema.$ref);
      const container = match ? (root[match[1] as string] as Record<string, JsonSchema> | undefined) : undefined;
      return (match && container?.[decodeURIComponent(match[2] as string)]) ?? true;
    }
    return schema;
  };

  function enumFilter(enumType: GraphQLEnumType): GraphQLInputObjectType {
    let filter = enumFilters.get(enumType);
    if (!filter) {
      filter = new GraphQLInputObjectType({
        name: allocate(`${enumType.name}Filter`),
        fields: { eq: { type: enumType }, ne: { type: enumType }, in: { type: new GraphQLList(new GraphQLNonNull(enumType)) } },
      });
      enumFilters.set(enumType, filter);
    }
    return filter;
  }

  function filterFor(schema: JsonSchema, typeName: string, depth: number): GraphQLInputType | undefined {
    const resolved = resolve(schema);
    if (typeof resolved !== 'object') return undefined;
    let type = resolved.type;
    if (Array.isArray(type)) {
      const withoutNull = type.filter((t) => t !== 'null');
      if (withoutNull.length !== 1) return undefined;
      type = withoutNull[0];
    }
    if (Array.isArray(resolved.enum)) {
      const enumType = enumFor(resolved);
      if (enumType && isEnumType(enumType)) return enumFilter(enumType);
      return resolved.enum.every((v) => typeof v === 'string') ? filters.string : undefined;
    }
    if (type === undefined && typeof resolved.properties === 'object') type = 'object';
    switch (type) {
      case 'string':
        return filters.string;
      case 'boolean':
        return filters.boolean;
      case 'number':
        return filters.float;
      case 'integer': {
        // The same rule as the output type: Int unless a declared bound passes 32 bits.
        const bounds = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum']
          .map((k) => resolved[k])
          .filter((v): v is number => typeof v === 'number');
        return bounds.every((b) => b >= -(2 ** 31) && b <= 2 ** 31 - 1) ? filters.int : filters.float;
      }
      case 'object':
        return depth < MAX_DEPTH ? objectWhere(resolved, typeName, depth + 1, false) : undefined;
      default:
        return undefined;
    }
  }

  function objectWhere(schema: Record<string, unknown>, typeName: string, depth: number, isRoot: boolean): GraphQLInputObjectType | undefined {
    const properties = (typeof schema.properties === 'object' && schema.properties) || {};
    const fields: GraphQLInputFieldConfigMap = {};
    for (const [property, propertySchema] of Object.entries(properties as Record<string, JsonSchema>)) {
      const filter = filterFor(propertySchema, `${typeName}${pascal(property)}`, depth);
      if (!filter) continue;
      let name = fieldNameFor(property);
      while (fields[name]) name = `${name}_`;
      const nested = filter !== filters.string && filter !== filters.int && filter !== filters.float && filter !== filters.boolean && ![...enumFilters.values()].includes(filter as GraphQLInputObjectType);
      fields[name] = { type: filter, extensions: { realtimeProperty: property, realtimeNested: nested } satisfies WhereFieldExtensions };
    }
    if (!isRoot && Object.keys(fields).length === 0) return undefined;
    const name = allocate(`${typeName}Where`);
    const input: GraphQLInputObjectType = new GraphQLInputObjectType({
      name,
      description: isRoot ? 'Only events whose data match every given condition are delivered (evaluated on the server).' : undefined,
      fields: () => ({
        ...(isRoot ? { subject: { type: filters.string, description: 'The event’s subject.', extensions: { realtimeEnvelope: true } } } : {}),
        ...fields,
        and: { type: new GraphQLList(new GraphQLNonNull(input)), description: 'Every condition holds.' },
        or: { type: new GraphQLList(new GraphQLNonNull(input)), description: 'At least one condition holds.' },
      }),
    });
    return input;
  }

  return objectWhere(root, rootName, 0, true) as GraphQLInputObjectType;
}

type Predicate = (value: unknown) => boolean;

/** A predicate for one comparison input (`{ gte: 10, lt: 20 }`): every operator given must hold. */
function comparison(filter: Record<string, unknown>): Predicate {
  const checks: Predicate[] = [];
  for (const [operator, operand] of Object.entries(filter)) {
    if (operand === undefined || operand === null) continue;
    switch (operator) {
      case 'eq':
        checks.push((v) => v === operand);
        break;
      case 'ne':
        checks.push((v) => v !== operand);
        break;
      case 'in': {
        const allowed = new Set(operand as unknown[]);
        checks.push((v) => allowed.has(v));
        break;
      }
      case 'gt':
        checks.push((v) => typeof v === 'number' && v > (operand as number));
        break;
      case 'gte':
        checks.push((v) => typeof v === 'number' && v >= (operand as number));
        break;
      case 'lt':
        checks.push((v) => typeof v === 'number' && v < (operand as number));
        break;
      case 'lte':
        checks.push((v) => typeof v === 'number' && v <= (operand as number));
        break;
    }
  }
  return (value) => checks.every((check) => check(value));
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Compiles a `where` argument, once per subscription, into a predicate over events. Input field names are
 * mapped back to the JSON property names they stand for (kept in the input type's field extensions).
 */
export function compileWhere(input: GraphQLInputObjectType, where: Record<string, unknown>): (event: Readonly<EventEnvelope>) => boolean {
  const compileObject = (type: GraphQLInputObjectType, value: Record<string, unknown>): ((data: unknown, event: Readonly<EventEnvelope>) => boolean) => {
    const parts: ((data: unknown, event: Readonly<EventEnvelope>) => boolean)[] = [];
    const fields = type.getFields();
    for (const [name, operand] of Object.entries(value)) {
      if (operand === undefined || operand === null) continue;
      if (name === 'and' || name === 'or') {
        const list = (operand as Record<string, unknown>[]).map((item) => compileObject(type, item));
        parts.push(name === 'and' ? (d, e) => list.every((p) => p(d, e)) : (d, e) => list.some((p) => p(d, e)));
        continue;
      }
      const field = fields[name];
      if (!field) continue;
      const extensions = field.extensions as WhereFieldExtensions;
      if (extensions.realtimeEnvelope) {
        const check = comparison(operand as Record<string, unknown>);
        parts.push((_d, e) => check(e.subject ?? undefined));
        continue;
      }
      const property = extensions.realtimeProperty ?? name;
      const fieldType = field.type as GraphQLInputObjectType;
      if (extensions.realtimeNested) {
        const check = compileObject(fieldType, operand as Record<string, unknown>);
        parts.push((d, e) => isRecord(d) && check(d[property], e));
      } else {
        const check = comparison(operand as Record<string, unknown>);
        parts.push((d) => check(isRecord(d) ? d[property] : undefined));
      }
    }
    return (data, event) => parts.every((p) => p(data, event));
  };
  const root = compileObject(input, where);
  return (event) => root(event.data, event);
}

/**
 * The one subject a `where` lets through, when its root requires `subject: { eq: "…" }` (root conditions all
 * hold together, so no event of another subject can match): the subscription can then be routed by subject
 * instead of filtering every event of the topic. The compiled filter still checks it.
 */
export function requiredSubject(where: Record<string, unknown> | null | undefined): string | undefined {
  const subject = where?.subject as { eq?: unknown } | null | undefined;
  return typeof subject?.eq === 'string' ? subject.eq : undefined;
}
