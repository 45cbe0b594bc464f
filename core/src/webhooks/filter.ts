import { badInput } from '../errors.js';
import type { EventEnvelope } from '../protocol.js';

/**
 * An endpoint's event filter, as JSON. Keys are `subject`, `topic` or dotted paths into the event's data
 * (`data.status`, `data.customer.tier`); a value is either a literal (equality) or an object of operators
 * `eq`, `ne`, `in` (a list), `gt`, `gte`, `lt`, `lte` (numbers or strings), `exists` (boolean). `and` and
 * `or` take lists of filters. Every key of an object must hold. `{}` or null matches everything.
 *
 * Example: `{ "data.status": { "in": ["PAID", "SHIPPED"] }, "or": [{ "subject": "o-1" }, { "data.total": { "gte": 100 } }] }`
 */
export type WebhookFilter = Record<string, unknown>;

export type EventPredicate = (event: Readonly<EventEnvelope>) => boolean;

const OPERATORS = new Set(['eq', 'ne', 'in', 'gt', 'gte', 'lt', 'lte', 'exists']);
const PATH = /^(subject|topic|data(\.[^.\s]{1,100}){0,8})$/;
const MAX_NODES = 200;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function read(event: Readonly<EventEnvelope>, path: string): unknown {
  if (path === 'subject') return event.subject;
  if (path === 'topic') return event.topic;
  let node: unknown = event.data;
  for (const key of path.split('.').slice(1)) {
    if (!isObject(node) || !Object.prototype.hasOwnProperty.call(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

const ordered = (a: unknown, b: unknown): a is number | string =>
  (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string');

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Validates a filter and compiles it to a predicate once (endpoints are matched against every event).
 * Throws BAD_USER_INPUT naming the offending key (field `filter`).
 */
export function compileWebhookFilter(filter: unknown): EventPredicate {
  if (filter === null || filter === undefined) return () => true;
  let nodes = 0;
  const fail = (where: string, why: string): never => {
    throw badInput(`filter${where}: ${why}`, { field: 'filter' });
  };

  function compileObject(node: unknown, where: string): EventPredicate {
    if (!isObject(node)) return fail(where, 'must be an object');
    const parts: EventPredicate[] = [];
    for (const [key, value] of Object.entries(node)) {
      nodes += 1;
      if (nodes > MAX_NODES) fail('', `is too large (more than ${MAX_NODES} conditions)`);
      const at = `${where}.${key}`;
      if (key === 'and' || key === 'or') {
        if (!Array.isArray(value) || value.length === 0) fail(at, 'must be a non-empty list of filters');
        const children = (value as unknown[]).map((child, i) => compileObject(child, `${at}[${i}]`));
        parts.push(key === 'and' ? (e) => children.every((c) => c(e)) : (e) => children.some((c) => c(e)));
        continue;
      }
      if (!PATH.test(key)) fail(at, 'keys are "subject", "topic", "data.<path>", "and" or "or"');
      parts.push(compileCondition(key, value, at));
    }
    return (event) => parts.every((p) => p(event));
  }

  function compileCondition(path: string, condition: unknown, where: string): EventPredicate {
    if (!isObject(condition)) return (event) => equal(read(event, path), condition);
    const checks: ((value: unknown) => boolean)[] = [];
    for (const [op, operand] of Object.entries(condition)) {
      if (!OPERATORS.has(op)) fail(`${where}.${op}`, `unknown operator; use ${[...OPERATORS].join(', ')}`);
      switch (op) {
        case 'eq':
          checks.push((v) => equal(v, operand));
          break;
        case 'ne':
          checks.push((v) => !equal(v, operand));
          break;
        case 'in':
          if (!Array.isArray(operand)) fail(`${where}.in`, 'must be a list');
          checks.push((v) => (operand as unknown[]).some((o) => equal(v, o)));
          break;
        case 'exists':
          if (typeof operand !== 'boolean') fail(`${where}.exists`, 'must be true or false');
          checks.push((v) => (v !== undefined && v !== null) === operand);
          break;
        default: {
          if (typeof operand !== 'number' && typeof operand !== 'string') fail(`${where}.${op}`, 'must be a number or a string');
          const compare = { gt: (a: number | string, b: number | string) => a > b, gte: (a: number | string, b: number | string) => a >= b, lt: (a: number | string, b: number | string) => a < b, lte: (a: number | string, b: number | string) => a <= b }[op as 'gt' | 'gte' | 'lt' | 'lte'];
          checks.push((v) => ordered(v, operand) && compare(v, operand as number | string));
        }
      }
    }
    return (event) => {
      const value = read(event, path);
      return checks.every((check) => check(value));
    };
  }

  return compileObject(filter, '');
}
