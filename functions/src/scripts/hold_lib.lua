-- Shared by the hold scripts (prepended to each by Rust): the key layout, server time,
-- releasing one hold and sweeping expired ones.
-- KEYS[1..5] are one event's inventory:
--   meta     hash  loadedAt (present once the sold state was loaded from libSQL)
--   seats    hash  seat label -> hold id | 'sold' (absent: free)
--   stock    hash  '<type>:held', '<type>:sold' (units), 'seats:held', 'seats:sold'
--   wallets  hash  '<wallet>|<type>' and '<wallet>' -> units held + bought
--   expiry   zset  hold id -> expiresAt (ms)
-- ARGV[1] is the prefix of hold record keys (record = prefix .. hold id, a hash with
-- wallet, event, items (JSON [[type, seat or '', quantity], ...]), expiresAt, snapshot).
local META, SEATS, STOCK, WALLETS, EXPIRY = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local RECORD_PREFIX = ARGV[1]

-- Time comes from the Redis server, so edge instances with skewed clocks agree.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Gives back everything hold `id` took and forgets it.
local function release(id)
  local key = RECORD_PREFIX .. id
  local record = redis.call('HMGET', key, 'wallet', 'items')
  local wallet, items = record[1], record[2]
  if wallet and items then
    for _, item in ipairs(cjson.decode(items)) do
      local tt, seat, qty = item[1], item[2], tonumber(item[3])
      if seat ~= '' then
        if redis.call('HGET', SEATS, seat) == id then
          redis.call('HDEL', SEATS, seat)
        end
        redis.call('HINCRBY', STOCK, 'seats:held', -1)
      end
      redis.call('HINCRBY', STOCK, tt .. ':held', -qty)
      redis.call('HINCRBY', WALLETS, wallet .. '|' .. tt, -qty)
      redis.call('HINCRBY', WALLETS, wallet, -qty)
    end
  end
  redis.call('DEL', key)
  redis.call('ZREM', EXPIRY, id)
end

-- Whether hold `id` has expired (or is unknown to the expiry index).
local function is_expired(id, now)
  local score = redis.call('ZSCORE', EXPIRY, id)
  return (not score) or tonumber(score) <= now
end

-- Releases up to `limit` expired holds, oldest first. Bounded so one request's work is too.
local function sweep(now, limit)
  local expired = redis.call('ZRANGEBYSCORE', EXPIRY, '-inf', now, 'LIMIT', 0, limit)
  for _, id in ipairs(expired) do
    release(id)
  end
  return #expired
end

