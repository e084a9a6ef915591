-- Reads cached pair reserves behind the gate (crate::swap::reserves).
-- KEYS: the pairs' cache keys (the gate's keys follow). ARGV: 1 how many pair keys.
-- Returns the values in order, false where a pair is not cached.
local n = tonumber(ARGV[1])
if n == 0 then
  return {}
end
return redis.call('MGET', unpack(KEYS, 1, n))
