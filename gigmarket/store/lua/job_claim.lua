-- Claim a slot of an open job (抢单): the one atomic gate between a worker's tap and a slot.
-- KEYS: 1 worker_state 2 worker_offer 3 job_headcount 4 job_accepted 5 job_pending
--       6 offered_pairs
-- ARGV: 1 worker_id 2 job_id 3 offered_before (1: a late take of the pair's own expired
--       offer, which the caller checked in the ledger; its mark in offered_pairs is no bar)
-- Returns {'ok', full(0|1)} or {'err', code}.
-- Pending offers hold their slots: a claim takes only what neither an offer nor a hire holds.
local w, j = ARGV[1], ARGV[2]
if redis.call('HGET', KEYS[1], w) ~= 'available' then return {'err', 'not_available'} end
if redis.call('HEXISTS', KEYS[2], w) == 1 then return {'err', 'holding_offer'} end
local pair = w .. '|' .. j
if ARGV[3] ~= '1' and redis.call('SISMEMBER', KEYS[6], pair) == 1 then
  return {'err', 'excluded'}
end
local head = tonumber(redis.call('HGET', KEYS[3], j) or '0')
local acc = tonumber(redis.call('HGET', KEYS[4], j) or '0')
local pend = tonumber(redis.call('HGET', KEYS[5], j) or '0')
if acc + pend >= head then return {'err', 'job_full'} end
redis.call('HSET', KEYS[1], w, 'assigned')
redis.call('SADD', KEYS[6], pair)
acc = redis.call('HINCRBY', KEYS[4], j, 1)
local full = 0
if acc >= head then full = 1 end
return {'ok', tostring(full)}
