import type { Redis } from 'ioredis';
import { RealtimeError, badInput } from '../errors.js';
import { formatCursor, parseCursor, type Cursor, type EventEnvelope } from '../protocol.js';
import { ATTACH_SINK, createEventIterator, type SinkAttachable } from '../redis/event-iterator.js';
import { readHistoryBatch, readHistoryState } from '../redis/history.js';
import type { TopicKeys } from '../redis/keys.js';
import { comparePositions, positionOf } from '../redis/positions.js';
import type { Subscriber } from '../redis/subscriber.js';

/** Delivered first when a resume cannot be exact: the events between the cursor and `oldestCursor` are gone. */
export interface HistoryGap {
  kind: 'history-gap';
  topic: string;
  requestedCursor: string;
  /** The oldest event still kept (delivery continues from it), or null when nothing is kept. */
  oldestCursor: string | null;
  /** TRIMMED: older than the retention kept; LOST: the history itself was lost (Redis restart or flush). */
  reason: 'TRIMMED' | 'LOST';
}

export type StreamItem = Readonly<EventEnvelope> | HistoryGap;

export const isHistoryGap = (item: StreamItem): item is HistoryGap => (item as HistoryGap).kind === 'history-gap';

/** The HISTORY_GAP error a subscriber receives for a gap, saying what is known. */
export function historyGapError(gap: HistoryGap): RealtimeError {
  const what = gap.reason === 'LOST' ? 'the history of this topic was lost (Redis restart or flush)' : 'it is older than the history kept';
  return new RealtimeError(
    'HISTORY_GAP',
    `cannot resume "${gap.topic}" exactly after ${gap.requestedCursor}: ${what}; events may be missing before ${
      gap.oldestCursor ?? 'the next live event'
    }, and delivery continues from there`,
    { topic: gap.topic, requestedCursor: gap.requestedCursor, oldestCursor: gap.oldestCursor, reason: gap.reason },
  );
}

export interface TopicStreamOptions {
  redis: Redis;
  subscriber: Subscriber;
  keys: TopicKeys;
  topic: string;
  /** Resume after this cursor: replay what was missed from history, then continue live. */
  after?: string | null | undefined;
  /** Live events buffered for a consumer that is not reading. @default 1000 */
  bufferSize?: number;
  /** Drops events (history and live) before they are delivered or serialized. */
  filter?: ((event: Readonly<EventEnvelope>) => boolean) | undefined;
  /**
   * Only events of this subject can pass `filter`: live events are then routed by subject (Subscriber.listen)
   * and history entries of other subjects are skipped before they are decoded. A hint; `filter` must still
   * check the subject.
   */
  subject?: string | undefined;
  /** History entries read per round trip while replaying. @default 500 */
  replayBatchSize?: number;
  /** Called when the subscriber falls a whole buffer behind (see createEventIterator). */
  onOverflow?: (() => void) | undefined;
}

/**
 * One topic's events for one subscriber: live, or — with `after` — replayed from history and then live,
 * with no gap and no duplicate at the seam. The live subscription is confirmed before history is read, so
 * an event published during the replay is either in the history read or in the live buffer; live events
 * at or before the last replayed position are dropped. Pulls history lazily (one batch per empty buffer),
 * so a long replay never holds more than a batch in memory.
 */
export async function openTopicStream(options: TopicStreamOptions): Promise<SinkAttachable<StreamItem>> {
  const { redis, subscriber, keys, topic, after, bufferSize = 1000, filter, subject, replayBatchSize = 500, onOverflow } = options;
  let requested: Cursor | undefined;
  if (after != null) {
    requested = parseCursor(after);
    if (!requested) throw badInput(`after: "${after}" is not a cursor; use the cursor of an event you received`, { field: 'after' });
  }
  const live = await createEventIterator({
    start: (push) => subscriber.listen(keys.channel, push, subject),
    bufferSize,
    ...(filter ? { filter } : {}),
    ...(onOverflow ? { onOverflow } : {}),
  });
  if (!requested) return live;

  let epoch: string | null;
  let replayAfter: string | null;
  let gap: HistoryGap | undefined;
  try {
    const state = await readHistoryState(redis, keys);
    epoch = state.epoch;
    const oldestCursor = state.epoch && state.first ? formatCursor({ epoch: state.epoch, ...state.first }) : null;
    const gapOf = (reason: HistoryGap['reason']): HistoryGap => ({ kind: 'history-gap', topic, requestedCursor: after as string, oldestCursor, reason });
    if (state.epoch !== requested.epoch) {
      gap = gapOf('LOST');
      replayAfter = null;
    } else if ((state.first ? state.first.offset : state.lastOffset + 1) > requested.offset + 1) {
      // Offsets have no holes: the oldest kept event is not the one right after the cursor, so some are gone.
      gap = gapOf('TRIMMED');
      replayAfter = null;
    } else {
      replayAfter = requested.position;
    }
  } catch (error) {
    await live.return?.();
    throw error;
  }

  let replaying = epoch !== null;
  /** The last replayed position: live events at or before it were already delivered from history. */
  let seam: string | null = replayAfter;
  let batch: Readonly<EventEnvelope>[] = [];
  let exhausted = false;
  let closed = false;
  /** Set while the first replayed entry has yet to be checked against the cursor's offset. */
  let expectOffset: number | undefined = gap === undefined && replayAfter !== null ? requested.offset + 1 : undefined;

  /** A live event the replay already delivered (same history, not newer than the seam); past the seam, none is. */
  const replayed = (event: Readonly<EventEnvelope>): boolean => {
    if (seam === null) return false;
    if (event.cursor.startsWith(`${epoch}_`) && comparePositions(positionOf(event.cursor), seam) <= 0) return true;
    seam = null;
    return false;
  };

  const iterator: SinkAttachable<StreamItem> = {
    [ATTACH_SINK](sink) {
      // Only once the replay is over: the gap, the history batches and their seam check come first, pulled.
      if (closed || gap || batch.length > 0 || (replaying && !exhausted)) return false;
      const attached = live[ATTACH_SINK]?.({
        next: (event) => {
          if (!replayed(event)) sink.next(event);
        },
        end: () => sink.end(),
      }) ?? false;
      if (attached) replaying = false;
      return attached;
    },
    async next() {
      if (closed) return { value: undefined, done: true };
      if (gap) {
        const value = gap;
        gap = undefined;
        return { value, done: false };
      }
      while (replaying) {
        const next = batch.shift();
        if (next) return { value: next, done: false };
        if (exhausted) {
          replaying = false;
          break;
        }
        // Entries of other subjects are skipped undecoded when the filter requires one subject.
        const read = await readHistoryBatch(redis, keys, epoch as string, seam, replayBatchSize, subject);
        if (closed) return { value: undefined, done: true };
        if (read.last !== null) seam = read.last;
        if (read.count < replayBatchSize) exhausted = true;
        batch = filter ? read.events.filter(filter) : read.events;
        if (expectOffset !== undefined) {
          // Trimming can run between the state check and this read: the first entry must be the very next offset.
          expectOffset = undefined;
          if (read.first && read.first.offset > (requested as Cursor).offset + 1) {
            const oldestCursor = formatCursor({ epoch: epoch as string, ...read.first });
            return { value: { kind: 'history-gap', topic, requestedCursor: after as string, oldestCursor, reason: 'TRIMMED' }, done: false };
          }
        }
      }
      for (;;) {
        const result = await live.next();
        if (result.done) return result;
        if (replayed(result.value)) continue;
        return { value: result.value, done: false };
      }
    },
    async return() {
      closed = true;
      batch = [];
      await live.return?.();
      return { value: undefined, done: true };
    },
    async throw(error?: unknown) {
      await iterator.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
