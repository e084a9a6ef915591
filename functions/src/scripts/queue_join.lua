-- Joins an event's waiting room once per wallet; joining again returns the same place.
-- KEYS: 1 members (hash wallet -> 'pre:<joinedAt>' | 'pos:<position>:<joinedAt>'),
--       2 pre (zset of wallets that arrived before the start, by order score),
--       3 pre counter (arrival numbers, the FIFO order score), 4 post counter.
-- ARGV: 1 wallet, 2 sale start (ms), 3 'fifo' | 'random', 4 random order score (random mode).
-- Returns {'PRE', joinedAt} (random mode before the start: the place is drawn at the start)
--       | {'POS', position, joinedAt}.
-- Places: pre-start arrivals take 0..#pre-1 in score order (fixed once the start has passed,
-- because no pre-start arrival can be added after it); later arrivals follow in FIFO order.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local wallet, start, mode = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local existing = redis.call('HGET', KEYS[1], wallet)
if existing then
  local kind, a, b = string.match(existing, '^(%a+):(%d+):?(%d*)$')
  if kind == 'pos' then
    return {'POS', tonumber(a), tonumber(b)}
  end
  if mode == 'fifo' or now >= start then
    return {'POS', redis.call('ZRANK', KEYS[2], wallet), tonumber(a)}
  end
  return {'PRE', tonumber(a)}
end
if now < start then
  local score
  if mode == 'random' then
    score = ARGV[4]
  else
    score = redis.call('INCR', KEYS[3])
  end
  redis.call('ZADD', KEYS[2], score, wallet)
  redis.call('HSET', KEYS[1], wallet, 'pre:' .. now)
  if mode == 'random' then
    return {'PRE', now}
  end
  return {'POS', redis.call('ZRANK', KEYS[2], wallet), now}
end
local position = redis.call('ZCARD', KEYS[2]) + redis.call('INCR', KEYS[4]) - 1
redis.call('HSET', KEYS[1], wallet, 'pos:' .. position .. ':' .. now)
return {'POS', position, now}
