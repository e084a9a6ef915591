-- An event's availability change log (prepended after inventory_keys.lua): the zset LIVE of
-- entry JSON scored by seq, the last seq given in META 'liveSeq'. Every script that changes
-- what is free, held or sold appends one entry in the same script run, so seqs are gap-free
-- and in the order of the changes: it notes each seat and type counter before changing it
-- (live_seat, live_count) and runs its body through live_run, which then appends one entry
-- with the new state of what visibly changed (nothing changed: no entry, no seq).
-- Entry: {"seq", "at" (Redis ms), "kind", "seats": {label: "free"|"held"|"sold"},
--   "seatCounts": {"held", "sold"}, "types": {type: {"held", "sold"}}}; seats/seatCounts and
--   types only when they changed. The catalog appends {"seq", "at", "kind": "sale", "sale"}.
-- A new log starts at the Redis clock in µs, so after a Redis loss the seqs of the new log are
-- past every seq the old one gave, and an old cursor reads as too old, never as current.

local live = {seats = {}, labels = {}, types = {}, names = {}, kind = nil}
-- How many entries a log keeps when META has no 'liveMax' (LIVE_LOG_MAX_ENTRIES's default).
local LIVE_MAX_DEFAULT = 10000

local function live_class(holder)
  if not holder then
    return 'free'
  end
  if holder == 'sold' then
    return 'sold'
  end
  return 'held'
end

-- Notes seat `label`'s state before the script's first change to it.
local function live_seat(label)
  if live.seats[label] == nil then
    live.seats[label] = live_class(redis.call('HGET', SEATS, label))
    live.labels[#live.labels + 1] = label
  end
end

local function live_counts(tt)
  local c = redis.call('HMGET', STOCK, tt .. ':held', tt .. ':sold')
  return tonumber(c[1]) or 0, tonumber(c[2]) or 0
end

-- Notes type `tt`'s counters before the script's first change to them.
local function live_count(tt)
  if live.types[tt] == nil then
    local held, sold = live_counts(tt)
    live.types[tt] = {held, sold}
    live.names[#live.names + 1] = tt
  end
end

-- Starts the log if it has none; returns its last seq (as a string: seqs pass 2^31).
local function live_start()
  local seq = redis.call('HGET', META, 'liveSeq')
  if not seq then
    local t = redis.call('TIME')
    seq = t[1] .. string.format('%06d', tonumber(t[2]))
    redis.call('HSET', META, 'liveSeq', seq)
  end
  return seq
end

-- Appends `entry` (a table without seq and at) and trims the log to its retention.
-- cjson prints large numbers in 14 digits, so seq is spliced in as text.
local function live_append(entry)
  live_start()
  local seq = redis.call('HINCRBY', META, 'liveSeq', 1)
  entry.at = now_ms()
  local json = '{"seq":' .. string.format('%d', seq) .. ',' .. string.sub(cjson.encode(entry), 2)
  redis.call('ZADD', LIVE, string.format('%d', seq), json)
  local max = tonumber(redis.call('HGET', META, 'liveMax')) or LIVE_MAX_DEFAULT
  redis.call('ZREMRANGEBYSCORE', LIVE, '-inf', string.format('%d', seq - max))
  return seq
end

-- Appends one entry for what the script changed, if anything visibly did.
local function live_commit()
  local entry, any = {}, false
  local seats = {}
  for _, label in ipairs(live.labels) do
    local now = live_class(redis.call('HGET', SEATS, label))
    if now ~= live.seats[label] then
      seats[label] = now
      any = true
    end
  end
  if any then
    entry.seats = seats
    local c = redis.call('HMGET', STOCK, 'seats:held', 'seats:sold')
    entry.seatCounts = {held = tonumber(c[1]) or 0, sold = tonumber(c[2]) or 0}
  end
  local types, typed = {}, false
  for _, tt in ipairs(live.names) do
    local held, sold = live_counts(tt)
    if held ~= live.types[tt][1] or sold ~= live.types[tt][2] then
      types[tt] = {held = held, sold = sold}
      typed = true
    end
  end
  if typed then
    entry.types = types
  end
  if any or typed then
    -- Only expired holds were released when the script's own change did not happen.
    entry.kind = live.kind or 'expire'
    live_append(entry)
  end
  live = {seats = {}, labels = {}, types = {}, names = {}, kind = nil}
end

-- Runs a script's body, then appends its entry.
local function live_run(body)
  local reply = body()
  live_commit()
  return reply
end

-- Announces the sale's new state (`json`: a JSON object of {paused, opensAt, closesAt}, all or
-- some of them) as an entry of kind 'sale', and keeps the merged state in META 'liveSale' for
-- the snapshot. No entry when nothing changed, or when the event has no log (no snapshot was
-- taken since Redis last lost it, so no one follows it).
local function live_sale(json)
  if redis.call('HEXISTS', META, 'liveSeq') == 0 then
    return
  end
  local new = cjson.decode(json)
  local current = redis.call('HGET', META, 'liveSale')
  local merged, changed = {}, current == false
  if current then
    merged = cjson.decode(current)
  end
  for field, value in pairs(new) do
    if merged[field] ~= value then
      merged[field] = value
      changed = true
    end
  end
  if changed then
    redis.call('HSET', META, 'liveSale', cjson.encode(merged))
    live_append({kind = 'sale', sale = new})
  end
end
