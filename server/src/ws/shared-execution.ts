import {
  type GraphQLError,
  createSourceEventStream,
  execute,
  getOperationAST,
  print,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLSchema,
} from 'graphql';
import type { Logger } from '../logger.js';
import { maskError } from '../plugins/use-error-codes.js';

const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  typeof value === 'object' && value !== null && Symbol.asyncIterator in value;

/**
 * Subscription fan-out with one execution per distinct operation: the events a subscription yields are
 * objects shared by every subscriber of the process (decoded once, frozen), and the fields they resolve
 * read only the event, never the subscriber's context. So for one event, one schema and one
 * (document, variables, operation) the result is the same for every subscriber: it is executed once and
 * the same result object is handed to each. Items that are per subscriber (history gaps, presence,
 * broadcasts) are distinct objects and simply are not shared.
 *
 * Authorization, filters and resumption all happen in the field's `subscribe` (per subscriber, with its
 * context), which this still calls through `createSourceEventStream`.
 */
export function createSharedExecutor(logger: Logger): (args: ExecutionArgs) => Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  /** event → (schema → (operation key → result)) */
  const results = new WeakMap<object, WeakMap<GraphQLSchema, Map<string, ExecutionResult | Promise<ExecutionResult>>>>();
  const keys = new WeakMap<object, string>();

  const mask = (result: ExecutionResult): ExecutionResult =>
    result.errors?.length
      ? { ...result, errors: result.errors.map((e) => maskError(e, 'Unexpected error.', logger) as GraphQLError) }
      : result;

  return async (args) => {
    const operation = getOperationAST(args.document, args.operationName);
    if (operation?.operation !== 'subscription') throw new Error('shared execution serves subscriptions only');
    let key = keys.get(args.document);
    if (key === undefined) keys.set(args.document, (key = print(args.document)));
    const operationKey = `${key}\n${args.operationName ?? ''}\n${JSON.stringify(args.variableValues ?? {})}`;

    const source = await createSourceEventStream(args);
    if (!isAsyncIterable(source)) return mask(source as ExecutionResult);
    const events = source[Symbol.asyncIterator]() as AsyncIterator<unknown>;

    const resultFor = (event: unknown): ExecutionResult | Promise<ExecutionResult> => {
      if (typeof event !== 'object' || event === null) return mask(execute({ ...args, rootValue: event }) as ExecutionResult);
      let bySchema = results.get(event);
      if (!bySchema) results.set(event, (bySchema = new WeakMap()));
      let byOperation = bySchema.get(args.schema);
      if (!byOperation) bySchema.set(args.schema, (byOperation = new Map()));
      let result = byOperation.get(operationKey);
      if (!result) {
        result = Promise.resolve(execute({ ...args, rootValue: event })).then(mask);
        byOperation.set(operationKey, result);
      }
      return result;
    };

    const iterator: AsyncIterableIterator<ExecutionResult> = {
      async next() {
        const next = await events.next();
        if (next.done) return { value: undefined, done: true };
        return { value: await resultFor(next.value), done: false };
      },
      async return() {
        await events.return?.();
        return { value: undefined, done: true };
      },
      async throw(error?: unknown) {
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
