-- After the response of a live scan that went to libSQL (a first admission, or one libSQL
-- refused), in one command: the ticket's lock, the nonce's answer, the audit row, the metrics.
-- Sent as a deferred EVAL (see Services::defer). Not gated: counts KEYS/ARGV freely.
-- KEYS: 1 the ticket's lock, 2 the scan's nonce, 3 the audit buffer, 4 the check-in metrics.
-- ARGV: 1 'confirm' (set the lock to ARGV[2]) | 'release' (delete it if it still holds
--       ARGV[2], our pending lock), 2 that value, 3 how long a confirmed lock lasts (s),
--       4 the nonce's record (`<answered at, ms>\n<body>`), 5 how long it is replayed (ms),
--       6 the audit row to buffer ('' when libSQL has it), 7 the result to count ('' for a
--       replayed answer), 8 its latency bucket, 9 its latency (ms).
if ARGV[1] == 'confirm' then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
elseif ARGV[1] == 'release' and redis.call('GET', KEYS[1]) == ARGV[2] then
  redis.call('DEL', KEYS[1])
end
redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[5])
if ARGV[6] ~= '' then
  redis.call('RPUSH', KEYS[3], ARGV[6])
end
if ARGV[7] ~= '' then
  redis.call('HINCRBY', KEYS[4], 'scan|' .. ARGV[7], 1)
  redis.call('HINCRBY', KEYS[4], 'verify_bucket|' .. ARGV[8], 1)
  redis.call('HINCRBY', KEYS[4], 'verify_sum_ms', ARGV[9])
  if ARGV[7] == 'already_redeemed' then
    redis.call('HINCRBY', KEYS[4], 'conflicts', 1)
  end
end
return 1
