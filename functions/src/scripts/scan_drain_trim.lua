-- Removes the audit rows the drain just committed to libSQL from the head of the buffer, if
-- the drain still holds its lease (else another drain took over and will commit them again:
-- the insert is idempotent, a second trim would drop rows nobody committed).
-- KEYS[1] the buffer, KEYS[2] the drain's lease, KEYS[3] the dead-letter list.
-- ARGV[1] the lease token, ARGV[2] how many rows to remove, ARGV[3..] rows that could not be
-- read (kept in the dead-letter list for an operator).
-- Returns 1 when trimmed, 0 when the lease was lost.
if redis.call('GET', KEYS[2]) ~= ARGV[1] then
  return 0
end
redis.call('LTRIM', KEYS[1], tonumber(ARGV[2]), -1)
for i = 3, #ARGV do
  redis.call('RPUSH', KEYS[3], ARGV[i])
end
return 1
