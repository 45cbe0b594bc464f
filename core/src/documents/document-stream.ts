import type { RealtimeError } from '../errors.js';
import { createEventIterator } from '../redis/event-iterator.js';
import type { Subscriber } from '../redis/subscriber.js';
import type { DocumentChange } from './document-types.js';

/** What a subscriber needs to (re)synchronize: the document as Redis holds it and the recent changes. */
export interface DocumentSyncPoint {
  /** The current version as a SNAPSHOT change (version 0 and exists false: never written). */
  snapshot: DocumentChange;
  /** The change messages of the latest versions, oldest first, contiguous, ending at `snapshot.version`. */
  window: readonly string[];
}

export interface DocumentStreamOptions {
  subscriber: Subscriber;
  /** The document's Pub/Sub channel. */
  channel: string;
  /** Reads the sync point atomically (loading the document from PostgreSQL when Redis lacks it). */
  read: () => Promise<DocumentSyncPoint>;
  /** The version the client already has: it receives only what came after (patches when the window covers them). */
  sinceVersion?: number | null | undefined;
  /** Changes buffered for a consumer that is not reading; past it SLOW_CONSUMER. @default 1000 */
  bufferSize?: number;
  onOverflow?: (() => void) | undefined;
}

let lastText: string | undefined;
let lastChange: DocumentChange | undefined;

/**
 * Decodes a change message once per process: the subscriber hands the same text to every listener of a
 * channel in one synchronous loop, so a one-entry cache makes every subscriber get the same frozen object
 * (which lets the WebSocket server execute each change once for all of them).
 */
export function decodeChange(text: string): DocumentChange | undefined {
  if (text === lastText) return lastChange;
  try {
    const change = Object.freeze(JSON.parse(text) as DocumentChange);
    lastText = text;
    lastChange = change;
    return change;
  } catch {
    return undefined;
  }
}

/**
 * The changes to send a client to bring it from `last` (-1: nothing) to the sync point: nothing when it is
 * current; the window's changes after `last` when they follow it without a gap and are at most
 * `maxChanges`; else one SNAPSHOT.
 */
function catchUp(last: number, point: DocumentSyncPoint, maxChanges: number): DocumentChange[] {
  const { snapshot } = point;
  if (last < 0 || snapshot.version < last) return [snapshot];
  if (snapshot.version === last) return [];
  const changes: DocumentChange[] = [];
  for (const text of point.window) {
    const change = decodeChange(text);
    if (change && change.version > last) changes.push(change);
  }
  const first = changes[0];
  const final = changes[changes.length - 1];
  if (first?.version === last + 1 && final?.version === snapshot.version && changes.length <= maxChanges) return changes;
  return [snapshot];
}

type Item = DocumentChange | { failure: unknown };

/**
 * One document's changes for one subscriber, in version order with no gap and no duplicate:
 *
 * 1. The channel is subscribed (and confirmed by Redis) before the document is read, so a change made
 *    during the read is either in what was read or arrives live; live changes at or below the version
 *    already sent are dropped.
 * 2. First the client gets the SNAPSHOT (no `sinceVersion`), or the patches after `sinceVersion` when the
 *    window still holds them all, or a SNAPSHOT when it does not.
 * 3. Then every change as it happens. A live PATCH that does not follow the last version sent (a message
 *    lost while Redis Pub/Sub reconnected, or a writer that died before publishing) triggers a new read,
 *    which sends the missing patches from the window or a SNAPSHOT.
 */
export async function openDocumentStream(options: DocumentStreamOptions): Promise<AsyncIterableIterator<DocumentChange>> {
  const { subscriber, channel, read, sinceVersion, bufferSize = 1000, onOverflow } = options;
  let last = sinceVersion ?? -1;
  let syncing = true;
  let pending: DocumentChange[] = [];
  let overflowed = false;
  let stopped = false;
  let push: (item: Item) => void = () => undefined;

  const apply = (point: DocumentSyncPoint): void => {
    // Half the buffer at most, so a catch-up never overflows it (the window may be configured larger).
    for (const change of catchUp(last, point, Math.max(1, Math.floor(bufferSize / 2)))) push(change);
    last = point.snapshot.version;
  };
  const deliver = (change: DocumentChange): void => {
    if (change.version <= last) return;
    if (change.version === last + 1 || change.op !== 'PATCH') {
      last = change.version;
      push(change);
      return;
    }
    resync();
  };
  const drain = (): void => {
    if (overflowed) {
      // More arrived during the read than a buffer holds: read again rather than keep them all.
      overflowed = false;
      pending = [];
      resync();
      return;
    }
    const waiting = pending;
    pending = [];
    syncing = false;
    waiting.forEach(deliver);
  };
  function resync(): void {
    syncing = true;
    read().then(
      (point) => {
        if (stopped) return;
        apply(point);
        drain();
      },
      (failure: unknown) => push({ failure }),
    );
  }
  const onMessage = (text: string): void => {
    const change = decodeChange(text);
    if (!change) return;
    if (!syncing) return deliver(change);
    if (pending.length >= bufferSize) overflowed = true;
    else pending.push(change);
  };

  const inner = await createEventIterator<Item>({
    bufferSize,
    ...(onOverflow ? { onOverflow } : {}),
    start: async (pushItem) => {
      push = pushItem;
      const stop = await subscriber.raw(channel, onMessage);
      try {
        apply(await read());
      } catch (error) {
        stop();
        throw error;
      }
      drain();
      return () => {
        stopped = true;
        stop();
      };
    },
  });

  const iterator: AsyncIterableIterator<DocumentChange> = {
    async next() {
      const result = await inner.next();
      if (result.done) return result;
      if ('failure' in result.value) {
        await inner.return?.();
        throw result.value.failure as RealtimeError;
      }
      return { value: result.value, done: false };
    },
    async return() {
      await inner.return?.();
      return { value: undefined, done: true };
    },
    async throw(error?: unknown) {
      await inner.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
