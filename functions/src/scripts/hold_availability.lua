-- Sweeps expired holds, then reads what the availability snapshot reports, with the seq of
-- the change log it reflects (live_lib.lua): applying every entry after that seq gives the
-- state of any later snapshot.
-- Returns {'UNLOADED'} | {'OK', seq, Redis ms, stock JSON [field, value, ...],
--          seat states JSON {label: 'held' | 'sold'} (free seats are absent),
--          the sale as the log last announced it (META 'liveSale' JSON, or '')}.
if not is_loaded() then
  return {'UNLOADED'}
end
local now = now_ms()
sweep(now, 1000)
-- The sweep's entry is appended first, so the seq read below includes it.
live_commit()
local states = {}
local flat = redis.call('HGETALL', SEATS)
for i = 1, #flat, 2 do
  states[flat[i]] = live_class(flat[i + 1])
end
local stock = redis.call('HGETALL', STOCK)
local seats = '{}'
if #flat > 0 then
  seats = cjson.encode(states)
end
local stock_json = '[]'
if #stock > 0 then
  stock_json = cjson.encode(stock)
end
return {'OK', live_start(), string.format('%d', now), stock_json, seats,
  redis.call('HGET', META, 'liveSale') or ''}
