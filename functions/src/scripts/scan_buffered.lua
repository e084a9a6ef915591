-- The audit rows of one event still waiting in the scan buffer (for the event's stats).
-- KEYS[1] the buffer (a list of JSON rows, each starting with {"event":"<id>",).
-- ARGV[1] that prefix for the event; ARGV[2] how many rows of the buffer to look at, at most.
-- Returns the event's rows, oldest first.
local rows = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)
local prefix, mine = ARGV[1], {}
local n = string.len(prefix)
for _, row in ipairs(rows) do
  if string.sub(row, 1, n) == prefix then
    mine[#mine + 1] = row
  end
end
return mine
