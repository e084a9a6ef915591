-- The first step of a live scan, in one round trip:
--   KEYS[1] the scan's nonce key, KEYS[2] (for a genuine code) the ticket's check-in lock;
--   ARGV[1] nonce lease (ms).
-- Claims the nonce unless a scan with it already ran (then returns what that scan left), and
-- peeks at the lock, so a duplicate at the door is answered without reading libSQL.
local previous = redis.call('SET', KEYS[1], 'pending', 'NX', 'GET', 'PX', ARGV[1])
if previous then
  return {'nonce', previous}
end
if KEYS[2] then
  local lock = redis.call('GET', KEYS[2])
  if lock then
    return {'locked', lock}
  end
end
return {'free'}
