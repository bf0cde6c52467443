-- Acquire or renew a market's round lease with a fencing token.
-- KEYS: 1 lease   ARGV: 1 current token ('' to acquire) 2 ttl ms 3 owner
--                       4 a fresh number from the ledger ('' when the caller has none yet)
-- Returns the token held now; 'free' when the lease is free but no fresh number was given
-- (the caller takes one from the ledger and asks again); false when another process holds it.
-- The numbers come from the ledger, not from a Redis counter, so that they never repeat even
-- after Redis loses its data (issue 8).
local cur = redis.call('GET', KEYS[1])
if cur and cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return cur
end
if cur then return false end
if ARGV[4] == '' then return 'free' end
local token = ARGV[4] .. ':' .. ARGV[3]
redis.call('SET', KEYS[1], token, 'PX', ARGV[2])
return token
