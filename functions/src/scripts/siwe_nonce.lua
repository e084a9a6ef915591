-- Stores a SIWE challenge's nonce (single use, consumed by the verify).
-- KEYS[1] = the nonce key. ARGV: 1 `{address}|{chainId}`, 2 lifetime (ms).
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX')
return 'OK'
