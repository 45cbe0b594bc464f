import SchemaBuilder from '@pothos/core';
import type { GraphQLContext } from './context.js';

/** The one Pothos builder; each domain folder adds its types and fields to it. */
export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  Scalars: {
    JSON: { Input: unknown; Output: unknown };
    DateTime: { Input: Date; Output: Date | string };
  };
  DefaultFieldNullability: false;
}>({ defaultFieldNullability: false });

builder.queryType({ description: 'Reads of the control plane.' });
builder.mutationType({ description: 'Changes to the control plane, and publishing.' });
builder.subscriptionType({
  description:
    'Live events. Each registered topic adds a typed field (`order.updated` → `orderUpdated`) to the schema of its application and environment.',
});
