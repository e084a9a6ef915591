-- Consumes a login nonce exactly once, and only for the identity it was issued to.
-- KEYS[1] = nonce key, ARGV[1] = expected value (`address|chain` or `address`).
-- Returns 1 consumed, 0 unknown/expired/used, -1 issued to someone else (left in place, so a
-- stranger cannot burn another user's nonce).
local stored = redis.call('GET', KEYS[1])
if not stored then return 0 end
if stored ~= ARGV[1] then return -1 end
redis.call('DEL', KEYS[1])
return 1
