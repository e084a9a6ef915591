-- Forgets an event's catalog snapshot after a change committed in libSQL, bumps its version so
-- a snapshot built from a read taken before the change is refused, and announces the sale's
-- state after the change to the event's change log (live_lib.lua).
-- Prepended with inventory_keys.lua and live_lib.lua.
-- KEYS: 1-8 the event's inventory, 9 snapshot, 10 seat map, 11 version.
-- ARGV: 1 the sale as it now is, JSON {paused, opensAt, closesAt}.
-- Returns the new version.
redis.call('DEL', KEYS[9], KEYS[10])
local version = redis.call('INCR', KEYS[11])
live_sale(ARGV[1])
return version
