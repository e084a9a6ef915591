-- The gate of a hot request, run inside the request's own script call so that rate limiting,
-- token revocation and the request's work cost one round trip (and one billed command).
-- Prepended by Rust to a gated script, whose body becomes the function `main`.
-- The last ARGV is the gate's spec, JSON {"b": bucket keys, "r": revocation keys,
-- "rate": tokens per ms, "burst": bucket size, "role": the token's role, "load": the
-- session's state read from libSQL, "px": its lifetime (ms)}; those keys are the last KEYS,
-- buckets first. Revocation keys: the token's `revoked_jti` key (any value: revoked), then its
-- session's state key (see functions/src/extract/session.rs): 'revoked', 'active' or
-- 'active|<role>' (only tokens carrying that role pass). A missing session key means Redis
-- lost it: 'NOSESSION', and Rust runs the script again with "load" from libSQL, cached here.
-- Returns {'GATE', allowed (1|0), tokens left in the emptiest bucket, ms until a token,
--          'PASS' | 'LIMITED' | 'REVOKED' | 'ROLE' | 'NOSESSION', main's reply (PASS only)}.
local function gate_run(main)
  local spec = cjson.decode(ARGV[#ARGV])
  local first = #KEYS - spec.b - spec.r
  local rate, burst = tonumber(spec.rate), tonumber(spec.burst)
  local remaining, allowed, retry = burst, 1, 0
  if spec.b > 0 then
    -- Token buckets, all-or-nothing, on the Redis server's clock.
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    local levels = {}
    for i = 1, spec.b do
      local state = redis.call('HMGET', KEYS[first + i], 'tokens', 'ts')
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
    for i = 1, spec.b do
      local tokens = levels[i]
      if allowed == 1 then tokens = tokens - 1 end
      if tokens < remaining then remaining = tokens end
      redis.call('HSET', KEYS[first + i], 'tokens', tostring(tokens), 'ts', now)
      redis.call('PEXPIRE', KEYS[first + i], math.ceil(burst / rate) + 1000)
    end
  end
  remaining = math.floor(remaining)
  if allowed == 0 then
    return {'GATE', 0, remaining, retry, 'LIMITED'}
  end
  if spec.r >= 1 and redis.call('EXISTS', KEYS[first + spec.b + 1]) == 1 then
    return {'GATE', 1, remaining, 0, 'REVOKED'}
  end
  if spec.r >= 2 then
    local key = KEYS[first + spec.b + 2]
    local state = redis.call('GET', key)
    if not state and spec.load then
      redis.call('SET', key, spec.load, 'PX', spec.px)
      state = spec.load
    end
    if not state then
      return {'GATE', 1, remaining, 0, 'NOSESSION'}
    end
    if state == 'revoked' then
      return {'GATE', 1, remaining, 0, 'REVOKED'}
    end
    local role = string.match(state, '^active|(.*)$')
    if role and role ~= spec.role then
      return {'GATE', 1, remaining, 0, 'ROLE'}
    end
  end
  return {'GATE', 1, remaining, 0, 'PASS', main()}
end
