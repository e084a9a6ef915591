-- Takes a hold, all or nothing.
-- KEYS[9] = the new hold's record key.
-- ARGV: 1 record prefix, 2 hold id, 3 wallet, 4 event id, 5 TTL ms,
--       6 per-wallet limit for the whole event (0: none),
--       7 request JSON {"items": [[type, seat or '', quantity], ...],
--                       "types": {type: {"limit": n (0: none), "supply": n (-1: by seat)}}},
--       8 price snapshot JSON (kept in the record for the order).
-- Returns {'OK', expiresAt} | {'UNLOADED'} | {'SEATS', label...} | {'SOLD_OUT', type, left}
--       | {'LIMIT', type ('' for the event limit), allowed}.
if not is_loaded() then
  return {'UNLOADED'}
end
local now = now_ms()
sweep(now, 500)
local id, wallet, event = ARGV[2], ARGV[3], ARGV[4]
local ttl, event_limit = tonumber(ARGV[5]), tonumber(ARGV[6])
local request = cjson.decode(ARGV[7])
local items, types = request.items, request.types

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
take(id, wallet, items)
local expires = now + ttl
record_hold(id, wallet, event, items, expires, ARGV[8], nil)
return {'OK', string.format('%d', expires)}
