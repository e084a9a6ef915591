-- Caches pair reserves after a response (deferred, so plain EVAL: one command for all pairs).
-- KEYS: the pairs' cache keys. ARGV: 1 the lifetime in ms, then one value per key.
for i, key in ipairs(KEYS) do
  redis.call('SET', key, ARGV[i + 1], 'PX', ARGV[1])
end
return #KEYS
