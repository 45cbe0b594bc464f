import { builder } from '../builder.js';

/**
 * Comparison inputs shared by every generated `<Topic>Where` filter. All given operators must hold
 * (`{ gte: 10, lt: 20 }`); a missing value matches only `ne` and `in`-less filters that do not name it.
 */
export const StringFilter = builder.inputType('StringFilter', {
  fields: (t) => ({ eq: t.string(), ne: t.string(), in: t.stringList() }),
});

export const IntFilter = builder.inputType('IntFilter', {
  fields: (t) => ({ eq: t.int(), ne: t.int(), in: t.intList(), gt: t.int(), gte: t.int(), lt: t.int(), lte: t.int() }),
});

export const FloatFilter = builder.inputType('FloatFilter', {
  fields: (t) => ({ eq: t.float(), ne: t.float(), in: t.floatList(), gt: t.float(), gte: t.float(), lt: t.float(), lte: t.float() }),
});

export const BooleanFilter = builder.inputType('BooleanFilter', {
  fields: (t) => ({ eq: t.boolean(), ne: t.boolean() }),
});
