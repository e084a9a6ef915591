-- Loads an event's sold state from libSQL into its inventory, once: the first loader wins and
-- later ones (another instance that read libSQL at the same time) change nothing.
-- ARGV[2] = JSON {"seats": [label, ...], "types": [[type, units], ...],
--                 "wallets": [[wallet, type, units], ...]} (what paid orders bought).
-- Returns 1 when loaded now, 0 when already loaded.
if redis.call('EXISTS', META) == 1 then
  return 0
end
local sold = cjson.decode(ARGV[2])
for _, seat in ipairs(sold.seats) do
  redis.call('HSET', SEATS, seat, 'sold')
end
redis.call('HSET', STOCK, 'seats:held', 0, 'seats:sold', #sold.seats)
for _, entry in ipairs(sold.types) do
  redis.call('HINCRBY', STOCK, entry[1] .. ':sold', tonumber(entry[2]))
end
for _, entry in ipairs(sold.wallets) do
  redis.call('HINCRBY', WALLETS, entry[1] .. '|' .. entry[2], tonumber(entry[3]))
  redis.call('HINCRBY', WALLETS, entry[1], tonumber(entry[3]))
end
redis.call('HSET', META, 'loadedAt', string.format('%d', now_ms()))
return 1
