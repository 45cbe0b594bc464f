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

/** One read of history: the events kept, and where the read itself began and ended (for resuming the next read). */
export interface HistoryBatch {
  /** The entries' events, in history order; with `subject`, only those that can be of that subject. */
  events: EventEnvelope[];
  /** Entries read (before any subject was looked for): fewer than asked for means the end was reached. */
  count: number;
  /** The first entry read. */
  first: { position: string; offset: number } | null;
  /** Position of the last entry read. */
  last: string | null;
}

/**
 * Reads up to `count` entries after `afterPosition` (exclusive; `null` = from the oldest kept), in history
 * order, each event with its cursor. With `subject`, entries whose envelope does not carry that subject are
 * skipped before they are decoded: a resume of one user's stream over a busy topic reads the whole topic's
 * history since its cursor, and decoding every other user's event was most of that cost. (The envelope is
 * stored as `JSON.stringify` wrote it, so its subject appears exactly as `"subject":<JSON string>`; an event
 * whose data happens to contain that text is decoded, and the subscription's filter still decides.)
 */
export async function readHistoryBatch(
  redis: Redis,
  keys: TopicKeys,
  epoch: string,
  afterPosition: string | null,
  count: number,
  subject?: string,
): Promise<HistoryBatch> {
  const start = afterPosition === null ? '-' : `(${afterPosition}`;
  const entries = await redis.xrange(keys.history, start, '+', 'COUNT', count);
  const needle = subject === undefined ? undefined : `"subject":${JSON.stringify(subject)}`;
  const events: EventEnvelope[] = [];
  for (const [position, fields] of entries) {
    const json = entryField(fields, 'e') ?? 'null';
    if (needle !== undefined && !json.includes(needle)) continue;
    const envelope = JSON.parse(json) as EventEnvelope;
    envelope.cursor = formatCursor({ epoch, offset: Number(entryField(fields, 'o') ?? 0), position });
    events.push(envelope);
  }
  const first = entries[0];
  return {
    events,
    count: entries.length,
    first: first ? { position: first[0], offset: Number(entryField(first[1], 'o') ?? 0) } : null,
    last: entries.length > 0 ? (entries[entries.length - 1] as [string, string[]])[0] : null,
  };
}
