-- Reconciles one event's inventory with libSQL's sold state (loading it if Redis lost it) and
-- reports what differed. Bounded per call: at most ARGV[4] expired holds are swept, and the
-- seats, stock and wallets hashes are patched field by field, so a reconcile that finds no
-- drift writes nothing to them. What remains proportional is reading this one event's
-- hashes and live holds.
-- ARGV: 1 record prefix, 2 the meta version read before libSQL was read, 3 the sold state
--       JSON (see inventory_state.lua), 4 how many expired holds to sweep at most.
-- The change log keeps the retention its load set (hold_load.lua; the default otherwise).
-- What it corrects is one change-log entry of kind 'reconcile' (live_lib.lua).
-- Returns {'STALE'} (a sale or refund happened since libSQL was read: read again)
--       | {'RECONCILED', JSON {"seats": [[label, before, after], ...],
--                            "stock": [[field, before, after], ...]}, holds swept}.
if (redis.call('HGET', META, 'version') or '0') ~= ARGV[2] then
  return {'STALE'}
end
local now = now_ms()
local swept = sweep(now, tonumber(ARGV[4]))
local seats, stock, wallets = desired_state(cjson.decode(ARGV[3]))
-- The expired holds the sweep released are their own entry; the corrections are the next.
live_commit()
live.kind = 'reconcile'
-- Notes, with `note`, every field the patch below may write: those wanted and those there.
local function note_fields(want, key, note)
  for field in pairs(want) do
    note(field)
  end
  for _, field in ipairs(redis.call('HKEYS', key)) do
    note(field)
  end
end
note_fields(seats, SEATS, live_seat)
note_fields(stock, STOCK, function(field)
  local tt = string.match(field, '^(.*):[a-z]+$')
  if tt and tt ~= 'seats' then
    live_count(tt)
  end
end)

-- Makes hash `key` equal to `want`; calls `changed(field, before or nil, after or nil)` for
-- every field it had to write.
local function patch(key, want, changed)
  local have = {}
  local flat = redis.call('HGETALL', key)
  for i = 1, #flat, 2 do
    have[flat[i]] = flat[i + 1]
  end
  for field, before in pairs(have) do
    local after = want[field]
    if after == nil then
      redis.call('HDEL', key, field)
      changed(field, before, nil)
    elseif tostring(after) ~= before then
      redis.call('HSET', key, field, after)
      changed(field, before, tostring(after))
    end
  end
  for field, after in pairs(want) do
    if have[field] == nil then
      redis.call('HSET', key, field, after)
      changed(field, nil, tostring(after))
    end
  end
end

local diff = {seats = {}, stock = {}}
-- A seat moving between two holds is bookkeeping; drift is a seat gained, lost or sold.
patch(SEATS, seats, function(label, before, after)
  if before == nil or after == nil or (before == 'sold') ~= (after == 'sold') then
    diff.seats[#diff.seats + 1] = {label, before or 'free', after or 'free'}
  end
end)
patch(STOCK, stock, function(field, before, after)
  local b, a = tonumber(before) or 0, tonumber(after) or 0
  if b ~= a then
    diff.stock[#diff.stock + 1] = {field, b, a}
  end
end)
patch(WALLETS, wallets, function() end)
if not is_loaded() then
  redis.call('HSET', META, 'loadedAt', string.format('%d', now))
end
live_start()
if #diff.seats == 0 then diff.seats = cjson.decode('[]') end
if #diff.stock == 0 then diff.stock = cjson.decode('[]') end
return {'RECONCILED', cjson.encode(diff), swept}
