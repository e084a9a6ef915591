-- Builds an event's inventory from libSQL's sold state plus the live holds (the first time a
-- script finds it unloaded). Reconciling a loaded inventory is `inventory_reconcile.lua`.
-- ARGV: 1 record prefix, 2 mode (always 'load'), 3 the meta version read before libSQL was
--       read, 4 the sold state JSON (see inventory_state.lua), 5 how many change-log entries
--       to keep (LIVE_LOG_MAX_ENTRIES).
-- Starts the change log (live_lib.lua) if Redis has none: a loaded inventory always has a seq.
-- Returns {'LOADED'} | {'ALREADY'} (someone loaded first)
--       | {'STALE'} (a sale or refund happened since libSQL was read: read again).
if is_loaded() then
  return {'ALREADY'}
end
if (redis.call('HGET', META, 'version') or '0') ~= ARGV[3] then
  return {'STALE'}
end
local now = now_ms()
-- Bounded like every sweep: an expired hold left for later still counts as held until a later
-- sweep releases it, which keeps the counters consistent.
sweep(now, 1000)
local seats, stock, wallets = desired_state(cjson.decode(ARGV[4]))
redis.call('DEL', SEATS, STOCK, WALLETS)
for label, value in pairs(seats) do
  redis.call('HSET', SEATS, label, value)
end
for field, value in pairs(stock) do
  redis.call('HSET', STOCK, field, value)
end
for field, value in pairs(wallets) do
  redis.call('HSET', WALLETS, field, value)
end
redis.call('HSET', META, 'loadedAt', string.format('%d', now), 'liveMax', ARGV[5])
live_start()
return {'LOADED'}
