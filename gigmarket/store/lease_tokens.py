"""Fencing tokens for the round leases, counted in the ledger (issue 8).

The lease itself lives in Redis, but its token must never repeat, not even after Redis loses its
data (FLUSHALL, a restarted empty server): a stalled dispatcher holding token 7 must never find
a successor's lease also numbered 7, or the Lua gates could not tell them apart. The ledger is
the one store that survives both, so each new lease takes its number here, in a transaction.
"""

from __future__ import annotations

from gigmarket.store.ledger import Ledger


async def next_token(ledger: Ledger, market_id: str) -> int:
    """A lease number for ``market_id`` that no lease of it has had before."""
    async with ledger.transaction() as tx:
        row = await tx.one(
            "INSERT INTO lease_tokens (market_id, last) VALUES (?, 1)"
            " ON CONFLICT (market_id) DO UPDATE SET last = lease_tokens.last + 1"
            " RETURNING last",
            (market_id,),
        )
    assert row is not None
    return int(row[0])


async def last_token(ledger: Ledger, market_id: str) -> int:
    row = await ledger.one("SELECT last FROM lease_tokens WHERE market_id = ?", (market_id,))
    return int(row[0]) if row else 0
