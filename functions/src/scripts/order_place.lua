-- Everything Redis does for `POST /v1/orders`, in one call: the idempotency key, the sale's
-- rules (catalog snapshot) and the claim of the hold (attach the order, keep the hold until
-- the payment deadline).
-- The hold record names the event; its inventory and catalog keys are derived here from the
-- key prefix (one Redis shard, as Upstash runs a database, so undeclared keys are reachable;
-- the hash tag keeps them in the event's slot should that change).
-- KEYS: 1 the hold's record, 2 the idempotency record, 3 the global catalog epoch (then the
--       gate's keys).
-- ARGV: 1 record prefix, 2 hold id, 3 wallet, 4 order id, 5 key prefix, 6 request body hash,
--       7 idempotency lease (ms), 8 the event of the caller's valid admission token or ''
--       (then the gate's spec).
-- Returns {'SEEN', idempotency record} | {'NOT_FOUND'} | {'NOT_OWNER'} | {'ORDERED', other}
--       | {'NOCATALOG', event} | {'UNLOADED', event} | a sale refusal, of the sale or of a
--       type of the hold outside its own window (catalog_lib.lua)
--       | {'OK', event, items JSON, snapshot JSON, offer ('' or TTL), previous expiresAt,
--          payment deadline}.
-- Claiming again for the same order is a no-op that answers OK (a request retried after its
-- idempotency record was forgotten).
-- The body runs through live_run (live_lib.lua): what it changes is one change-log entry.
local function place_order()
  local id, wallet, order, prefix = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
  local seen = redis.call('GET', KEYS[2])
  if seen then
    return {'SEEN', seen}
  end
  local record = redis.call('HMGET', KEYS[1], 'wallet', 'items', 'snapshot', 'offer', 'expiresAt', 'order',
    'previousExpiresAt', 'event')
  if not record[1] then
    return {'NOT_FOUND'}
  end
  local event = record[8]
  local cat = catalog_get(prefix .. 'cat:{' .. event .. '}:snap', KEYS[3])
  if not cat then
    return {'NOCATALOG', event}
  end
  use_inventory(prefix, event)
  if not is_loaded() then
    return {'UNLOADED', event}
  end
  local now = now_ms()
  sweep(now, 500)
  if record[1] ~= wallet then
    return {'NOT_OWNER'}
  end
  if record[6] and record[6] ~= order then
    return {'ORDERED', record[6]}
  end
  local offer = record[4]
  local refusal = sale_refusal(cat, now, ARGV[8] == event, offer ~= nil)
  if refusal then
    return refusal
  end
  -- A hold taken before its type closed is not an order placed in time. (A waitlist offer is
  -- its own admission, as above; a payment for an order placed in time is honoured after the
  -- end: hold_sell.lua checks no window.)
  if not offer then
    for _, item in ipairs(cjson.decode(record[2])) do
      refusal = type_refusal(cat, item[1], now)
      if refusal then
        return refusal
      end
    end
  end
  local deadline = now + tonumber(cat.sale.paymentWindowMs)
  if not record[6] then
    if is_expired(id, now) then
      release(id, now)
      return {'NOT_FOUND'}
    end
    deadline = math.max(deadline, tonumber(record[5]))
    redis.call('HSET', KEYS[1], 'order', order, 'previousExpiresAt', record[5],
      'expiresAt', string.format('%d', deadline))
    redis.call('ZADD', EXPIRY, string.format('%d', deadline), id)
    redis.call('PEXPIREAT', KEYS[1], string.format('%d', deadline + 86400000))
    record[7] = record[5]
  else
    deadline = tonumber(record[5])
  end
  redis.call('SET', KEYS[2], cjson.encode({state = 'in_flight', hash = ARGV[6]}), 'PX', ARGV[7])
  return {'OK', event, record[2], record[3], offer or '', record[7] or record[5],
    string.format('%d', deadline)}
end

return live_run(place_order)
