-- Joins an event's waitlist once. ARGV: 1 record prefix (unused), 2 wallet.
-- Returns {'OK', position (1-based), new (1|0)}.
local wallet = ARGV[2]
local new = redis.call('SADD', WAITING, wallet)
if new == 1 then
  redis.call('RPUSH', WAITLIST, wallet)
end
local position = redis.call('LPOS', WAITLIST, wallet)
return {'OK', (position or 0) + 1, new}
