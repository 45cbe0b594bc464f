import { Kind, type ValueNode } from 'graphql';
import { badInput } from '@realtime/core';
import { builder } from './builder.js';

/** Converts an inline GraphQL literal to JSON; objects get own data properties only (never a prototype). */
function literalToJson(node: ValueNode, variables: Record<string, unknown> | null | undefined): unknown {
  switch (node.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return node.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(node.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return node.values.map((value) => literalToJson(value, variables));
    case Kind.OBJECT: {
      const object: Record<string, unknown> = {};
      for (const field of node.fields) {
        Object.defineProperty(object, field.name.value, {
          value: literalToJson(field.value, variables),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return object;
    }
    case Kind.VARIABLE:
      return variables?.[node.name.value];
    default:
      throw badInput(`JSON cannot hold a ${node.kind} literal`);
  }
}

export const JSONScalar = builder.scalarType('JSON', {
  description: 'Any JSON value (object, array, string, number, boolean or null).',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (node, variables) => literalToJson(node, variables),
});

export const DateTimeScalar = builder.scalarType('DateTime', {
  description: 'An instant as an ISO-8601 string in UTC, e.g. `2026-11-27T20:58:03.000Z`.',
  serialize: (value) => (value instanceof Date ? value.toISOString() : String(value)),
  parseValue: (value) => {
    const date = new Date(String(value));
    if (Number.isNaN(date.getTime())) throw badInput(`"${String(value)}" is not an ISO-8601 date-time`);
    return date;
  },
});
