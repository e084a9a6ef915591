-- Consumes a login nonce exactly once, and only for the identity it was issued to, and opens
-- the session's cached state in the same call (one round trip for a login's Redis work; the
-- session's row in libSQL is written by the login right after).
-- KEYS: 1 nonce key, 2 the new session's state key (then the gate's keys).
-- ARGV: 1 expected nonce value (`address|chain` or `address`), 2 session lifetime (ms),
--       3 the session's state ('active') (then the gate's spec).
-- Returns 1 consumed (session open), 0 unknown/expired/used, -1 issued to someone else (left
-- in place, so a stranger cannot burn another user's nonce).
local stored = redis.call('GET', KEYS[1])
if not stored then return 0 end
if stored ~= ARGV[1] then return -1 end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2])
return 1
