"""Every Redis key and channel name, in one place.

Per-market keys carry the market id as a hash tag (``gm:{shiling}:…``) so that on Redis Cluster a
market's keys share a slot and its Lua scripts, which touch several of them, stay atomic.
"""

from __future__ import annotations

from typing import Final

#: All web processes listen here; each message names its recipient.
FANOUT: Final = "gm:fanout"
#: Published when a process revokes a session (logout, suspension): sockets close everywhere.
REVOKE: Final = "gm:revoke"


def _m(market: str, name: str) -> str:
    return f"gm:{{{market}}}:{name}"


def workers(market: str) -> str:
    """HASH worker id -> JSON of the worker's live record (location, skills, wage, …)."""
    return _m(market, "w")


def worker_state(market: str) -> str:
    """HASH worker id -> available | offered | assigned (absent: not checked in here)."""
    return _m(market, "ws")


def worker_offer(market: str) -> str:
    """HASH worker id -> the id of their one pending offer."""
    return _m(market, "wo")


def jobs(market: str) -> str:
    """HASH job id -> JSON of an open job's live record."""
    return _m(market, "j")


def job_headcount(market: str) -> str:
    """HASH job id -> headcount (0 once the job closes, so no new offer fits)."""
    return _m(market, "jh")


def job_accepted(market: str) -> str:
    return _m(market, "ja")


def job_pending(market: str) -> str:
    return _m(market, "jp")


def offers(market: str) -> str:
    """HASH offer id -> ``worker|job|expires_ms|state`` for pending offers."""
    return _m(market, "o")


def offer_expiry(market: str) -> str:
    """ZSET of pending offer ids scored by expiry (ms since the epoch, Redis clock)."""
    return _m(market, "oexp")


def offered_pairs(market: str) -> str:
    """SET of ``worker|job`` pairs ever offered or blocked: never offered (again)."""
    return _m(market, "x")


def why_worker(market: str) -> str:
    """HASH worker id -> reason code from the last round (why no offer now)."""
    return _m(market, "whyw")


def why_job(market: str) -> str:
    return _m(market, "whyj")


def last_round(market: str) -> str:
    """HASH of the last round's figures (for stats)."""
    return _m(market, "round")


def lease(market: str) -> str:
    """STRING: the fencing token of the process that runs this market's rounds."""
    return _m(market, "lease")


def lease_counter(market: str) -> str:
    return _m(market, "leasen")


def built(market: str) -> str:
    """STRING set once the live pools were rebuilt from the ledger; absent = rebuild."""
    return _m(market, "built")


def kick(market: str) -> str:
    """Channel: 'run a round soon' (a post or a check-in happened)."""
    return _m(market, "kick")


def rate(bucket: str, ident: str) -> str:
    return f"gm:rl:{bucket}:{ident}"


def market_keys(market: str) -> list[str]:
    """The keys a rebuild replaces (not the lease: a rebuild must not steal it)."""
    return [
        workers(market), worker_state(market), worker_offer(market), jobs(market),
        job_headcount(market), job_accepted(market), job_pending(market), offers(market),
        offer_expiry(market), offered_pairs(market), why_worker(market), why_job(market),
    ]
