-- Close a pending offer without a hire: declined, expired or withdrawn.
-- KEYS: 1 offers 2 offer_expiry 3 worker_state 4 worker_offer 5 job_pending
-- ARGV: 1 offer_id 2 worker_id ('' = any) 3 only_if_expired ('1' | '0')
-- Returns {'ok', worker_id, job_id} or {'err', code}.
local rec = redis.call('HGET', KEYS[1], ARGV[1])
if not rec then return {'err', 'not_found'} end
local w, j, exp, state = string.match(rec, '^([^|]*)|([^|]*)|([^|]*)|([^|]*)$')
if ARGV[2] ~= '' and w ~= ARGV[2] then return {'err', 'not_yours'} end
if state ~= 'pending' then return {'err', 'offer_' .. state} end
if ARGV[3] == '1' then
  local t = redis.call('TIME')
  local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  if now_ms < tonumber(exp) then return {'err', 'not_expired'} end
end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HINCRBY', KEYS[5], j, -1)
-- Back to the pool, unless the worker meanwhile checked out or was assigned elsewhere.
if redis.call('HGET', KEYS[4], w) == ARGV[1] then
  redis.call('HDEL', KEYS[4], w)
  if redis.call('HGET', KEYS[3], w) == 'offered' then
    redis.call('HSET', KEYS[3], w, 'available')
  end
end
return {'ok', w, j}
