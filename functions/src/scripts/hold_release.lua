-- Releases a hold at its owner's request.
-- KEYS[6] = the hold's record key. ARGV: 1 record prefix, 2 hold id, 3 caller's wallet.
-- Returns {'OK'} | {'NOT_FOUND'} (unknown or expired) | {'NOT_OWNER'}.
local id = ARGV[2]
local now = now_ms()
sweep(now, 500)
local owner = redis.call('HGET', KEYS[6], 'wallet')
if not owner then
  return {'NOT_FOUND'}
end
if is_expired(id, now) then
  release(id)
  return {'NOT_FOUND'}
end
if owner ~= ARGV[3] then
  return {'NOT_OWNER'}
end
release(id)
return {'OK'}
