-- Reads an event's availability change log (live_lib.lua).
-- KEYS: 1 the inventory's meta hash, 2 its log.
-- ARGV: 1 the seq to read after, or '' for the log's tail; 2 how many entries at most.
-- Returns {last seq given ('' when the event has no log), first seq the log still holds
--          ('' when it holds none), entry JSON, ...} (entries in seq order).
local head = redis.call('HGET', KEYS[1], 'liveSeq') or ''
local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
local oldest = ''
if #first > 0 then
  oldest = first[2]
end
local limit = tonumber(ARGV[2])
local entries
if ARGV[1] == '' then
  entries = redis.call('ZRANGE', KEYS[2], -limit, -1)
else
  entries = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[1], '+inf', 'LIMIT', 0, limit)
end
table.insert(entries, 1, oldest)
table.insert(entries, 1, head)
return entries
