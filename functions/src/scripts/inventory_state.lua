-- Shared by hold_load.lua and inventory_reconcile.lua (prepended after hold_lib.lua): what an
-- event's inventory should hold, from libSQL's sold state plus the live holds.
-- `sold` is the decoded JSON {"seats": [label, ...], "types": [[type, units], ...],
--   "wallets": [[wallet, type, units], ...], "paid": [order id, ...], "returned": [order id, ...]}.
-- Returns the seats, stock and wallets hashes as Lua tables. Side effects, the same for a load
-- and a reconcile: marks paid/returned orders in META (HSETNX: a marker already there writes
-- nothing), and forgets live holds whose order is already paid.
local function desired_state(sold)
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
    redis.call('HSETNX', META, 'sold:' .. order, 1)
  end
  for _, order in ipairs(sold.returned) do
    redis.call('HSETNX', META, 'returned:' .. order, 1)
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
  return seats, stock, wallets
end
