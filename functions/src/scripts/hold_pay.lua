-- Before libSQL records a payment: Redis's clock (the one clock of holds and payment deadlines;
-- order_place.lua computed the deadline from it) and where the order's hold stands. A hold that
-- stands before the deadline is kept at least PIN ms past now, so it cannot lapse (and its
-- seats go to someone else) while libSQL commits the payment; hold_sell.lua then sells it.
-- KEYS[9] = the hold's record key ('' when the order has none).
-- ARGV: 1 record prefix, 2 hold id, 3 order id, 4 payment deadline (ms, from libSQL),
--       5 items JSON [[type, seat or '', quantity], ...], 6 PIN (ms).
-- Returns {'UNLOADED'} | {'SOLD', now} (Redis already follows this order's sale)
--       | {'LIVE', now} (the hold stands, the deadline is ahead; pinned)
--       | {'LAPSED', now, seat...} (the hold is gone or the deadline passed; the seats listed
--         are sold to someone else, or past the deadline held by someone else too).
if not is_loaded() then
  return {'UNLOADED'}
end
local id, order, deadline = ARGV[2], ARGV[3], tonumber(ARGV[4])
local now = now_ms()
if redis.call('HEXISTS', META, 'sold:' .. order) == 1 then
  return {'SOLD', now}
end
local live = KEYS[9] ~= '' and redis.call('HGET', KEYS[9], 'order') == order
  and not is_expired(id, now)
if live and now < deadline then
  -- Only the sweep's schedule moves: the record's expiresAt stays the order's deadline (what
  -- order_place.lua answers for a repeated claim); its key outlives both by a day.
  local until_ms = now + tonumber(ARGV[6])
  if tonumber(redis.call('ZSCORE', EXPIRY, id)) < until_ms then
    redis.call('ZADD', EXPIRY, string.format('%d', until_ms), id)
  end
  return {'LIVE', now}
end
-- Before the deadline the hold can only be gone because Redis lost it: the order's claim
-- stands against other holds (hold_sell.lua takes its seats back), only a sale beats it.
local late = now >= deadline
local answer = {'LAPSED', now}
for _, item in ipairs(cjson.decode(ARGV[5])) do
  local seat = item[2]
  if seat ~= '' then
    -- The order's own lapsed hold, not yet swept, still counts as the order's.
    local holder = redis.call('HGET', SEATS, seat)
    if holder and holder ~= id and (late or holder == 'sold') then
      answer[#answer + 1] = seat
    end
  end
end
return answer
