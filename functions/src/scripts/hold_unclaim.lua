-- Undoes the claim of order_place.lua after the order could not be written: the hold keeps its own expiry.
-- KEYS[9] = the hold's record key. ARGV: 1 record prefix, 2 hold id, 3 order id.
-- Returns {'OK'} | {'NOT_CLAIMED'}.
local id = ARGV[2]
local record = redis.call('HMGET', KEYS[9], 'order', 'previousExpiresAt')
if record[1] ~= ARGV[3] then
  return {'NOT_CLAIMED'}
end
redis.call('HDEL', KEYS[9], 'order', 'previousExpiresAt')
redis.call('HSET', KEYS[9], 'expiresAt', record[2])
redis.call('ZADD', EXPIRY, record[2], id)
return {'OK'}
