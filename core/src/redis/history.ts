import type { Redis } from 'ioredis';
import { formatCursor, type EventEnvelope } from '../protocol.js';
import type { TopicKeys } from './keys.js';

/** What a topic's history knows about itself, read in one round trip. */
export interface HistoryState {
  /** The current epoch; null when nothing was published since the history was created or lost. */
  epoch: string | null;
  /** Offset of the newest event published in this epoch (0 when none). */
  lastOffset: number;
  /** Oldest kept entry, or null when nothing is kept. */
  first: { position: string; offset: number } | null;
}

/** Stream entry fields are `o` (offset) and `e` (envelope JSON), as the publish script writes them. */
function entryField(fields: string[], name: string): string | undefined {
  const index = fields.indexOf(name);
  return index >= 0 && index % 2 === 0 ? fields[index + 1] : undefined;
}

export async function readHistoryState(redis: Redis, keys: TopicKeys): Promise<HistoryState> {
  const results = (await redis.multi().get(keys.epoch).get(keys.offset).xrange(keys.history, '-', '+', 'COUNT', 1).exec()) ?? [];
  const [[epochError, epoch], [offsetError, offset], [rangeError, range]] = results as [
    [Error | null, string | null],
    [Error | null, string | null],
    [Error | null, [string, string[]][]],
  ];
  const failure = epochError ?? offsetError ?? rangeError;
  if (failure) throw failure;
  const entry = range[0];
  return {
    epoch: epoch ?? null,
    lastOffset: Number(offset ?? 0),
    first: entry ? { position: entry[0], offset: Number(entryField(entry[1], 'o') ?? 0) } : null,
  };
}

/**
 * Reads up to `count` events after `afterPosition` (exclusive; `null` = from the oldest kept), in history
 * order, each with its cursor.
 */
export async function readHistory(
  redis: Redis,
  keys: TopicKeys,
  epoch: string,
  afterPosition: string | null,
  count: number,
): Promise<EventEnvelope[]> {
  const start = afterPosition === null ? '-' : `(${afterPosition}`;
  const entries = await redis.xrange(keys.history, start, '+', 'COUNT', count);
  return entries.map(([position, fields]) => {
    const envelope = JSON.parse(entryField(fields, 'e') ?? 'null') as EventEnvelope;
    envelope.cursor = formatCursor({ epoch, offset: Number(entryField(fields, 'o') ?? 0), position });
    return envelope;
  });
}
