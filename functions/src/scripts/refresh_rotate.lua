-- Rotates a refresh token atomically.
-- KEYS[1] = presented token (by hash), KEYS[2] = its family, KEYS[3] = the new token (by hash)
-- ARGV[1] = refresh lifetime in ms
-- Token records are `live|<wallet>` or `used|<wallet>`; families are `active` or `revoked`.
-- Presenting a token that was already rotated means it leaked: the whole family is revoked.
local family = redis.call('GET', KEYS[2])
if not family then return {'unknown'} end
if family ~= 'active' then return {'revoked'} end
local record = redis.call('GET', KEYS[1])
if not record then return {'unknown'} end
local state, wallet = string.match(record, '^(%a+)|(.+)$')
if state ~= 'live' then
  redis.call('SET', KEYS[2], 'revoked', 'PX', ARGV[1])
  return {'reused'}
end
redis.call('SET', KEYS[1], 'used|' .. wallet, 'PX', ARGV[1])
redis.call('SET', KEYS[3], 'live|' .. wallet, 'PX', ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return {'ok', wallet}
