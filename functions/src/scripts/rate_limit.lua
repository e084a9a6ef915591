-- Token buckets, all-or-nothing: takes one token from every bucket in KEYS, or from none.
-- ARGV[1] = refill rate in tokens per millisecond, ARGV[2] = burst (bucket size).
-- Returns {allowed (1|0), tokens left in the emptiest bucket, ms until a token is available}.
-- Time comes from the Redis server, so edge instances with skewed clocks agree.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local levels = {}
local allowed = 1
local retry = 0
for i, key in ipairs(KEYS) do
  local state = redis.call('HMGET', key, 'tokens', 'ts')
  local tokens = tonumber(state[1]) or burst
  local ts = tonumber(state[2]) or now
  tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
  levels[i] = tokens
  if tokens < 1 then
    allowed = 0
    local wait = math.ceil((1 - tokens) / rate)
    if wait > retry then retry = wait end
  end
end
local remaining = burst
for i, key in ipairs(KEYS) do
  local tokens = levels[i]
  if allowed == 1 then tokens = tokens - 1 end
  if tokens < remaining then remaining = tokens end
  redis.call('HSET', key, 'tokens', tostring(tokens), 'ts', now)
  redis.call('PEXPIRE', key, math.ceil(burst / rate) + 1000)
end
return {allowed, math.floor(remaining), retry}
