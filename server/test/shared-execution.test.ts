/** Subscription results are executed once per (event, operation) and shared: a pure unit, no I/O. */
import { describe, expect, it } from 'vitest';
import { GraphQLObjectType, GraphQLSchema, GraphQLString, parse, type ExecutionResult } from 'graphql';
import { createEventIterator } from '@realtime/core';
import { createLogger } from '../src/logger.js';
import { createSharedExecutor } from '../src/ws/shared-execution.js';

/** A schema whose one subscription field `ticks` yields `Event`s from `subscribe`, each event resolving to itself. */
function schemaWith(Event: GraphQLObjectType, subscribe: () => unknown): GraphQLSchema {
  return new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      // `after` shapes the source stream only (as a topic field's where/after do): the resolver passes the item on.
      fields: { ticks: { type: Event, args: { after: { type: GraphQLString } }, subscribe: subscribe as never, resolve: (e: object) => e } },
    }),
  });
}

/** A field whose source is our own event iterator (it can hand items to a sink), with an optionally async resolver. */
function attachableFixture() {
  let push: (event: object) => void = () => undefined;
  const Event = new GraphQLObjectType({
    name: 'Event',
    fields: {
      id: { type: GraphQLString, resolve: (e: { id: string }) => e.id },
      // Slow for odd ids: a later event's result is ready before an earlier one's.
      later: {
        type: GraphQLString,
        resolve: async (e: { id: string }) => {
          if (Number(e.id) % 2 === 1) await new Promise((r) => setTimeout(r, 20));
          return e.id;
        },
      },
    },
  });
  const schema = schemaWith(Event, () => createEventIterator<object>({ start: async (p) => ((push = p), () => (push = () => undefined)) }));
  return { schema, emit: (e: object) => push(e) };
}

function fixture() {
  let executions = 0;
  const listeners = new Set<(event: object) => void>();
  const Event = new GraphQLObjectType({
    name: 'Event',
    fields: {
      id: { type: GraphQLString, resolve: (e: { id: string }) => ((executions += 1), e.id) },
      shout: { type: GraphQLString, resolve: (e: { id: string }) => e.id.toUpperCase() },
      tag: { type: GraphQLString, args: { suffix: { type: GraphQLString } }, resolve: (e: { id: string }, { suffix }: { suffix?: string }) => `${e.id}${suffix ?? ''}` },
      broken: { type: GraphQLString, resolve: () => { throw new Error('secret detail'); } },
    },
  });
  const schema = schemaWith(Event, () => {
    const queue: object[] = [];
    let wake: (() => void) | undefined;
    const listener = (e: object): void => {
      queue.push(e);
      wake?.();
    };
    listeners.add(listener);
    const iterator: AsyncIterableIterator<object> = {
      async next() {
        while (queue.length === 0) await new Promise<void>((r) => (wake = r));
        return { value: queue.shift() as object, done: false };
      },
      async return() {
        listeners.delete(listener);
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  });
  return { schema, emit: (e: object) => listeners.forEach((l) => l(e)), executions: () => executions, listeners };
}

describe('shared subscription execution', () => {
  const subscribe = createSharedExecutor(createLogger('silent'));

  it('should execute an operation once per event however many subscribers share it', async () => {
    const { schema, emit, executions, listeners } = fixture();
    const subs = await Promise.all(
      Array.from({ length: 50 }, () => subscribe({ schema, document: parse('subscription { ticks { id } }') }) as Promise<AsyncIterableIterator<ExecutionResult>>),
    );
    const other = (await subscribe({ schema, document: parse('subscription { ticks { shout } }') })) as AsyncIterableIterator<ExecutionResult>;
    const event = Object.freeze({ id: 'e1' });
    emit(event);
    const results = await Promise.all(subs.map((s) => s.next()));
    expect(results.every((r) => r.value === results[0]!.value)).toBe(true);
    expect(results[0]!.value).toEqual({ data: { ticks: { id: 'e1' } } });
    expect(executions()).toBe(1);
    expect((await other.next()).value).toEqual({ data: { ticks: { shout: 'E1' } } });
    // Per-subscriber objects are not shared.
    emit({ id: 'e2' });
    await Promise.all(subs.map((s) => s.next()));
    await other.next();
    expect(executions()).toBe(2);
    await Promise.all([...subs, other].map((s) => s.return?.()));
    expect(listeners.size).toBe(0);
  });

  it('should share one execution between subscribers whose variables differ only in the root field arguments', async () => {
    const { schema, emit, executions } = fixture();
    const document = parse('subscription($after: String, $suffix: String) { ticks(after: $after) { id tag(suffix: $suffix) } }');
    const open = (variableValues: Record<string, string>): Promise<AsyncIterableIterator<ExecutionResult>> =>
      subscribe({ schema, document, variableValues }) as Promise<AsyncIterableIterator<ExecutionResult>>;
    // Each resumes from its own cursor; the third also asks for another suffix, which changes its result.
    const subs = await Promise.all([open({ after: 'c1', suffix: '!' }), open({ after: 'c2', suffix: '!' }), open({ after: 'c3', suffix: '?' })]);
    emit(Object.freeze({ id: 'e1' }));
    const [a, b, c] = (await Promise.all(subs.map((s) => s.next()))).map((r) => r.value);
    expect(a).toBe(b);
    expect(a).toEqual({ data: { ticks: { id: 'e1', tag: 'e1!' } } });
    expect(c).toEqual({ data: { ticks: { id: 'e1', tag: 'e1?' } } });
    expect(executions()).toBe(2);
    // Written inline instead of as variables, root arguments do not split the group either.
    const inline = await Promise.all(
      ['"c4"', '"c5"'].map((after) => subscribe({ schema, document: parse(`subscription { ticks(after: ${after}) { id tag(suffix: "!") } }`) }) as Promise<AsyncIterableIterator<ExecutionResult>>),
    );
    emit(Object.freeze({ id: 'e2' }));
    const [d, e] = (await Promise.all(inline.map((s) => s.next()))).map((r) => r.value);
    expect(d).toBe(e);
    expect(d).toEqual({ data: { ticks: { id: 'e2', tag: 'e2!' } } });
    await Promise.all([...subs, ...inline].map((s) => s.return?.()));
  });

  it('should mask unexpected resolver errors', async () => {
    const { schema, emit } = fixture();
    const sub = (await subscribe({ schema, document: parse('subscription { ticks { broken } }') })) as AsyncIterableIterator<ExecutionResult>;
    emit({ id: 'x' });
    const { value } = await sub.next();
    expect(value?.errors?.[0]?.message).toBe('Unexpected error.');
    expect(value?.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(JSON.stringify(value)).not.toContain('secret detail');
    await sub.return?.();
  });

  it('should deliver straight to the direct callback once the source can attach, pulling what came before', async () => {
    const { schema, emit } = attachableFixture();
    const direct: ExecutionResult[] = [];
    const sub = (await subscribe({ schema, document: parse('subscription { ticks { id } }') }, (r) => direct.push(r))) as AsyncIterableIterator<ExecutionResult>;
    emit({ id: '1' }); // buffered before anyone pulled
    expect((await sub.next()).value).toEqual({ data: { ticks: { id: '1' } } });
    const ended = sub.next(); // attaches: settles only when the stream ends
    emit({ id: '2' });
    emit({ id: '3' });
    expect(direct).toEqual([{ data: { ticks: { id: '2' } } }, { data: { ticks: { id: '3' } } }]); // synchronously
    await sub.return?.();
    expect(await ended).toEqual({ value: undefined, done: true });
    emit({ id: '4' });
    expect(direct).toHaveLength(2);
  });

  it('should keep the order of direct results when some execute asynchronously', async () => {
    const { schema, emit } = attachableFixture();
    const direct: string[] = [];
    const sub = (await subscribe({ schema, document: parse('subscription { ticks { later } }') }, (r) =>
      direct.push((r.data as { ticks: { later: string } }).ticks.later),
    )) as AsyncIterableIterator<ExecutionResult>;
    const ended = sub.next();
    for (let n = 1; n <= 4; n += 1) emit({ id: String(n) });
    await new Promise((r) => setTimeout(r, 100));
    expect(direct).toEqual(['1', '2', '3', '4']);
    await sub.return?.();
    await ended;
  });
});
