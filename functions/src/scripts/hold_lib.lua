-- Shared by the hold scripts (prepended after inventory_keys.lua and live_lib.lua): taking
-- and releasing holds, waitlist offers and sweeping expired holds. Every change to SEATS and
-- STOCK goes through live_seat / live_count first, so the script's change-log entry sees it.

-- Takes `items` for `wallet` under hold `id` (the caller checked they are free).
local function take(id, wallet, items)
  for _, item in ipairs(items) do
    local tt, seat, qty = item[1], item[2], tonumber(item[3])
    if seat ~= '' then
      live_seat(seat)
      redis.call('HSET', SEATS, seat, id)
      redis.call('HINCRBY', STOCK, 'seats:held', 1)
    end
    live_count(tt)
    redis.call('HINCRBY', STOCK, tt .. ':held', qty)
    redis.call('HINCRBY', WALLETS, wallet .. '|' .. tt, qty)
    redis.call('HINCRBY', WALLETS, wallet, qty)
  end
end

-- Writes hold `id`'s record and indexes its expiry.
local function record_hold(id, wallet, event, items, expires, snapshot, offer_ttl)
  local record = RECORD_PREFIX .. id
  redis.call('HSET', record, 'wallet', wallet, 'event', event, 'items', cjson.encode(items),
    'expiresAt', string.format('%d', expires), 'snapshot', snapshot)
  if offer_ttl then
    redis.call('HSET', record, 'offer', string.format('%d', offer_ttl))
    redis.call('HSET', OFFERS, wallet, id)
  end
  -- The sweep releases the hold; the key's own TTL only collects a record the sweep missed.
  redis.call('PEXPIREAT', record, string.format('%d', expires + 86400000))
  redis.call('ZADD', EXPIRY, string.format('%d', expires), id)
end

-- The next wallet on the waitlist, or nil.
local function next_waiting()
  local wallet = redis.call('LPOP', WAITLIST)
  if wallet then
    redis.call('SREM', WAITING, wallet)
  end
  return wallet
end

-- Reserves `items` (free now) for the next waitlisted wallet; returns its hold id or nil.
local function offer(items, event, ttl, now, id, snapshot)
  local wallet = next_waiting()
  if not wallet then
    return nil
  end
  if not id then
    id = 'hld_' .. string.format('%020x', redis.call('HINCRBY', META, 'offerSeq', 1))
  end
  take(id, wallet, items)
  record_hold(id, wallet, event, items, now + ttl, snapshot, ttl)
  return id, wallet
end

-- Gives back everything hold `id` took and forgets it. A waitlist offer that lapses moves
-- on to the next waitlisted wallet instead of going back to the pool.
local function release(id, now)
  local key = RECORD_PREFIX .. id
  local record = redis.call('HMGET', key, 'wallet', 'items', 'offer', 'event', 'snapshot')
  local wallet, items = record[1], record[2]
  if wallet and items then
    local decoded = cjson.decode(items)
    for _, item in ipairs(decoded) do
      local tt, seat, qty = item[1], item[2], tonumber(item[3])
      if seat ~= '' then
        if redis.call('HGET', SEATS, seat) == id then
          live_seat(seat)
          redis.call('HDEL', SEATS, seat)
        end
        redis.call('HINCRBY', STOCK, 'seats:held', -1)
      end
      live_count(tt)
      redis.call('HINCRBY', STOCK, tt .. ':held', -qty)
      redis.call('HINCRBY', WALLETS, wallet .. '|' .. tt, -qty)
      redis.call('HINCRBY', WALLETS, wallet, -qty)
    end
    if record[3] then
      if redis.call('HGET', OFFERS, wallet) == id then
        redis.call('HDEL', OFFERS, wallet)
      end
      redis.call('DEL', key)
      redis.call('ZREM', EXPIRY, id)
      offer(decoded, record[4], tonumber(record[3]), now or now_ms(), nil, record[5] or '')
      return
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
    release(id, now)
  end
  -- The expiries are their own change-log entry (kind 'expire'), before the script's own.
  if #expired > 0 then
    live_commit()
  end
  return #expired
end

