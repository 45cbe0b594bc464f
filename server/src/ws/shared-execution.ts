import {
  type ASTNode,
  type DocumentNode,
  type GraphQLError,
  type OperationDefinitionNode,
  Kind,
  createSourceEventStream,
  execute,
  getOperationAST,
  print,
  visit,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLSchema,
} from 'graphql';
import { ATTACH_SINK, type SinkAttachable } from '@realtime/core';
import type { Logger } from '../logger.js';
import { maskError } from '../plugins/use-error-codes.js';

const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  typeof value === 'object' && value !== null && Symbol.asyncIterator in value;

const isPromise = <T>(value: T | Promise<T>): value is Promise<T> => typeof (value as Promise<T>)?.then === 'function';

/**
 * Where a subscription's results go when they need not pass through graphql-ws's iteration: called
 * synchronously, in order, once per result (see `direct` below). Must not throw.
 */
export type DirectDelivery = (result: ExecutionResult) => void;

/** The names of the variables used anywhere in `node`. */
function variablesIn(node: ASTNode, into: Set<string>): void {
  visit(node, {
    Variable(variable) {
      into.add(variable.name.value);
    },
  });
}

/**
 * The variables that can change what executing `operation` over an event gives: all but those used only in the
 * arguments of its root fields. A root subscription field's arguments (`where`, `after`, a topic list) shape its
 * source stream, which is per subscriber anyway; its resolver only passes the item on, so subscribers that differ
 * in those arguments alone (every client resuming from its own cursor) still share one execution per event.
 * Variables in the fields' directives, in their selections and in fragments count, conservatively.
 */
function resultVariables(document: DocumentNode, operation: OperationDefinitionNode): Set<string> {
  const used = new Set<string>();
  for (const directive of operation.directives ?? []) variablesIn(directive, used);
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD) {
      variablesIn(selection, used);
      continue;
    }
    for (const directive of selection.directives ?? []) variablesIn(directive, used);
    if (selection.selectionSet) variablesIn(selection.selectionSet, used);
  }
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) variablesIn(definition, used);
  return used;
}

/**
 * The document with the arguments of each operation's root fields removed: like the variables above, written
 * inline (`where: { data: { amount: { gt: 100 } } }`) they shape only the subscriber's own stream, so two
 * subscriptions that differ in them alone share results.
 */
function withoutRootArguments(document: DocumentNode): DocumentNode {
  return {
    ...document,
    definitions: document.definitions.map((definition) =>
      definition.kind !== Kind.OPERATION_DEFINITION
        ? definition
        : {
            ...definition,
            selectionSet: {
              ...definition.selectionSet,
              selections: definition.selectionSet.selections.map((selection) =>
                selection.kind === Kind.FIELD ? { ...selection, arguments: [] } : selection,
              ),
            },
          },
    ),
  };
}

export type SharedSubscribe = (
  args: ExecutionArgs,
  direct?: DirectDelivery,
) => Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult>;

/**
 * Subscription fan-out with one execution per distinct operation: the events a subscription yields are
 * objects shared by every subscriber of the process (decoded once, frozen), and the fields they resolve
 * read only the event, never the subscriber's context or the root field's arguments. So for one event, one
 * schema and one (document, operation, variables outside the root fields' arguments) the result is the same for
 * every subscriber: it is executed once and the same result object is handed to each. Items that are per subscriber (history gaps, presence,
 * broadcasts) are distinct objects and simply are not shared.
 *
 * Authorization, filters and resumption all happen in the field's `subscribe` (per subscriber, with its
 * context), which this still calls through `createSourceEventStream`.
 *
 * With `direct`, once the source stream can hand its items over as they arrive (ATTACH_SINK: live, past any
 * replay), each result goes straight to `direct` from the Redis message that carried the event, with no
 * promise per subscriber; the returned iterator then only settles when the stream ends. Until then (a replay,
 * a history gap, a stream that cannot attach) results are pulled through the iterator as usual, and each pull
 * tries to attach first, so the order of results is kept across the switch.
 */
export function createSharedExecutor(logger: Logger): SharedSubscribe {
  /** event → (schema → (operation key → result)) */
  const results = new WeakMap<object, WeakMap<GraphQLSchema, Map<string, ExecutionResult | Promise<ExecutionResult>>>>();
  const keys = new WeakMap<object, string>();
  /** document → (operation name → the variables its results depend on). */
  const variablesOf = new WeakMap<DocumentNode, Map<string, Set<string>>>();
  /** schema → (operation key → the last event and its result); see `resultFor`. */
  const groups = new WeakMap<GraphQLSchema, Map<string, { event: unknown; result: ExecutionResult | Promise<ExecutionResult> | undefined; members: number }>>();

  const mask = (result: ExecutionResult): ExecutionResult =>
    result.errors?.length
      ? { ...result, errors: result.errors.map((e) => maskError(e, 'Unexpected error.', logger) as GraphQLError) }
      : result;

  return async (args, direct) => {
    const operation = getOperationAST(args.document, args.operationName);
    if (operation?.operation !== 'subscription') throw new Error('shared execution serves subscriptions only');
    let key = keys.get(args.document);
    if (key === undefined) keys.set(args.document, (key = print(withoutRootArguments(args.document))));
    let byName = variablesOf.get(args.document);
    if (!byName) variablesOf.set(args.document, (byName = new Map()));
    let names = byName.get(args.operationName ?? '');
    if (!names) byName.set(args.operationName ?? '', (names = resultVariables(args.document, operation)));
    const values: Record<string, unknown> = {};
    for (const name of names) if (args.variableValues && name in args.variableValues) values[name] = args.variableValues[name];
    const operationKey = `${key}\n${args.operationName ?? ''}\n${JSON.stringify(values)}`;

    const source = await createSourceEventStream(args);
    if (!isAsyncIterable(source)) return mask(source as ExecutionResult);
    const events = source[Symbol.asyncIterator]() as SinkAttachable<unknown>;

    const executeOnce = (event: unknown): ExecutionResult | Promise<ExecutionResult> => {
      const executed = execute({ ...args, rootValue: event });
      return isPromise(executed) ? executed.then(mask) : mask(executed);
    };

    /**
     * The last event this operation's subscribers asked for, shared by all of them: during a direct fan-out every
     * subscriber takes the same event in turn, so one comparison finds its result without the map lookups below.
     */
    let bySchema = groups.get(args.schema);
    if (!bySchema) groups.set(args.schema, (bySchema = new Map()));
    let group = bySchema.get(operationKey);
    if (!group) bySchema.set(operationKey, (group = { event: undefined, result: undefined, members: 0 }));
    group.members += 1;
    const last = group;
    const operationGroups = bySchema;
    let left = false;
    /** Forgets the group with its last member, so distinct variables do not accumulate. */
    const leave = (): void => {
      if (left) return;
      left = true;
      last.members -= 1;
      if (last.members === 0 && operationGroups.get(operationKey) === last) operationGroups.delete(operationKey);
    };

    const resultFor = (event: unknown): ExecutionResult | Promise<ExecutionResult> => {
      if (last.event === event && last.result !== undefined) return last.result;
      const result = lookup(event);
      if (typeof event === 'object' && event !== null) {
        last.event = event;
        last.result = result;
      }
      return result;
    };

    const lookup = (event: unknown): ExecutionResult | Promise<ExecutionResult> => {
      if (typeof event !== 'object' || event === null) return executeOnce(event);
      let bySchema = results.get(event);
      if (!bySchema) results.set(event, (bySchema = new WeakMap()));
      let byOperation = bySchema.get(args.schema);
      if (!byOperation) bySchema.set(args.schema, (byOperation = new Map()));
      let result = byOperation.get(operationKey);
      if (!result) {
        result = executeOnce(event);
        byOperation.set(operationKey, result);
        if (isPromise(result)) {
          // Later subscribers take the settled result synchronously.
          const shared = byOperation;
          result.then((settled) => shared.set(operationKey, settled), () => undefined);
        }
      }
      return result;
    };

    /** Set once the source hands items to us directly; it settles when the source ends. */
    let attached: Promise<IteratorResult<ExecutionResult>> | undefined;

    const attach = (deliver: DirectDelivery): Promise<IteratorResult<ExecutionResult>> | undefined => {
      const attachSink = events[ATTACH_SINK];
      if (!attachSink) return undefined;
      /** Results still executing (an async resolver), delivered in order before any later one. */
      let pending: Promise<unknown> | undefined;
      let end!: (result: IteratorResult<ExecutionResult>) => void;
      let fail!: (error: unknown) => void;
      const ended = new Promise<IteratorResult<ExecutionResult>>((resolve, reject) => {
        end = resolve;
        fail = reject;
      });
      const ok = attachSink.call(events, {
        next: (event) => {
          let result: ExecutionResult | Promise<ExecutionResult>;
          try {
            result = resultFor(event);
          } catch (error) {
            fail(error);
            void events.return?.();
            return;
          }
          if (pending === undefined && !isPromise(result)) {
            deliver(result);
            return;
          }
          const chained: Promise<unknown> = (pending ?? Promise.resolve()).then(() => result).then(deliver, (error: unknown) => {
            fail(error);
            void events.return?.();
          });
          pending = chained;
          void chained.then(() => {
            if (pending === chained) pending = undefined;
          });
        },
        end: () => {
          leave();
          void (pending ?? Promise.resolve()).then(() => end({ value: undefined, done: true }));
        },
      });
      return ok ? ended : undefined;
    };

    const iterator: AsyncIterableIterator<ExecutionResult> = {
      async next() {
        if (attached) return attached;
        if (direct && (attached = attach(direct))) return attached;
        const next = await events.next();
        if (next.done) {
          leave();
          return { value: undefined, done: true };
        }
        return { value: await resultFor(next.value), done: false };
      },
      async return() {
        leave();
        await events.return?.();
        return { value: undefined, done: true };
      },
      async throw(error?: unknown) {
        leave();
        await events.return?.();
        throw error;
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  };
}
