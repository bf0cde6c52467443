-- Acquire or renew a market's round lease with a fencing token.
-- KEYS: 1 lease 2 lease counter   ARGV: 1 current token ('' to acquire) 2 ttl ms 3 owner
-- Returns the token held now, or false when another process holds the lease.
local cur = redis.call('GET', KEYS[1])
if cur and cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return cur
end
if cur then return false end
local n = redis.call('INCR', KEYS[2])
local token = tostring(n) .. ':' .. ARGV[3]
redis.call('SET', KEYS[1], token, 'PX', ARGV[2])
return token
