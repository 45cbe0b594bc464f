import { graphqlFieldName as fieldNameFor, isEnumValueName, pascal } from './names.js';
import {
  GraphQLBoolean,
  GraphQLEnumType,
  GraphQLFloat,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLString,
  type GraphQLFieldConfigMap,
  type GraphQLOutputType,
  type GraphQLScalarType,
} from 'graphql';

type JsonSchema = Record<string, unknown> | boolean;

/** Hands out type names, each once: a wanted name already taken gets the next free numeric suffix. */
export type NameAllocator = (wanted: string) => string;

export function createNameAllocator(taken: Iterable<string>): NameAllocator {
  const used = new Set(taken);
  return (wanted) => {
    let name = wanted;
    for (let n = 2; used.has(name); n += 1) name = `${wanted}${n}`;
    used.add(name);
    return name;
  };
}

export interface ConversionScalars {
  json: GraphQLScalarType;
  dateTime: GraphQLScalarType;
}

/** Called for every enum the conversion creates, with the JSON Schema it came from. */
export type EnumListener = (schema: Record<string, unknown>, type: GraphQLEnumType) => void;

interface Converted {
  /** The nullable GraphQL type; callers wrap it in NonNull where the schema requires a value. */
  type: GraphQLOutputType;
  /** False when the schema explicitly allows null (`type: ["string", "null"]`). */
  nonNull: boolean;
  /** Why a part fell back to JSON, to put in the field's description. */
  note?: string;
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

const describe = (schema: Record<string, unknown>, note?: string): string | undefined => {
  const text = [typeof schema.description === 'string' ? schema.description : undefined, note].filter(Boolean).join('\n\n');
  return text || undefined;
};

/**
 * Converts one topic's JSON Schema to GraphQL output types: objects → object types (`OrderUpdated`,
 * nested `OrderUpdatedCustomer`), string enums → enums, `integer` → Int (Float when its bounds pass 32 bits),
 * `number` → Float, `format: date-time` → DateTime, arrays → lists, `required` → non-null, local `$ref`
 * → shared named types. What GraphQL output cannot express (free-form maps, `oneOf`/`anyOf`, tuples,
 * mixed types) becomes JSON, and the field's description says why.
 */
export function convertTopicSchema(
  root: Record<string, unknown>,
  rootName: string,
  allocate: NameAllocator,
  scalars: ConversionScalars,
  onEnum?: EnumListener,
): GraphQLOutputType {
  const refs = new Map<string, Converted>();
  const json = (note: string): Converted => ({ type: scalars.json, nonNull: true, note });

  function resolveRef(ref: string): { schema: JsonSchema; name: string } | undefined {
    const match = /^#\/(\$defs|definitions)\/([^/]+)$/.exec(ref);
    const container = match ? (root[match[1] as string] as Record<string, JsonSchema> | undefined) : undefined;
    const target = match && container ? container[decodeURIComponent(match[2] as string)] : undefined;
    return target === undefined ? undefined : { schema: target, name: `${rootName}${pascal(match?.[2] ?? '')}` };
  }

  function convert(schema: JsonSchema, typeName: string): Converted {
    if (typeof schema === 'boolean') return json('Any JSON value (the schema does not constrain it).');
    if (typeof schema.$ref === 'string') {
      const cached = refs.get(schema.$ref);
      if (cached) return cached;
      const target = resolveRef(schema.$ref);
      if (!target) return json(`Delivered as JSON: the reference ${schema.$ref} is not a local $defs entry.`);
      // Register before converting so recursive references reuse the same (lazily filled) type.
      const placeholder: Converted = { type: scalars.json, nonNull: true };
      refs.set(schema.$ref, placeholder);
      const converted = convert(target.schema, target.name);
      Object.assign(placeholder, converted);
      return placeholder;
    }
    for (const keyword of ['oneOf', 'anyOf', 'allOf'] as const) {
      if (Array.isArray(schema[keyword])) {
        return json(`Delivered as JSON: GraphQL output types cannot express \`${keyword}\`.`);
      }
    }
    let types = schema.type;
    let nonNull = true;
    if (Array.isArray(types)) {
      const withoutNull = types.filter((t) => t !== 'null');
      nonNull = withoutNull.length === types.length;
      if (withoutNull.length !== 1) return { ...json('Delivered as JSON: the value may have several JSON types.'), nonNull };
      types = withoutNull[0];
    }
    if (Array.isArray(schema.enum)) {
      const values = schema.enum as unknown[];
      if (values.length > 0 && values.every(isEnumValueName)) {
        const name = allocate(typeName);
        const enumType = new GraphQLEnumType({
          name,
          description: describe(schema),
          values: Object.fromEntries(values.map((v) => [v, { value: v }])),
        });
        onEnum?.(schema, enumType);
        return { type: enumType, nonNull };
      }
      if (values.every((v) => typeof v === 'string')) return { type: GraphQLString, nonNull };
      return { ...json('Delivered as JSON: the enum has values that are not GraphQL names.'), nonNull };
    }
    if (types === undefined && typeof schema.properties === 'object') types = 'object';
    switch (types) {
      case 'string':
        return { type: schema.format === 'date-time' ? scalars.dateTime : GraphQLString, nonNull };
      case 'boolean':
        return { type: GraphQLBoolean, nonNull };
      case 'number':
        return { type: GraphQLFloat, nonNull };
      case 'integer': {
        const bounds = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum']
          .map((k) => schema[k])
          .filter((v): v is number => typeof v === 'number');
        const fits = bounds.every((b) => b >= INT32_MIN && b <= INT32_MAX);
        return { type: fits ? GraphQLInt : GraphQLFloat, nonNull };
      }
      case 'array': {
        if (Array.isArray(schema.prefixItems)) return { ...json('Delivered as JSON: GraphQL has no tuples.'), nonNull };
        if (schema.items === undefined) return { type: new GraphQLList(new GraphQLNonNull(scalars.json)), nonNull };
        const item = convert(schema.items as JsonSchema, `${typeName}Item`);
        const itemType = item.nonNull ? new GraphQLNonNull(item.type) : item.type;
        return { type: new GraphQLList(itemType), nonNull, ...(item.note ? { note: item.note } : {}) };
      }
      case 'object':
        return { type: objectType(schema, typeName) ?? scalars.json, nonNull, ...(hasProperties(schema) ? {} : { note: 'A free-form map, delivered as JSON.' }) };
      default:
        return { ...json('Delivered as JSON: the schema names no single type.'), nonNull };
    }
  }

  const hasProperties = (schema: Record<string, unknown>): boolean =>
    typeof schema.properties === 'object' && schema.properties !== null && Object.keys(schema.properties).length > 0;

  function objectType(schema: Record<string, unknown>, typeName: string): GraphQLObjectType | undefined {
    if (!hasProperties(schema)) return undefined;
    const properties = schema.properties as Record<string, JsonSchema>;
    const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
    const name = allocate(typeName);
    return new GraphQLObjectType({
      name,
      description: describe(schema),
      fields: () => {
        const fields: GraphQLFieldConfigMap<Record<string, unknown>, unknown> = {};
        for (const [property, propertySchema] of Object.entries(properties)) {
          let fieldName = fieldNameFor(property);
          while (fields[fieldName]) fieldName = `${fieldName}_`;
          const converted = convert(propertySchema, `${name}${pascal(property)}`);
          const nonNull = required.has(property) && converted.nonNull;
          const info = typeof propertySchema === 'object' ? propertySchema : {};
          fields[fieldName] = {
            type: nonNull ? new GraphQLNonNull(converted.type) : converted.type,
            description: describe(info, converted.note),
            ...(info.deprecated === true ? { deprecationReason: 'Deprecated in the topic schema.' } : {}),
            resolve: (source) => source[property],
          };
        }
        return fields;
      },
    });
  }

  const converted = convert(root, rootName);
  return converted.type;
}
