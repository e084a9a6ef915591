-- Builds an event's inventory from libSQL's sold state plus the live holds.
-- ARGV: 1 record prefix, 2 mode ('load': only if never loaded; 'reconcile': rebuild and
--       report what differed), 3 the meta version read before libSQL was read,
--       4 JSON {"seats": [label, ...], "types": [[type, units], ...],
--               "wallets": [[wallet, type, units], ...], "paid": [order id, ...],
--               "returned": [order id, ...]}.
-- Returns {'LOADED'} | {'ALREADY'} (mode load, someone loaded first)
--       | {'STALE'} (a sale or refund happened since libSQL was read: read again)
--       | {'RECONCILED', JSON {"seats": [[label, before, after], ...],
--                            "stock": [[field, before, after], ...]}}.
local mode = ARGV[2]
if mode == 'load' and is_loaded() then
  return {'ALREADY'}
end
if (redis.call('HGET', META, 'version') or '0') ~= ARGV[3] then
  return {'STALE'}
end
local now = now_ms()
sweep(now, 100000)
local sold = cjson.decode(ARGV[4])
local seats, stock, wallets = {}, {['seats:held'] = 0, ['seats:sold'] = 0}, {}
local function add(map, key, n)
  map[key] = (map[key] or 0) + n
end
for _, seat in ipairs(sold.seats) do
  seats[seat] = 'sold'
  add(stock, 'seats:sold', 1)
end
for _, entry in ipairs(sold.types) do
  add(stock, entry[1] .. ':sold', tonumber(entry[2]))
end
for _, entry in ipairs(sold.wallets) do
  add(wallets, entry[1] .. '|' .. entry[2], tonumber(entry[3]))
  add(wallets, entry[1], tonumber(entry[3]))
end
local paid = {}
for _, order in ipairs(sold.paid) do
  paid[order] = true
  redis.call('HSET', META, 'sold:' .. order, 1)
end
for _, order in ipairs(sold.returned) do
  redis.call('HSET', META, 'returned:' .. order, 1)
end
-- Live holds keep what they hold, unless their order is already paid (then they are done)
-- or libSQL says a seat of theirs is sold (then the sale wins).
for _, id in ipairs(redis.call('ZRANGE', EXPIRY, 0, -1)) do
  local key = RECORD_PREFIX .. id
  local record = redis.call('HMGET', key, 'wallet', 'items', 'order')
  if not record[1] or (record[3] and paid[record[3]]) then
    redis.call('DEL', key)
    redis.call('ZREM', EXPIRY, id)
  else
    for _, item in ipairs(cjson.decode(record[2])) do
      local tt, seat, qty = item[1], item[2], tonumber(item[3])
      if seat == '' or not seats[seat] then
        if seat ~= '' then
          seats[seat] = id
          add(stock, 'seats:held', 1)
        end
        add(stock, tt .. ':held', qty)
        add(wallets, record[1] .. '|' .. tt, qty)
        add(wallets, record[1], qty)
      end
    end
  end
end
local diff = {seats = {}, stock = {}}
if mode == 'reconcile' then
  local before = {}
  local flat = redis.call('HGETALL', SEATS)
  for i = 1, #flat, 2 do
    before[flat[i]] = flat[i + 1]
  end
  for label, value in pairs(before) do
    local after = seats[label]
    if (value == 'sold') ~= (after == 'sold') or (after == nil) then
      diff.seats[#diff.seats + 1] = {label, value, after or 'free'}
    end
  end
  for label, value in pairs(seats) do
    if before[label] == nil then
      diff.seats[#diff.seats + 1] = {label, 'free', value}
    end
  end
  local old_stock = {}
  flat = redis.call('HGETALL', STOCK)
  for i = 1, #flat, 2 do
    old_stock[flat[i]] = tonumber(flat[i + 1])
  end
  for field, value in pairs(stock) do
    if (old_stock[field] or 0) ~= value then
      diff.stock[#diff.stock + 1] = {field, old_stock[field] or 0, value}
    end
  end
  for field, value in pairs(old_stock) do
    if stock[field] == nil and value ~= 0 then
      diff.stock[#diff.stock + 1] = {field, value, 0}
    end
  end
end
redis.call('DEL', SEATS, STOCK, WALLETS)
for label, value in pairs(seats) do
  redis.call('HSET', SEATS, label, value)
end
for field, value in pairs(stock) do
  redis.call('HSET', STOCK, field, value)
end
for field, value in pairs(wallets) do
  redis.call('HSET', WALLETS, field, value)
end
redis.call('HSET', META, 'loadedAt', string.format('%d', now))
if mode == 'load' then
  return {'LOADED'}
end
if #diff.seats == 0 then diff.seats = cjson.decode('[]') end
if #diff.stock == 0 then diff.stock = cjson.decode('[]') end
return {'RECONCILED', cjson.encode(diff)}
