-- Writes an event's catalog snapshot (see catalog_lib.lua), unless the catalog changed since
-- the caller read libSQL.
-- KEYS: 1 snapshot hash, 2 seat map hash (label -> type), 3 the event's catalog version,
--       4 the global catalog epoch.
-- ARGV: 1 the version read before libSQL was read, 2 the epoch read then, 3 status,
--       4 types JSON, 5 sale JSON, 6 paused, 7 seat map JSON [[label, type], ...],
--       8 snapshot TTL (ms).
-- Returns 'LOADED' | 'STALE' (a change raced the read: read again).
if (redis.call('GET', KEYS[3]) or '0') ~= ARGV[1] or (redis.call('GET', KEYS[4]) or '0') ~= ARGV[2] then
  return 'STALE'
end
redis.call('DEL', KEYS[1], KEYS[2])
local seats = cjson.decode(ARGV[7])
for i = 1, #seats, 500 do
  local args = {}
  for k = i, math.min(i + 499, #seats) do
    args[#args + 1] = seats[k][1]
    args[#args + 1] = seats[k][2]
  end
  redis.call('HSET', KEYS[2], unpack(args))
end
redis.call('HSET', KEYS[1], 'epoch', ARGV[2], 'status', ARGV[3], 'types', ARGV[4], 'sale', ARGV[5],
  'paused', ARGV[6])
-- A lost invalidation (Redis unreachable right after a change) heals within the TTL.
redis.call('PEXPIRE', KEYS[1], ARGV[8])
-- The seat map outlives the snapshot, so a present snapshot always has its seats.
if #seats > 0 then
  redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[8]) + 60000)
end
return 'LOADED'
