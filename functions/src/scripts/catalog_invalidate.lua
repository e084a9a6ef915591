-- Forgets an event's catalog snapshot after a change committed in libSQL, and bumps its
-- version so a snapshot built from a read taken before the change is refused.
-- KEYS: 1 snapshot, 2 seat map, 3 version. Returns the new version.
redis.call('DEL', KEYS[1], KEYS[2])
return redis.call('INCR', KEYS[3])
