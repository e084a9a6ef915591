-- Releases a hold at its owner's request.
-- KEYS[9] = the hold's record key. ARGV: 1 record prefix, 2 hold id, 3 caller's wallet ('': any,
-- for the system releasing the hold of a failed or expired order).
-- Returns {'OK'} | {'NOT_FOUND'} (unknown or expired) | {'NOT_OWNER'} | {'ORDERED'}.
local id = ARGV[2]
local now = now_ms()
sweep(now, 500)
local owner = redis.call('HGET', KEYS[9], 'wallet')
if not owner then
  return {'NOT_FOUND'}
end
if is_expired(id, now) then
  release(id, now)
  return {'NOT_FOUND'}
end
if ARGV[3] ~= '' and owner ~= ARGV[3] then
  return {'NOT_OWNER'}
end
-- An order is waiting for payment on this hold: only its outcome releases it.
if ARGV[3] ~= '' and redis.call('HEXISTS', KEYS[9], 'order') == 1 then
  return {'ORDERED'}
end
live.kind = 'release'
release(id, now)
return {'OK'}
