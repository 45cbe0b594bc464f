import type { GraphQLSchema } from 'graphql';
import { builder } from './builder.js';

let base: GraphQLSchema | undefined;

/**
 * The schema every application shares (control plane, publish, generic `events`); built once, on first
 * use, after every domain module has added its fields to the builder.
 */
export function baseSchema(): GraphQLSchema {
  base ??= builder.toSchema({ sortSchema: false });
  return base;
}
