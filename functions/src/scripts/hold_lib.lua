-- Shared by the hold scripts (prepended to each by Rust): the key layout, server time,
-- releasing one hold and sweeping expired ones.
-- KEYS[1..8] are one event's inventory:
--   meta      hash  loadedAt (present once the sold state was loaded from libSQL), version
--                   (bumped by every sale or refund, so a load or reconcile built from an
--                   older libSQL read is refused), 'sold:<order>' / 'returned:<order>' markers
--   seats     hash  seat label -> hold id | 'sold' (absent: free)
--   stock     hash  '<type>:held', '<type>:sold' (units), 'seats:held', 'seats:sold'
--   wallets   hash  '<wallet>|<type>' and '<wallet>' -> units held + bought
--   expiry    zset  hold id -> expiresAt (ms)
--   waitlist  list  wallets waiting for a freed seat, in arrival order
--   waiting   set   the same wallets (to join once)
--   offers    hash  wallet -> hold id reserved for it from the waitlist
-- ARGV[1] is the prefix of hold record keys (record = prefix .. hold id, a hash with
-- wallet, event, items (JSON [[type, seat or '', quantity], ...]), expiresAt, snapshot,
-- and for a waitlist offer: offer = TTL ms).
local META, SEATS, STOCK, WALLETS, EXPIRY = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local WAITLIST, WAITING, OFFERS = KEYS[6], KEYS[7], KEYS[8]
local RECORD_PREFIX = ARGV[1]

-- Points the functions below at event `event`'s inventory, for a script that learns the event
-- from a hold record (an order names only its hold). The names follow `keys::inventory`.
local function use_inventory(prefix, event)
  local base = prefix .. 'inv:{' .. event .. '}:'
  META, SEATS, STOCK, WALLETS = base .. 'meta', base .. 'seats', base .. 'stock', base .. 'wallets'
  EXPIRY, WAITLIST, WAITING = base .. 'expiry', base .. 'waitlist', base .. 'waiting'
  OFFERS = base .. 'offers'
end

-- Time comes from the Redis server, so edge instances with skewed clocks agree.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function is_loaded()
  return redis.call('HEXISTS', META, 'loadedAt') == 1
end

-- Takes `items` for `wallet` under hold `id` (the caller checked they are free).
local function take(id, wallet, items)
  for _, item in ipairs(items) do
    local tt, seat, qty = item[1], item[2], tonumber(item[3])
    if seat ~= '' then
      redis.call('HSET', SEATS, seat, id)
      redis.call('HINCRBY', STOCK, 'seats:held', 1)
    end
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
          redis.call('HDEL', SEATS, seat)
        end
        redis.call('HINCRBY', STOCK, 'seats:held', -1)
      end
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
  return #expired
end

