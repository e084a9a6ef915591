-- Picks the next events the scheduled upkeep reconciles, so each run does a bounded amount of
-- work and every event is visited over successive runs.
-- KEYS: 1 the set of events with an inventory (SADD when an inventory is loaded),
--       2 the schedule: a sorted set event -> when it was last picked (ms; 0 = never),
--       3 the SSCAN cursor over KEYS[1].
-- ARGV: 1 how many events to pick, 2 the SSCAN COUNT hint.
-- Each call moves the cursor one page through the set and adds the events it finds to the
-- schedule (NX: known ones keep their place), then picks the ones picked longest ago (new ones
-- first) and stamps them with the server time. A page is about COUNT members (a set small
-- enough for Redis's compact encoding comes back whole); a full pass of the cursor finds every
-- member, and the schedule then reaches each known event within ceil(known / picked) runs.
-- Returns {picked ids, events known to the schedule}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cursor = redis.call('GET', KEYS[3]) or '0'
local page = redis.call('SSCAN', KEYS[1], cursor, 'COUNT', ARGV[2])
redis.call('SET', KEYS[3], page[1])
for _, id in ipairs(page[2]) do
  redis.call('ZADD', KEYS[2], 'NX', 0, id)
end
local picked = redis.call('ZRANGE', KEYS[2], 0, tonumber(ARGV[1]) - 1)
for _, id in ipairs(picked) do
  redis.call('ZADD', KEYS[2], 'XX', now, id)
end
return {picked, redis.call('ZCARD', KEYS[2])}
