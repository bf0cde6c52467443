-- Accept a pending offer: the one atomic gate between a worker's tap and a slot.
-- KEYS: 1 offers 2 offer_expiry 3 worker_state 4 worker_offer 5 job_headcount
--       6 job_accepted 7 job_pending
-- ARGV: 1 offer_id 2 worker_id
-- Returns {'ok', job_id, expires_ms, full(0|1)} or {'err', code}.
local rec = redis.call('HGET', KEYS[1], ARGV[1])
if not rec then return {'err', 'not_found'} end
local w, j, exp, state = string.match(rec, '^([^|]*)|([^|]*)|([^|]*)|([^|]*)$')
if w ~= ARGV[2] then return {'err', 'not_yours'} end
if state ~= 'pending' then return {'err', 'offer_' .. state} end
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
-- No accept is honoured after expiry, even if the sweeper has not run yet.
if now_ms >= tonumber(exp) then return {'err', 'offer_expired'} end
local head = tonumber(redis.call('HGET', KEYS[5], j) or '0')
local acc = tonumber(redis.call('HGET', KEYS[6], j) or '0')
if acc + 1 > head then return {'err', 'job_full'} end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[3], w, 'assigned')
redis.call('HDEL', KEYS[4], w)
redis.call('HINCRBY', KEYS[7], j, -1)
acc = redis.call('HINCRBY', KEYS[6], j, 1)
local full = 0
if acc >= head then full = 1 end
return {'ok', j, exp, tostring(full)}
