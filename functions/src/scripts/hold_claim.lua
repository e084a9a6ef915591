-- Attaches an order to a hold and keeps the hold until the order's payment deadline.
-- KEYS[9] = the hold's record key. ARGV: 1 record prefix, 2 hold id, 3 wallet, 4 order id,
-- 5 payment deadline (ms).
-- Returns {'OK', items JSON, snapshot JSON, offer ('' or TTL), previous expiresAt}
--       | {'NOT_FOUND'} | {'NOT_OWNER'} | {'ORDERED', other order id}.
-- Claiming again for the same order is a no-op that answers OK (a retried request).
local id, order = ARGV[2], ARGV[4]
local now = now_ms()
sweep(now, 500)
local record = redis.call('HMGET', KEYS[9], 'wallet', 'items', 'snapshot', 'offer', 'expiresAt', 'order',
  'previousExpiresAt')
if not record[1] then
  return {'NOT_FOUND'}
end
if record[1] ~= ARGV[3] then
  return {'NOT_OWNER'}
end
if record[6] and record[6] ~= order then
  return {'ORDERED', record[6]}
end
if not record[6] then
  if is_expired(id, now) then
    release(id, now)
    return {'NOT_FOUND'}
  end
  local deadline = math.max(tonumber(ARGV[5]), tonumber(record[5]))
  redis.call('HSET', KEYS[9], 'order', order, 'previousExpiresAt', record[5],
    'expiresAt', string.format('%d', deadline))
  redis.call('ZADD', EXPIRY, string.format('%d', deadline), id)
  redis.call('PEXPIREAT', KEYS[9], string.format('%d', deadline + 86400000))
  record[7] = record[5]
end
return {'OK', record[2], record[3], record[4] or '', record[7] or record[5]}
