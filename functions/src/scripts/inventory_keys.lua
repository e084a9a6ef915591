-- Shared by the hold scripts (prepended to each by Rust, before live_lib.lua and
-- hold_lib.lua): the key layout of an event's inventory and the server's time.
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
--   live      zset  the availability change log: entry JSON scored by its seq (live_lib.lua);
--                   META 'liveSeq' is the last seq given, 'liveMax' how many entries are kept
-- ARGV[1] is the prefix of hold record keys (record = prefix .. hold id, a hash with
-- wallet, event, items (JSON [[type, seat or '', quantity], ...]), expiresAt, snapshot,
-- and for a waitlist offer: offer = TTL ms).
local META, SEATS, STOCK, WALLETS, EXPIRY = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local WAITLIST, WAITING, OFFERS = KEYS[6], KEYS[7], KEYS[8]
-- Named after META, so the scripts' KEYS stay as they are (same hash slot: the event's tag).
local LIVE = (string.gsub(META, 'meta$', 'live'))
local RECORD_PREFIX = ARGV[1]

-- Points the functions below at event `event`'s inventory, for a script that learns the event
-- from a hold record (an order names only its hold). The names follow `keys::inventory`.
local function use_inventory(prefix, event)
  local base = prefix .. 'inv:{' .. event .. '}:'
  META, SEATS, STOCK, WALLETS = base .. 'meta', base .. 'seats', base .. 'stock', base .. 'wallets'
  EXPIRY, WAITLIST, WAITING = base .. 'expiry', base .. 'waitlist', base .. 'waiting'
  OFFERS, LIVE = base .. 'offers', base .. 'live'
end

-- Time comes from the Redis server, so edge instances with skewed clocks agree.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function is_loaded()
  return redis.call('HEXISTS', META, 'loadedAt') == 1
end

