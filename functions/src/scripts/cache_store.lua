-- Stores one cached read: KEYS[1] the cache hash, ARGV[1] the field, ARGV[2] the body,
-- ARGV[3] the TTL in seconds. The hash expires TTL after its first entry (an entry is never
-- older than TTL, however often the hash is refilled). `EXPIRE ... NX` would say this in one
-- command, but it is Redis 7.0 and Upstash runs 6.2: check the TTL instead.
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if redis.call('TTL', KEYS[1]) < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[3])
end
return 1
