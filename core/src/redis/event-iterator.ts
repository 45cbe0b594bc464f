import { RealtimeError } from '../errors.js';
import type { EventEnvelope } from '../protocol.js';

/** A consumer that takes items as they arrive instead of pulling them: see {@link ATTACH_SINK}. */
export interface ItemSink<T> {
  /** Called synchronously with each item, in order. Must not throw. */
  next(item: T): void;
  /** Called once when the source ends (no more items will come). */
  end(): void;
}

/**
 * The method by which an iterator of ours hands its later items straight to a sink, synchronously as they
 * arrive, instead of queueing each one for `next()`: the WebSocket transport's fan-out uses it to write an
 * event to every socket without a promise per subscriber (server/src/ws). Returns false, changing nothing, while
 * the iterator still holds items that must be pulled first (a buffer, a replay, a gap); after it returns true,
 * `next()` is not called again, and `return()` still ends the iterator (and the sink with it).
 */
export const ATTACH_SINK: unique symbol = Symbol('realtime.attachSink');

export type SinkAttachable<T> = AsyncIterableIterator<T> & { [ATTACH_SINK]?: (sink: ItemSink<T>) => boolean };

export interface EventIteratorOptions<T = Readonly<EventEnvelope>> {
  /**
   * Starts delivery: called once with the push function; resolves to the function that stops it.
   * The iterator calls the stop function exactly once, when it ends for any reason.
   */
  start: (push: (item: T) => void) => Promise<() => void>;
  /** Events kept for a consumer that is not reading; past it the iterator fails with SLOW_CONSUMER. @default 1000 */
  bufferSize?: number;
  /** Drops events before they are buffered (and so before any serialization). */
  filter?: (item: T) => boolean;
  /** Called once when the buffer overflows (the transport may close the whole connection). */
  onOverflow?: () => void;
}

/**
 * A pull-based view of a push source with a bounded buffer: what a GraphQL subscription resolver returns.
 * Memory per subscriber is bounded by `bufferSize`; a consumer that falls further behind gets a
 * SLOW_CONSUMER error (and may resubscribe) instead of growing the server's memory.
 */
export async function createEventIterator<T = Readonly<EventEnvelope>>(options: EventIteratorOptions<T>): Promise<SinkAttachable<T>> {
  const { start, bufferSize = 1000, filter, onOverflow } = options;
  const buffer: T[] = [];
  let waiting: ((result: IteratorResult<T>) => void) | undefined;
  let failure: RealtimeError | undefined;
  let done = false;
  let stop: (() => void) | undefined;
  let sink: ItemSink<T> | undefined;

  const stopOnce = (): void => {
    const stopping = stop;
    stop = undefined;
    stopping?.();
  };

  const finish = (): void => {
    if (done) return;
    done = true;
    buffer.length = 0;
    stopOnce();
    const resolve = waiting;
    waiting = undefined;
    resolve?.({ value: undefined, done: true });
    const attached = sink;
    sink = undefined;
    attached?.end();
  };

  const push = (event: T): void => {
    if (done || failure) return;
    if (filter && !filter(event)) return;
    if (sink) {
      sink.next(event);
      return;
    }
    if (waiting) {
      const resolve = waiting;
      waiting = undefined;
      resolve({ value: event, done: false });
      return;
    }
    if (buffer.length >= bufferSize) {
      failure = new RealtimeError(
        'SLOW_CONSUMER',
        `the subscriber fell more than ${bufferSize} events behind and was stopped; resubscribe`,
      );
      buffer.length = 0;
      stopOnce();
      onOverflow?.();
      return;
    }
    buffer.push(event);
  };

  stop = await start(push);

  const iterator: SinkAttachable<T> = {
    [ATTACH_SINK](attaching) {
      if (done || failure || sink || waiting || buffer.length > 0) return false;
      sink = attaching;
      return true;
    },
    next() {
      if (buffer.length > 0) return Promise.resolve({ value: buffer.shift() as T, done: false });
      if (failure && !done) {
        // Reported once; after that the iterator is simply done.
        const error = failure;
        finish();
        return Promise.reject(error);
      }
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => {
        waiting = resolve;
      });
    },
    return() {
      finish();
      return Promise.resolve({ value: undefined, done: true });
    },
    throw(error?: unknown) {
      finish();
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
