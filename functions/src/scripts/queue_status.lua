-- What a queue status poll needs from Redis: the sale's settings and, once the pre-start draw
-- is fixed, the wallet's place in it.
-- KEYS: 1 pre (zset of pre-start arrivals), 2 catalog snapshot, 3 global catalog epoch
--       (then the gate's keys).
-- ARGV: 1 wallet, 2 '1' to read the wallet's rank (then the gate's spec).
-- Returns {'OK', sale JSON, rank or -1} | {'NOCATALOG'} | {'NO_WAITING_ROOM'}.
local cat = catalog_get(KEYS[2], KEYS[3])
if not cat then
  return {'NOCATALOG'}
end
if not cat.sale.configured or not cat.sale.waitingRoom then
  return {'NO_WAITING_ROOM'}
end
local rank = -1
if ARGV[2] == '1' then
  rank = redis.call('ZRANK', KEYS[1], ARGV[1]) or -1
end
return {'OK', cat.sale_raw, rank}
