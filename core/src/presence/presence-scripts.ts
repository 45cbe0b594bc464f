/**
 * Presence in plain Redis, atomically (Lua). Per topic (scoped by application and environment):
 *   entries  ZSET  `<conn>|<member>` scored by expiry (ms); a heartbeat pushes the score forward
 *   data     HASH  `<conn>|<member>` → member JSON `{"id":…,"data":…}`
 *   counts   HASH  member id → live connections of that member
 *   channel  Pub/Sub for JOIN / LEAVE messages
 * A member joins when its first connection enters and leaves when its last one goes or expires, so a
 * user with two tabs is one member.
 */

/**
 * Input: KEYS entries, data, counts; ARGV channel, entry, member id, member JSON, expiry ms
 * Output: 1 when this was the member's first connection (a JOIN was published), else 0
 */
export const JOIN_SCRIPT = `
local added = redis.call('ZADD', KEYS[1], ARGV[5], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[4])
if added == 0 then return 0 end
local count = redis.call('HINCRBY', KEYS[3], ARGV[3], 1)
if count == 1 then
  redis.call('PUBLISH', ARGV[1], '{"type":"JOIN","member":' .. ARGV[4] .. '}')
  return 1
end
return 0
`;

/**
 * Input: KEYS entries, data, counts; ARGV channel, entry, member id
 * Output: 1 when this was the member's last connection (a LEAVE was published), else 0
 */
export const LEAVE_SCRIPT = `
local removed = redis.call('ZREM', KEYS[1], ARGV[2])
if removed == 0 then return 0 end
local member = redis.call('HGET', KEYS[2], ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[2])
local count = redis.call('HINCRBY', KEYS[3], ARGV[3], -1)
if count <= 0 then
  redis.call('HDEL', KEYS[3], ARGV[3])
  redis.call('PUBLISH', ARGV[1], '{"type":"LEAVE","member":' .. (member or '{"id":null}') .. '}')
  return 1
end
return 0
`;

/**
 * Removes entries whose heartbeat stopped (their server died), with the same LEAVE rule.
 * Input: KEYS entries, data, counts; ARGV channel, now ms
 * Output: the number of entries removed
 */
export const SWEEP_SCRIPT = `
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, 1000)
for _, entry in ipairs(expired) do
  local member = redis.call('HGET', KEYS[2], entry)
  local id = string.match(entry, '^[^|]*|(.*)$')
  redis.call('ZREM', KEYS[1], entry)
  redis.call('HDEL', KEYS[2], entry)
  local count = redis.call('HINCRBY', KEYS[3], id, -1)
  if count <= 0 then
    redis.call('HDEL', KEYS[3], id)
    redis.call('PUBLISH', ARGV[1], '{"type":"LEAVE","member":' .. (member or '{"id":null}') .. '}')
  end
end
return #expired
`;
