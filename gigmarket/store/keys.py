"""Every Redis key and channel name, in one place.

Per-market keys carry the market id as a hash tag (``gm:{shiling}:…``) so that on Redis Cluster a
market's keys share a slot and its Lua scripts, which touch several of them, stay atomic.
"""

from __future__ import annotations

from typing import Final

#: Messages that concern no single market (every web process listens); each names its recipient.
#: A market's messages go to :func:`fanout` instead.
FANOUT: Final = "gm:fanout"
#: Published when a process revokes a session (logout, suspension): sockets close everywhere.
REVOKE: Final = "gm:revoke"
#: Published when a worker or an employer joins a market: a web process holding their socket
#: subscribes to that market's channel (issue 11). Rare: once per member and market, ever.
JOINED: Final = "gm:joined"


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
    """STRING ``N:HOST:PID``: the fencing token of the process that runs this market's rounds
    (N is numbered by the ledger, see ``store/lease_tokens.py``)."""
    return _m(market, "lease")


def built(market: str) -> str:
    """STRING set once the live pools were rebuilt from the ledger; absent = rebuild."""
    return _m(market, "built")


def fanout(market: str) -> str:
    """Channel: the market's websocket messages, each naming its recipient. Sharded on a
    Cluster (``SPUBLISH``): only the node of the market's slot carries it."""
    return _m(market, "fan")


def watched(market: str) -> str:
    """STRING with a TTL, refreshed by each web process holding a manager's socket of the
    market: the dispatcher computes the market's live figures only while it exists."""
    return _m(market, "watched")


def dispatchers() -> str:
    """ZSET of live dispatchers (``HOST:PID``) scored by when their announcement runs out (ms,
    Redis clock): how many share the markets."""
    return "gm:dispatchers"


def kick(market: str) -> str:
    """Channel: 'run a round soon' (a post or a check-in happened)."""
    return _m(market, "kick")


def presence(worker_id: str) -> str:
    """ZSET of a worker's live sockets (``process:socket`` ids) scored by when each one's
    last heartbeat runs out (ms, Redis clock); any unexpired member means connected. Not per
    market: a worker is connected or not wherever they are checked in."""
    return f"gm:presence:{worker_id}"


def rate(bucket: str, ident: str) -> str:
    return f"gm:rl:{bucket}:{ident}"


def market_keys(market: str) -> list[str]:
    """The keys a rebuild replaces (not the lease: a rebuild must not steal it)."""
    return [
        workers(market), worker_state(market), worker_offer(market), jobs(market),
        job_headcount(market), job_accepted(market), job_pending(market), offers(market),
        offer_expiry(market), offered_pairs(market), why_worker(market), why_job(market),
    ]


def pool_changes(market: str) -> str:
    """STREAM of ``{"w": id}`` / ``{"j": id}``: a worker's or job's record was written or
    removed. The dispatcher keeps its pools in memory and re-reads only these (issue 13)."""
    return _m(market, "chg")
