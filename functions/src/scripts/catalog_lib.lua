-- What a hot sale script needs to know about an event, read from the catalog snapshot that
-- lives in Redis next to the inventory (written by `catalog_load.lua` from libSQL, deleted by
-- every catalog, sale-settings or pause change, so the next request reloads it).
-- Snapshot hash: epoch (the global catalog epoch it was built at; a global pause bumps the
-- epoch), status, types (JSON {type: {price, currency, supply, limit, seated, opensAt,
-- closesAt}}), sale (JSON {configured, startsAt, endsAt, waitingRoom, holdTtlMs, walletLimit,
-- paymentWindowMs, opensAt, closesAt}; an event without sale settings has configured =
-- false, no settings window and the default TTLs), paused ('' | '*' | the event id).
-- opensAt/closesAt (ms, [opens, closes)) are the windows that apply, already intersected in
-- Rust (functions/src/sale/window.rs): the sale's is the event's sale window within the
-- settings' window; a type's is its own window within the sale's.

-- The snapshot, or nil when it is missing or older than the global epoch.
local function catalog_get(snap_key, epoch_key)
  local f = redis.call('HMGET', snap_key, 'epoch', 'status', 'types', 'sale', 'paused')
  if not f[2] then
    return nil
  end
  if f[1] ~= (redis.call('GET', epoch_key) or '0') then
    return nil
  end
  return {status = f[2], types = cjson.decode(f[3]), sale = cjson.decode(f[4]), sale_raw = f[4],
    paused = f[5] or ''}
end

-- {'NOT_STARTED', opensAt} | {'ENDED'} when `now` is outside `w`'s [opensAt, closesAt), or
-- nil. A snapshot written before the windows were added has only the settings' bounds.
local function window_refusal(w, now)
  local opens = tonumber(w.opensAt) or (w.configured and tonumber(w.startsAt)) or 0
  local closes = tonumber(w.closesAt) or (w.configured and tonumber(w.endsAt))
  if now < opens then
    return {'NOT_STARTED', string.format('%d', opens)}
  end
  if closes and now >= closes then
    return {'ENDED'}
  end
  return nil
end

-- Why the event cannot be sold from at `now`, as a reply, or nil when it can. `admitted`:
-- the request carries a valid admission token for this event and wallet. `offer`: buying a
-- waitlist offer, which is its own admission and may come after the sale's end.
local function sale_refusal(cat, now, admitted, offer)
  if cat.status == 'cancelled' then
    return {'CANCELLED'}
  end
  if cat.status ~= 'published' then
    return {'NO_EVENT'}
  end
  if cat.paused ~= '' then
    return {'PAUSED', cat.paused}
  end
  local sale = cat.sale
  if offer then
    return nil
  end
  local refusal = window_refusal(sale, now)
  if refusal then
    return refusal
  end
  if sale.configured and sale.waitingRoom and not admitted then
    return {'ADMISSION'}
  end
  return nil
end

-- Why ticket type `tt` (a known type of the snapshot) cannot be sold at `now`, or nil. The
-- sale as a whole was checked by sale_refusal; a type may open later or close earlier.
local function type_refusal(cat, tt, now)
  local info = cat.types[tt]
  if not info then
    return nil
  end
  return window_refusal(info, now)
end

-- Decimal arithmetic on non-negative integer strings (prices are wei or minor units and may
-- exceed 2^53, which Lua numbers cannot hold exactly).
local function dec_add(a, b)
  local out, carry = {}, 0
  local i, j = #a, #b
  while i > 0 or j > 0 or carry > 0 do
    local s = carry
    if i > 0 then s = s + string.byte(a, i) - 48 end
    if j > 0 then s = s + string.byte(b, j) - 48 end
    out[#out + 1] = string.char(48 + s % 10)
    carry = math.floor(s / 10)
    i, j = i - 1, j - 1
  end
  local text = string.reverse(table.concat(out)):gsub('^0+', '')
  if text == '' then return '0' end
  return text
end

local function dec_mul(a, n)
  local total = '0'
  for _ = 1, n do
    total = dec_add(total, a)
  end
  return total
end
