-- What a hot sale script needs to know about an event, read from the catalog snapshot that
-- lives in Redis next to the inventory (written by `catalog_load.lua` from libSQL, deleted by
-- every catalog, sale-settings or pause change, so the next request reloads it).
-- Snapshot hash: epoch (the global catalog epoch it was built at; a global pause bumps the
-- epoch), status, types (JSON {type: {price, currency, supply, limit, seated}}), sale (JSON
-- {configured, startsAt, endsAt, waitingRoom, holdTtlMs, walletLimit, paymentWindowMs}; an
-- event without sale settings has configured = false, no window and the default TTLs),
-- paused ('' | '*' | the event id).

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
  if sale.configured then
    if offer then
      return nil
    end
    if now < tonumber(sale.startsAt) then
      return {'NOT_STARTED', string.format('%d', sale.startsAt)}
    end
    if now >= tonumber(sale.endsAt) then
      return {'ENDED'}
    end
    if sale.waitingRoom and not admitted then
      return {'ADMISSION'}
    end
  end
  return nil
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
