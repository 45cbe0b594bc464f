/**
 * Appends an event to its topic's history and publishes it, in one atomic round trip:
 * nothing is published that is not stored, nothing stored that is not published.
 *
 * Input:
 *   KEYS[1] history stream, KEYS[2] epoch key, KEYS[3] offset counter, KEYS[4] idempotency key (or the
 *   empty-string placeholder key when the producer sent none), KEYS[5] the key's rate counter for this second
 *   ARGV[1] channel, ARGV[2] envelope JSON without its cursor, ARGV[3] approximate history cap (entries),
 *   ARGV[4] history age cap in milliseconds, ARGV[5] idempotency window in seconds (0 = no key),
 *   ARGV[6] publishes allowed per second for the key (0 = no limit)
 * Output:
 *   { epoch, entryId, offset } for a new event; the message on the channel is `<cursor>\n<envelope JSON>`
 *   and the stream entry holds the fields `o` (offset) and `e` (envelope JSON).
 *   { 'duplicate', '<cursor>\n<envelope JSON>' } when the idempotency key was used within the window:
 *   nothing is stored or published, the original event is returned.
 *
 * The epoch is made from the server's clock the first time a topic is written after its history was
 * created or lost (restart, FLUSHALL), and the offset counter restarts with it, so cursors from a lost
 * history are recognisably stale and offsets within an epoch have no holes.
 *
 * History is trimmed by count (MAXLEN) and by age (MINID), both approximately (`~`): Redis trims whole
 * internal nodes, so slightly more than the cap may be kept, never less.
 */
export const PUBLISH_SCRIPT = `
local rate = tonumber(ARGV[6])
if rate > 0 then
  local count = redis.call('INCR', KEYS[5])
  if count == 1 then redis.call('PEXPIRE', KEYS[5], 2000) end
  if count > rate then return { 'rate_limited', count } end
end
local window = tonumber(ARGV[5])
if window > 0 then
  local original = redis.call('GET', KEYS[4])
  if original then return { 'duplicate', original } end
end
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  local t = redis.call('TIME')
  epoch = t[1] .. string.format('%06d', tonumber(t[2]))
  redis.call('SET', KEYS[2], epoch)
  redis.call('SET', KEYS[3], 0)
end
local offset = redis.call('INCR', KEYS[3])
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'o', offset, 'e', ARGV[2])
local ms = tonumber(string.match(id, '^(%d+)'))
redis.call('XTRIM', KEYS[1], 'MINID', '~', tostring(ms - tonumber(ARGV[4])))
local message = epoch .. '_' .. offset .. '_' .. id .. '\\n' .. ARGV[2]
redis.call('PUBLISH', ARGV[1], message)
if window > 0 then redis.call('SET', KEYS[4], message, 'EX', window) end
return { epoch, id, offset }
`;
