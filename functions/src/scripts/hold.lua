-- Takes a hold, all or nothing, deciding everything from Redis: the catalog snapshot says
-- what exists, what it costs and whether the sale is open; the inventory says what is free.
-- KEYS: 1-8 the event's inventory, 9 the new hold's record, 10 the catalog snapshot,
--       11 its seat map, 12 the global catalog epoch (then the gate's keys).
-- ARGV: 1 record prefix, 2 hold id, 3 wallet, 4 event id, 5 '1' when the request carries a
--       valid admission token, 6 request JSON {"seats": [label, ...]} | {"type": id,
--       "quantity": n} (then the gate's spec).
-- Returns {'OK', expiresAt, stored JSON {"items", "priceSnapshot"}} | {'NOCATALOG'}
--       | {'UNLOADED'} | a sale refusal, of the sale or of a type outside its own window
--       (catalog_lib.lua) | {'BAD_SEAT', index, label}
--       | {'BAD_TYPE'} | {'SEATED'} | {'MIXED_CURRENCY'} | {'SEATS', label...}
--       | {'SOLD_OUT', type, left} | {'LIMIT', type ('' for the event limit), allowed}.
-- The body runs through live_run (live_lib.lua): what it changes is one change-log entry.
local function take_hold()
  local cat = catalog_get(KEYS[10], KEYS[12])
  if not cat then
    return {'NOCATALOG'}
  end
  local now = now_ms()
  local refusal = sale_refusal(cat, now, ARGV[5] == '1', false)
  if refusal then
    return refusal
  end
  if not is_loaded() then
    return {'UNLOADED'}
  end
  sweep(now, 500)
  local id, wallet, event = ARGV[2], ARGV[3], ARGV[4]
  local ttl = tonumber(cat.sale.holdTtlMs)
  local event_limit = tonumber(cat.sale.walletLimit)
  local want = cjson.decode(ARGV[6])

  -- The lines of the hold, each checked against the catalog.
  local items, types = {}, {}
  if want.seats then
    for i, label in ipairs(want.seats) do
      local tt = redis.call('HGET', KEYS[11], label)
      if not tt then
        return {'BAD_SEAT', i - 1, label}
      end
      items[#items + 1] = {tt, label, 1}
    end
  else
    local info = cat.types[want.type]
    if not info then
      return {'BAD_TYPE'}
    end
    if info.seated then
      return {'SEATED'}
    end
    items[1] = {want.type, '', tonumber(want.quantity)}
  end
  -- Each type's own window, within the sale's (a waiting room admits to the sale, not to a
  -- type that has not opened).
  for _, item in ipairs(items) do
    local closed = type_refusal(cat, item[1], now)
    if closed then
      return closed
    end
  end
  -- What the buyer sees and the order will charge: each line's price, the total in the one
  -- currency they share.
  local lines, price_total, currency = {}, '0', nil
  for _, item in ipairs(items) do
    local info = cat.types[item[1]]
    if currency and currency ~= info.currency then
      return {'MIXED_CURRENCY'}
    end
    currency = info.currency
    price_total = dec_add(price_total, dec_mul(info.price, item[3]))
    local seat = cjson.null
    if item[2] ~= '' then seat = item[2] end
    lines[#lines + 1] = {ticketTypeId = item[1], seatLabel = seat, quantity = item[3],
      price = info.price, currency = info.currency}
    types[item[1]] = {limit = info.limit or 0, supply = info.seated and -1 or info.supply}
  end
  local stored = cjson.encode({items = lines, priceSnapshot = {total = price_total, currency = currency}})

  -- Every seat must be free; a seat held by an expired hold is freed on the way.
  local conflicts = {}
  local wanted, order, total = {}, {}, 0
  for _, item in ipairs(items) do
    local tt, seat, qty = item[1], item[2], tonumber(item[3])
    if seat ~= '' then
      local holder = redis.call('HGET', SEATS, seat)
      if holder and holder ~= 'sold' and is_expired(holder, now) then
        release(holder, now)
        -- A lapsed waitlist offer passes the seat on to the next waitlisted wallet.
        holder = redis.call('HGET', SEATS, seat)
        if holder and holder ~= 'sold' and is_expired(holder, now) then
          live_seat(seat)
          redis.call('HDEL', SEATS, seat)
          holder = false
        end
      end
      if holder then
        conflicts[#conflicts + 1] = seat
      end
    end
    if not wanted[tt] then
      order[#order + 1] = tt
      wanted[tt] = 0
    end
    wanted[tt] = wanted[tt] + qty
    total = total + qty
  end
  if #conflicts > 0 then
    table.insert(conflicts, 1, 'SEATS')
    return conflicts
  end

  -- Stock of types sold by quantity.
  for _, tt in ipairs(order) do
    local supply = tonumber(types[tt].supply)
    if supply >= 0 then
      local counts = redis.call('HMGET', STOCK, tt .. ':held', tt .. ':sold')
      local left = supply - (tonumber(counts[1]) or 0) - (tonumber(counts[2]) or 0)
      if left < wanted[tt] then
        return {'SOLD_OUT', tt, math.max(left, 0)}
      end
    end
  end

  -- The wallet's limits: held + bought, per type and for the event.
  for _, tt in ipairs(order) do
    local limit = tonumber(types[tt].limit)
    if limit > 0 then
      local have = tonumber(redis.call('HGET', WALLETS, wallet .. '|' .. tt)) or 0
      if have + wanted[tt] > limit then
        return {'LIMIT', tt, math.max(limit - have, 0)}
      end
    end
  end
  if event_limit > 0 then
    local have = tonumber(redis.call('HGET', WALLETS, wallet)) or 0
    if have + total > event_limit then
      return {'LIMIT', '', math.max(event_limit - have, 0)}
    end
  end

  -- Take everything.
  live.kind = 'hold'
  take(id, wallet, items)
  local expires = now + ttl
  record_hold(id, wallet, event, items, expires, stored, nil)
  return {'OK', string.format('%d', expires), stored}
end

return live_run(take_hold)
