-- Puts a refunded order's seats and units back (libSQL already revoked its tickets): each
-- line is offered to the next waitlisted wallet as a reserved hold, or freed.
-- ARGV: 1 record prefix, 2 order id, 3 buyer wallet, 4 items JSON, 5 event id,
--       6 offer TTL (ms), then per line: a fresh hold id and its price snapshot JSON.
-- Returns {'OK', wallet, hold id, ...} (the offers made) | {'ALREADY'} | {'UNLOADED'}.
redis.call('HINCRBY', META, 'version', 1)
if not is_loaded() then
  return {'UNLOADED'}
end
local order, wallet = ARGV[2], ARGV[3]
if redis.call('HSETNX', META, 'returned:' .. order, 1) == 0 then
  return {'ALREADY'}
end
local now = now_ms()
local ttl = tonumber(ARGV[6])
local offers = {'OK'}
live.kind = 'refund'
for i, item in ipairs(cjson.decode(ARGV[4])) do
  local tt, seat, qty = item[1], item[2], tonumber(item[3])
  live_count(tt)
  if seat ~= '' then
    live_seat(seat)
    if redis.call('HGET', SEATS, seat) == 'sold' then
      redis.call('HDEL', SEATS, seat)
    end
    redis.call('HINCRBY', STOCK, 'seats:sold', -1)
  end
  redis.call('HINCRBY', STOCK, tt .. ':sold', -qty)
  redis.call('HINCRBY', WALLETS, wallet .. '|' .. tt, -qty)
  redis.call('HINCRBY', WALLETS, wallet, -qty)
  local id, to = offer({item}, ARGV[5], ttl, now, ARGV[5 + 2 * i], ARGV[6 + 2 * i])
  if id then
    offers[#offers + 1] = to
    offers[#offers + 1] = id
  end
end
return offers
