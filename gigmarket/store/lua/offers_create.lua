-- Create a round's offers atomically, each only if it still fits.
-- KEYS: 1 worker_state 2 worker_offer 3 job_headcount 4 job_accepted 5 job_pending
--       6 offers 7 offer_expiry 8 offered_pairs 9 lease
-- ARGV: 1 lease token, 2 timeout ms, 3 JSON array of [offer_id, worker_id, job_id]
--       (one argument: packing thousands of separate arguments costs more than the script)
-- Returns {expires_ms, offer_id, offer_id, ...} for the offers made.
-- The lease check is the fence: a dispatcher whose lease lapsed cannot write.
if redis.call('GET', KEYS[9]) ~= ARGV[1] then
  return redis.error_reply('fenced')
end
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local exp = now_ms + tonumber(ARGV[2])
local made = {tostring(exp)}
local items = cjson.decode(ARGV[3])
for _, item in ipairs(items) do
  local oid, w, j = item[1], item[2], item[3]
  local pair = w .. '|' .. j
  if redis.call('HGET', KEYS[1], w) == 'available'
      and redis.call('HEXISTS', KEYS[2], w) == 0
      and redis.call('SISMEMBER', KEYS[8], pair) == 0 then
    local head = tonumber(redis.call('HGET', KEYS[3], j) or '0')
    local acc = tonumber(redis.call('HGET', KEYS[4], j) or '0')
    local pend = tonumber(redis.call('HGET', KEYS[5], j) or '0')
    if acc + pend < head then
      redis.call('HSET', KEYS[1], w, 'offered')
      redis.call('HSET', KEYS[2], w, oid)
      redis.call('HINCRBY', KEYS[5], j, 1)
      redis.call('HSET', KEYS[6], oid, pair .. '|' .. exp .. '|pending')
      redis.call('ZADD', KEYS[7], exp, oid)
      redis.call('SADD', KEYS[8], pair)
      made[#made + 1] = oid
    end
  end
end
return made
