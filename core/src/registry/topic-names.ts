import { badInput } from '../errors.js';

/** Dotted lower-case words: `order.updated`, `session.status`, `order_line.added`. */
const TOPIC_NAME = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;
const MAX_TOPIC_LENGTH = 100;

/**
 * Subscription fields the platform itself defines; a topic may not take their names. A schema test checks
 * that every field of the base Subscription type is listed here.
 */
export const RESERVED_FIELD_NAMES: ReadonlySet<string> = new Set(['events', 'document', 'presence', 'broadcasts']);

export function isTopicName(name: string): boolean {
  return name.length <= MAX_TOPIC_LENGTH && TOPIC_NAME.test(name) && !name.includes('__');
}

/** Throws BAD_USER_INPUT unless `name` is a valid topic name. */
export function assertTopicName(name: string, field = 'name'): void {
  if (!isTopicName(name)) {
    throw badInput(
      `invalid topic name "${name}": use dotted lower-case words (letters, digits, "_"), like "order.updated", at most ${MAX_TOPIC_LENGTH} characters`,
      { field },
    );
  }
}

const words = (name: string): string[] => name.split(/[._]/).filter((w) => w.length > 0);
const capitalize = (word: string): string => word.charAt(0).toUpperCase() + word.slice(1);

/** `order.updated` → `orderUpdated`: the topic's GraphQL Subscription field. */
export function topicFieldName(name: string): string {
  const [first = '', ...rest] = words(name);
  return first + rest.map(capitalize).join('');
}

/** `order.updated` → `OrderUpdated`: the base of the topic's GraphQL type names. */
export function topicTypeName(name: string): string {
  return words(name).map(capitalize).join('');
}
