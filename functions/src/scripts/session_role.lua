-- A wallet's role changed: its live sessions accept only tokens carrying the new role.
-- KEYS: the sessions' state keys. ARGV: 1 the new state ('active|<role>'), then each key's
-- remaining lifetime (ms). A key already 'revoked' stays so (a logout that raced the role
-- change wins); a missing one is written, since libSQL just said the session is live.
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) ~= 'revoked' then
    redis.call('SET', key, ARGV[1], 'PX', ARGV[i + 1])
  end
end
return #KEYS
