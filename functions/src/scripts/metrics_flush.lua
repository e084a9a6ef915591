-- Adds an instance's aggregated HTTP metrics to one shard hash in one billed command.
-- KEYS[1] the shard hash; ARGV: field, increment, field, increment, ...
-- Returns how many fields were incremented.
for i = 1, #ARGV, 2 do
  redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
end
return #ARGV / 2
