-- Starts an idempotent request, or says what happened to the earlier one with this key.
-- KEYS[1] = the record. ARGV: 1 body hash, 2 in-flight lease (ms).
-- Returns {'BEGIN'} | {'SEEN', record JSON}.
-- Record: {"state": "in_flight" | "done", "hash": ..., "status": n, "body": ...}.
local existing = redis.call('GET', KEYS[1])
if existing then
  return {'SEEN', existing}
end
redis.call('SET', KEYS[1], cjson.encode({state = 'in_flight', hash = ARGV[1]}), 'PX', ARGV[2])
return {'BEGIN'}
