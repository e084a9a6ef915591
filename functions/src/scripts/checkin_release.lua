-- Deletes a check-in lock only if it still holds this scan's value (compare-and-delete), so a
-- failed write gives the ticket back without removing somebody else's admission.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
