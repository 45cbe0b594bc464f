/**
 * How a subscription picks up where it left off, decided once from its document: which variable carries the
 * position (`$after` for topic fields and `events`, `$sinceVersion` for `document`), and where each result
 * holds the next one (the root field's `cursor` or `version`). Also which lost connections are worth another
 * try, and how long to wait before it. Pure functions: no sockets here.
 */
import { Kind, type DocumentNode, type FieldNode, type OperationDefinitionNode } from 'graphql';
import { RealtimeClientError } from './errors.js';

export interface ResumePlan {
  /** The operation's variable that carries the position. */
  variable: 'after' | 'sinceVersion';
  /** The root field's field that holds the position of each result. */
  field: 'cursor' | 'version';
  /** The root field's key in `data` (its alias, else its name). */
  rootKey: string;
}

const POSITIONS = [
  { variable: 'after', field: 'cursor' },
  { variable: 'sinceVersion', field: 'version' },
] as const;

function operationOf(document: DocumentNode, operationName: string | undefined): OperationDefinitionNode {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName === undefined ? operations[0] : operations.find((o) => o.name?.value === operationName);
  if (!operation || (operationName === undefined && operations.length > 1)) {
    throw new RealtimeClientError(
      'BAD_USER_INPUT',
      operationName === undefined ? 'the document must hold exactly one operation (or name one with operationName)' : `the document has no operation named "${operationName}"`,
    );
  }
  return operation;
}

/**
 * The resume plan of a subscription document, or undefined when it declares neither `$after` nor
 * `$sinceVersion`. Throws when it declares one but does not select the field the position is read from:
 * such a subscription would reconnect without its position and silently skip what it missed.
 */
export function planResume(document: DocumentNode, operationName?: string): ResumePlan | undefined {
  const operation = operationOf(document, operationName);
  if (operation.operation !== 'subscription') {
    throw new RealtimeClientError('BAD_USER_INPUT', `subscribe takes a subscription; this document is a ${operation.operation}`);
  }
  const declared = new Set(operation.variableDefinitions?.map((v) => v.variable.name.value) ?? []);
  const position = POSITIONS.find((p) => declared.has(p.variable));
  if (!position) return undefined;
  const root = operation.selectionSet.selections.filter((s): s is FieldNode => s.kind === Kind.FIELD);
  if (root.length !== 1 || operation.selectionSet.selections.length !== 1) {
    throw new RealtimeClientError('BAD_USER_INPUT', 'a subscription that resumes must select exactly one root field');
  }
  const field = root[0] as FieldNode;
  const selections = field.selectionSet?.selections ?? [];
  // Fragments may select it too; only a plain selection without any fragment is known not to.
  const selected = selections.some((s) => s.kind !== Kind.FIELD || (s.name.value === position.field && s.alias === undefined));
  if (!selected) {
    throw new RealtimeClientError(
      'BAD_USER_INPUT',
      `the subscription declares $${position.variable} but does not select \`${position.field}\` on ${field.name.value}: select it (unaliased), so a lost connection resumes after the last result`,
    );
  }
  return { ...position, rootKey: field.alias?.value ?? field.name.value };
}

/** The position a result carries (undefined when it carries none, e.g. a result with errors only). */
export function positionOf(plan: ResumePlan, data: unknown): string | number | undefined {
  if (data === null || typeof data !== 'object') return undefined;
  const root = (data as Record<string, unknown>)[plan.rootKey];
  if (root === null || typeof root !== 'object') return undefined;
  const value = (root as Record<string, unknown>)[plan.field];
  return typeof value === 'string' || typeof value === 'number' ? value : undefined;
}

/**
 * Close codes after which trying again cannot help: the request or the credentials are wrong (4400, 4401,
 * 4403, 4406, 4409, 4429) or a message was refused as too large (1009). Every other close (1001 server
 * shutting down, 1006 connection lost, 4008 slow consumer, 4408, 4500, …) is followed by a reconnect and a resume.
 */
const FATAL_CLOSE_CODES = new Set([1002, 1003, 1007, 1008, 1009, 4400, 4401, 4403, 4406, 4409, 4429]);

export const isFatalClose = (code: number): boolean => FATAL_CLOSE_CODES.has(code);

export interface BackoffOptions {
  /** @default 500 */
  minDelayMs?: number;
  /** @default 30000 */
  maxDelayMs?: number;
}

/**
 * The wait before reconnect attempt `attempt` (0 for the first): exponential from minDelayMs, capped at
 * maxDelayMs, with half of it random, so clients cut off together do not all come back in the same instant.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const min = options.minDelayMs ?? 500;
  const max = Math.max(min, options.maxDelayMs ?? 30_000);
  const cap = Math.min(max, min * 2 ** Math.min(attempt, 30));
  return Math.round(cap / 2 + random() * (cap / 2));
}
