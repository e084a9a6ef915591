-- A live scan in one round trip, after the gate (gate_lib.lua, which calls this as `main`):
-- checks the verifier key, claims the scan's nonce, answers a code refused by its signature or
-- expiry, a code of another event and a duplicate (from the ticket's lock), and otherwise takes
-- a pending lock for the first admission, which Rust then writes to libSQL.
-- Every answer given here is stored as the nonce's answer with its time (a retry replays it,
-- labelled `replayed` with `answeredAt`), its audit row is appended to the buffer the
-- scheduled drain moves to libSQL, and it is counted in the check-in metrics: the scan costs
-- this one command, nothing after the response.
-- KEYS: 1 the verifier key's cached record, 2 the scan's nonce, 3 the audit buffer,
--       4 the ticket's check-in lock (for a code naming no ticket: KEYS[2] again, unused),
--       5 the check-in metrics hash (then the gate's keys).
-- ARGV: 1 SHA-256 hex of the presented secret, 2 the code's refusal ('' for a genuine code),
--       3 the event the code names ('' when it names none), 4 lease of the nonce and of a
--       pending lock (ms), 5 how long an answer is replayed (ms), 6 the body head of the
--       refusal ('"reason":…,"result":…'; '' for a genuine code), 7 the head of wrong_event,
--       8 the head of already_redeemed, 9 the body's members echoing the scan, 10 the audit
--       row's members Rust knows, 11 the first-scan JSON of a pending lock, 12 when the edge
--       received the scan (ms; its latency runs to the Redis clock here), 13 the latency
--       buckets' upper bounds (ms, comma-separated) (then the gate's spec).
-- Bodies and rows are glued from these texts, never re-encoded (cjson prints numbers with 14
-- significant digits). A lock's value is 'event\nfirstScan JSON\nticket JSON | null'.
-- Returns {'NOKEY'} (not cached: Rust fills the cache and runs again) | {'BADKEY'}
--       | {'REVOKED'} | {'PENDING'} (nonce in flight) | {'REPLAY', 'answeredAt\nbody'}
--       | {'ANSWERED', result, body} | {'FREE', key's event, key's name, pending lock value}.
local cached = redis.call('GET', KEYS[1])
if not cached then
  return {'NOKEY'}
end
local decoded, key = pcall(cjson.decode, cached)
if not decoded or type(key) ~= 'table' then
  redis.call('DEL', KEYS[1])
  return {'NOKEY'}
end
-- Lua strings are interned: == compares them in constant time.
if key.missing or key.secretHash ~= ARGV[1] then
  return {'BADKEY'}
end
if key.revoked then
  return {'REVOKED'}
end

-- The nonce: GET then SET, not SET NX GET (Redis 7 only; Upstash documents 6.2).
local previous = redis.call('GET', KEYS[2])
if previous == 'pending' then
  return {'PENDING'}
end
if previous then
  return {'REPLAY', previous}
end
redis.call('SET', KEYS[2], 'pending', 'PX', ARGV[4])

-- The metrics of one answer, as `checkin::metrics::commands` counts them.
local function count(result, now)
  local elapsed = math.max(0, now - tonumber(ARGV[12]))
  local bucket = 0
  for bound in string.gmatch(ARGV[13], '%d+') do
    if elapsed <= tonumber(bound) then
      break
    end
    bucket = bucket + 1
  end
  redis.call('HINCRBY', KEYS[5], 'scan|' .. result, 1)
  redis.call('HINCRBY', KEYS[5], 'verify_bucket|' .. bucket, 1)
  redis.call('HINCRBY', KEYS[5], 'verify_sum_ms', elapsed)
  if result == 'already_redeemed' then
    redis.call('HINCRBY', KEYS[5], 'conflicts', 1)
  end
end

local function answer(result, head, ticket, first)
  local body = '{' .. head .. ',"ticket":' .. ticket .. ',"firstScan":' .. first .. ',' .. ARGV[9] .. '}'
  local t = redis.call('TIME')
  local received = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))
  -- The nonce's record: when, then the body (a replay says both).
  redis.call('SET', KEYS[2], received .. '\n' .. body, 'PX', ARGV[5])
  redis.call('RPUSH', KEYS[3], '{"event":' .. cjson.encode(key.event) .. ',"result":"' .. result
    .. '","receivedAt":' .. received .. ',' .. ARGV[10] .. ',"response":' .. cjson.encode(body) .. '}')
  count(result, tonumber(received))
  return {'ANSWERED', result, body}
end

-- A code naming another event (a pass) is wrong_event before anything else it says.
if ARGV[3] ~= '' and ARGV[3] ~= key.event then
  return answer('wrong_event', ARGV[7], 'null', 'null')
end
if ARGV[2] ~= '' then
  return answer(ARGV[2], ARGV[6], 'null', 'null')
end

local lock = redis.call('GET', KEYS[4])
if lock then
  local event, first, ticket = string.match(lock, '^([^\n]*)\n([^\n]*)\n([^\n]*)$')
  if event == key.event then
    -- A duplicate (a pending lock: another device is admitting it right now; no ticket view).
    return answer('already_redeemed', ARGV[8], ticket, first)
  elseif event then
    return answer('wrong_event', ARGV[7], 'null', 'null')
  end
  -- Not a lock value we know: libSQL decides, and the lock is rewritten after it.
end
local pending = key.event .. '\n' .. ARGV[11] .. '\nnull'
redis.call('SET', KEYS[4], pending, 'PX', ARGV[4])
return {'FREE', key.event, key.name, pending}
