const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

/** `first-name` → `FirstName`: a part of a generated GraphQL type name. */
export const pascal = (text: string): string =>
  text
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w.length > 0)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('') || 'Value';

/** A valid GraphQL field name for a JSON property name (`first-name` → `first_name`, `1st` → `_1st`). */
export function graphqlFieldName(property: string): string {
  if (GRAPHQL_NAME.test(property) && !property.startsWith('__')) return property;
  const cleaned = property.replace(/[^_0-9A-Za-z]/g, '_').replace(/^_+/, '');
  return /^[0-9]/.test(cleaned) || cleaned === '' ? `_${cleaned}` : cleaned;
}

/** Whether a string can be a GraphQL enum value. */
export const isEnumValueName = (value: unknown): value is string =>
  typeof value === 'string' && GRAPHQL_NAME.test(value) && !['true', 'false', 'null'].includes(value);
