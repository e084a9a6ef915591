-- Joins an event's waiting room once per wallet; joining again returns the same place.
-- The door first: the event must be on sale with a waiting room, the wallet not denied.
-- KEYS: 1 members (hash wallet -> 'pre:<joinedAt>' | 'pos:<position>:<joinedAt>'),
--       2 pre (zset of wallets that arrived before the start, by order score),
--       3 pre counter (arrival numbers, the FIFO order score), 4 post counter, 5 catalog snapshot, 6 global catalog epoch, 7 deny list hash
--       (then the gate's keys).
-- ARGV: 1 wallet, 2 random order score (random mode) (then the gate's spec).
-- Returns {'PRE', joinedAt, sale JSON} (random mode before the start: the place is drawn at
-- the start) | {'POS', position, joinedAt, sale JSON}, or {'NOCATALOG'} |
-- {'NODENY'} | {'NO_EVENT'} | {'DENIED'} | {'NO_WAITING_ROOM'} | {'PAUSED', scope} | {'ENDED'}.
local cat = catalog_get(KEYS[5], KEYS[6])
if not cat then
  return {'NOCATALOG'}
end
if redis.call('HEXISTS', KEYS[7], '__loaded') == 0 then
  return {'NODENY'}
end
if cat.status ~= 'published' then
  return {'NO_EVENT'}
end
if redis.call('HEXISTS', KEYS[7], ARGV[1]) == 1 then
  return {'DENIED'}
end
local sale = cat.sale
if not sale.configured or not sale.waitingRoom then
  return {'NO_WAITING_ROOM'}
end
if cat.paused ~= '' then
  return {'PAUSED', cat.paused}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
-- The window that applies (catalog_lib.lua): the settings' end, or the event's sale end when
-- that is earlier (settings written before the rule kept them inside it).
if now >= (tonumber(sale.closesAt) or tonumber(sale.endsAt)) then
  return {'ENDED'}
end
local mode = sale.settings.queueMode
-- Places: pre-start arrivals take 0..#pre-1 in score order (fixed once the start has passed,
-- because no pre-start arrival can be added after it); later arrivals follow in FIFO order.
local function join(start)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local wallet = ARGV[1]
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
      score = ARGV[2]
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
end
local reply = join(tonumber(sale.startsAt))
reply[#reply + 1] = cat.sale_raw
return reply
