-- Create a round's offers atomically, each only if it still fits.
-- KEYS: 1 worker_state 2 worker_offer 3 job_headcount 4 job_accepted 5 job_pending
--       6 offers 7 offer_expiry 8 offered_pairs 9 lease
-- ARGV: 1 lease token, 2 timeout ms, 3 JSON array of [offer_id, worker_id, job_id] or
--       [offer_id, worker_id, job_id, timeout_ms] for an offer with its own, shorter clock
--       (one argument: packing thousands of separate arguments costs more than the script),
--       4 the common expiry (ms) of the round's first batch, '' for the first batch itself:
--       a round's offers are gated in batches so that Redis is never blocked long (issue 13),
--       and all of them run out together all the same.
-- Returns {expires_ms, offer_id, offer_id, ...} for the offers made; expires_ms is for the
-- common timeout, an offer with its own runs out at expires_ms - ARGV[2] + its timeout.
-- The lease check is the fence: a dispatcher whose lease lapsed cannot write.
if redis.call('GET', KEYS[9]) ~= ARGV[1] then
  return redis.error_reply('fenced')
end
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local exp = now_ms + tonumber(ARGV[2])
if ARGV[4] and ARGV[4] ~= '' then exp = tonumber(ARGV[4]) end
local made = {tostring(exp)}
local items = cjson.decode(ARGV[3])
for _, item in ipairs(items) do
  local oid, w, j = item[1], item[2], item[3]
  local own_exp = exp
  if item[4] then own_exp = now_ms + tonumber(item[4]) end
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
      redis.call('HSET', KEYS[6], oid, pair .. '|' .. own_exp .. '|pending')
      redis.call('ZADD', KEYS[7], own_exp, oid)
      redis.call('SADD', KEYS[8], pair)
      made[#made + 1] = oid
    end
  end
end
return made
