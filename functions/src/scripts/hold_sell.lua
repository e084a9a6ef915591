-- Turns a paid order's hold into sold seats and units (libSQL already records the sale).
-- KEYS[9] = the hold's record key ('' when the order had none).
-- ARGV: 1 record prefix, 2 hold id, 3 order id, 4 buyer wallet,
--       5 items JSON [[type, seat or '', quantity], ...] (from libSQL).
-- Returns {'OK'} | {'ALREADY'} | {'UNLOADED'} (the next load reads the sale from libSQL)
--       | {'RESTORED', seat...} (the hold had lapsed; the items were marked sold anyway and
--         these seats were taken from other holds: reconcile reports them).
redis.call('HINCRBY', META, 'version', 1)
if not is_loaded() then
  return {'UNLOADED'}
end
local id, order, wallet = ARGV[2], ARGV[3], ARGV[4]
if redis.call('HSETNX', META, 'sold:' .. order, 1) == 0 then
  if KEYS[9] ~= '' and redis.call('HGET', KEYS[9], 'order') == order then
    redis.call('DEL', KEYS[9])
    redis.call('ZREM', EXPIRY, id)
  end
  return {'ALREADY'}
end
local items = cjson.decode(ARGV[5])
local lapsed = not (KEYS[9] ~= '' and redis.call('HGET', KEYS[9], 'order') == order
  and redis.call('HGET', KEYS[9], 'wallet') == wallet)
local taken = {}
live.kind = 'sold'
for _, item in ipairs(items) do
  local tt, seat, qty = item[1], item[2], tonumber(item[3])
  live_count(tt)
  if seat ~= '' then
    live_seat(seat)
  end
  if not lapsed then
    if seat ~= '' then
      redis.call('HINCRBY', STOCK, 'seats:held', -1)
    end
    redis.call('HINCRBY', STOCK, tt .. ':held', -qty)
  else
    -- The hold lapsed and released its items (and the wallet's count): count them again.
    redis.call('HINCRBY', WALLETS, wallet .. '|' .. tt, qty)
    redis.call('HINCRBY', WALLETS, wallet, qty)
    if seat ~= '' then
      local holder = redis.call('HGET', SEATS, seat)
      if holder and holder ~= 'sold' then
        taken[#taken + 1] = seat
        release(holder, now_ms())
      end
    end
  end
  if seat ~= '' then
    redis.call('HSET', SEATS, seat, 'sold')
    redis.call('HINCRBY', STOCK, 'seats:sold', 1)
  end
  redis.call('HINCRBY', STOCK, tt .. ':sold', qty)
end
if not lapsed then
  redis.call('DEL', KEYS[9])
  redis.call('ZREM', EXPIRY, id)
  local offered = redis.call('HGET', OFFERS, wallet)
  if offered == id then
    redis.call('HDEL', OFFERS, wallet)
  end
  return {'OK'}
end
table.insert(taken, 1, 'RESTORED')
return taken
