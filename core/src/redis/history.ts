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

/**
 * Reads the three in one script, atomically, as MULTI/EXEC did before: an ioredis MULTI builds a pipeline
 * object per call, which cost about 80 µs of CPU and most of a resume's garbage in a reconnect storm.
 * Returns { epoch or nil, offset or nil, first entry id or nil, the first entry's `o` field or nil }.
 */
const HISTORY_STATE_SCRIPT = `
local first = redis.call('XRANGE', KEYS[3], '-', '+', 'COUNT', 1)[1]
local firstId, firstOffset = false, false
if first then
  firstId = first[1]
  for i = 1, #first[2], 2 do
    if first[2][i] == 'o' then firstOffset = first[2][i + 1] end
  end
end
return { redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2]), firstId, firstOffset }
`;

type HistoryStateCommand = (epochKey: string, offsetKey: string, historyKey: string) => Promise<[string | null, string | null, string | null, string | null]>;

export async function readHistoryState(redis: Redis, keys: TopicKeys): Promise<HistoryState> {
  if (!('realtimeHistoryState' in redis)) redis.defineCommand('realtimeHistoryState', { numberOfKeys: 3, lua: HISTORY_STATE_SCRIPT });
  const [epoch, offset, firstId, firstOffset] = await (redis as unknown as { realtimeHistoryState: HistoryStateCommand }).realtimeHistoryState(
    keys.epoch,
    keys.offset,
    keys.history,
  );
  return {
    epoch: epoch ?? null,
    lastOffset: Number(offset ?? 0),
    first: firstId ? { position: firstId, offset: Number(firstOffset ?? 0) } : null,
  };
}

/** One read of history: the events kept, and where the read itself began and ended (for resuming the next read). */
export interface HistoryBatch {
  /**
   * The entries' events, in history order; with `subject`, only those that can be of that subject. Frozen and
   * shared: every reader of one entry through one connection gets the same object (see decodedEntries).
   */
  events: Readonly<EventEnvelope>[];
  /** Entries read (before any subject was looked for): fewer than asked for means the end was reached. */
  count: number;
  /** The first entry read. */
  first: { position: string; offset: number } | null;
  /** Position of the last entry read. */
  last: string | null;
}

/**
 * Decoded history entries, per Redis connection, shared by every reader: in a reconnect storm thousands of
 * clients replay the same few entries, and an event object that is the same for all of them is decoded once
 * and, further on, executed and serialized once per distinct subscription (shared execution keys results
 * by the event object). An entry never changes, and its key names the history's epoch, so a history that
 * was lost and started again never meets the old one's entries. Bounded by the size of the entries' JSON,
 * the oldest out first; the bound is small because a kept event also keeps its shared results (and their
 * serialized frames) alive, one per distinct subscription that replayed it.
 */
const decodedEntries = new WeakMap<Redis, { entries: Map<string, { event: Readonly<EventEnvelope>; bytes: number }>; bytes: number }>();
/** JSON text of the entries kept decoded, per connection (their objects take about two to three times that). */
const DECODED_ENTRIES_MAX_BYTES = 2 * 1024 * 1024;

function decodedEntry(redis: Redis, historyKey: string, epoch: string, position: string, fields: string[], json: string): Readonly<EventEnvelope> {
  let cache = decodedEntries.get(redis);
  if (!cache) decodedEntries.set(redis, (cache = { entries: new Map(), bytes: 0 }));
  const key = `${historyKey}\n${epoch}\n${position}`;
  const known = cache.entries.get(key);
  if (known) return known.event;
  const envelope = JSON.parse(json) as EventEnvelope;
  envelope.cursor = formatCursor({ epoch, offset: Number(entryField(fields, 'o') ?? 0), position });
  const event = Object.freeze(envelope);
  if (json.length <= DECODED_ENTRIES_MAX_BYTES / 4) {
    cache.entries.set(key, { event, bytes: json.length });
    cache.bytes += json.length;
    for (const [oldest, entry] of cache.entries) {
      if (cache.bytes <= DECODED_ENTRIES_MAX_BYTES) break;
      cache.entries.delete(oldest);
      cache.bytes -= entry.bytes;
    }
  }
  return event;
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
  const events: Readonly<EventEnvelope>[] = [];
  for (const [position, fields] of entries) {
    const json = entryField(fields, 'e') ?? 'null';
    if (needle !== undefined && !json.includes(needle)) continue;
    events.push(decodedEntry(redis, keys.history, epoch, position, fields, json));
  }
  const first = entries[0];
  return {
    events,
    count: entries.length,
    first: first ? { position: first[0], offset: Number(entryField(first[1], 'o') ?? 0) } : null,
    last: entries.length > 0 ? (entries[entries.length - 1] as [string, string[]])[0] : null,
  };
}
