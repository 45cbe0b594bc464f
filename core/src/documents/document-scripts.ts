/**
 * The Lua scripts behind documents in plain Redis (no RedisJSON). Per document, scoped by application
 * and environment (see document-keys.ts):
 *   doc     HASH   v (version), s (state JSON; absent while the document is deleted), u (updatedAt, ISO-8601)
 *   window  LIST   the change messages of the most recent versions, oldest first, contiguous versions
 *   channel        Pub/Sub: one change message per new version
 * PostgreSQL holds the durable copy and is written first (the commit point); these scripts only ever move
 * a document's Redis version forward, so Redis never shows a version older than one it showed before.
 */

/**
 * Installs the version a writer has just committed to PostgreSQL (one write, or a batch of k writes
 * committed together), appends their changes to the window and publishes them in order, atomically.
 *
 * Input:
 *   KEYS[1] doc hash, KEYS[2] window list
 *   ARGV[1] base version (the version the changes were computed from), ARGV[2] new version (base + k),
 *   ARGV[3] new state JSON ('' when the last change deletes the document), ARGV[4] updatedAt,
 *   ARGV[5] window size (entries), ARGV[6] idle expiry of both keys (ms),
 *   ARGV[7] the first message (1-based) the window keeps: the last one that carries the whole state (SET,
 *   DELETE), since nothing before it is needed to catch up, ARGV[8] '1' when such a message is in the batch
 *   (the window restarts), ARGV[9] channel, ARGV[10…] the k change messages, oldest first
 * Output:
 *   { 'ok', newVersion }     Redis held the base version: the changes are appended and published.
 *   { 'reset', newVersion }  Redis held an older version (or none: evicted, flushed, or a writer that
 *                            committed to PostgreSQL died before this step): the new state is installed,
 *                            the window restarts with these changes, and they are published; subscribers
 *                            that see a version gap resynchronize from the state.
 *   { 'stale', current }     Redis already holds this version or a newer one (loaded from PostgreSQL
 *                            after this writer committed): nothing is written or published.
 */
export const COMMIT_SCRIPT = `
local current = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
local base = tonumber(ARGV[1])
local new = tonumber(ARGV[2])
if current >= new then return { 'stale', current } end
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], 's')
  redis.call('HSET', KEYS[1], 'v', ARGV[2], 'u', ARGV[4])
else
  redis.call('HSET', KEYS[1], 'v', ARGV[2], 's', ARGV[3], 'u', ARGV[4])
end
if current ~= base or ARGV[8] == '1' then redis.call('DEL', KEYS[2]) end
for i = 9 + tonumber(ARGV[7]), #ARGV do redis.call('RPUSH', KEYS[2], ARGV[i]) end
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[5]), -1)
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
for i = 10, #ARGV do redis.call('PUBLISH', ARGV[9], ARGV[i]) end
if current ~= base then return { 'reset', new } end
return { 'ok', new }
`;

/**
 * Loads a document's PostgreSQL row into Redis when Redis holds an older version or none (a cache miss,
 * an expired or flushed key, or a writer that died between its PostgreSQL commit and its Redis step).
 *
 * Input:
 *   KEYS[1] doc hash, KEYS[2] window list
 *   ARGV[1] channel, ARGV[2] version, ARGV[3] state JSON ('' for a deleted document), ARGV[4] updatedAt,
 *   ARGV[5] SNAPSHOT message for subscribers, ARGV[6] idle expiry (ms)
 * Output:
 *   { version, state or false, updatedAt } as Redis holds them afterwards: the loaded row, or what Redis
 *   already held when that was as new or newer (then nothing is written or published). A load publishes
 *   the SNAPSHOT, so subscribers hear of a version no writer published; they drop it if they have it.
 */
export const LOAD_SCRIPT = `
local held = redis.call('HMGET', KEYS[1], 'v', 's', 'u')
local current = tonumber(held[1] or '0')
if current >= tonumber(ARGV[2]) then return held end
redis.call('DEL', KEYS[2])
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], 's')
  redis.call('HSET', KEYS[1], 'v', ARGV[2], 'u', ARGV[4])
else
  redis.call('HSET', KEYS[1], 'v', ARGV[2], 's', ARGV[3], 'u', ARGV[4])
end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PUBLISH', ARGV[1], ARGV[5])
return { ARGV[2], ARGV[3] ~= '' and ARGV[3] or false, ARGV[4] }
`;
