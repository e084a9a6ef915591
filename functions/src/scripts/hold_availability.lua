-- Sweeps expired holds, then reports the counters.
-- Returns {'UNLOADED'} | {'OK', field, value, field, value, ...} (the stock hash).
if not is_loaded() then
  return {'UNLOADED'}
end
sweep(now_ms(), 1000)
local stock = redis.call('HGETALL', STOCK)
table.insert(stock, 1, 'OK')
return stock
