"""Who is connected, across web processes: absence costs no work (SPEC 11.2, issue 10).

A worker is *present* while some web process holds a live websocket of theirs. Each process
refreshes a per-socket entry in Redis (``keys.presence``) every :data:`REFRESH_S` with a
:data:`TTL_S` lease (one sweep over all its sockets, :func:`refresh`, not a task per socket:
at 10k sockets a task each cost memory and 1k Redis calls a second), and removes it when the
socket closes. A process that dies without
closing stops refreshing, and its entries run out within the TTL: a crash cannot leave a
worker "present" for longer than that, and a slow refresh cannot make a connected worker
look absent (the TTL is three refreshes). A Redis key rather than the hub's own table,
because the process that expires an offer (the dispatcher) is rarely the one holding the
worker's socket.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Final

from gigmarket.services.context import Context
from gigmarket.store import absence, workers
from gigmarket.store.ledger import new_id

log = logging.getLogger("gigmarket.presence")

#: How often a held socket refreshes its presence, and how long one refresh lasts.
REFRESH_S: Final = 10.0
TTL_S: Final = 30.0


async def returned(ctx: Context, worker_id: str) -> None:
    """A worker connected again: the jobs whose offers ran out while they were away may be
    offered to them again (SPEC 11.2), and their market runs a round at once."""
    pairs = await absence.pairs_to_restore(ctx.ledger, worker_id)
    for market_id, job_id in pairs:
        await ctx.live.allow_pair(market_id, worker_id, job_id)
    row = await workers.get(ctx.ledger, worker_id)
    if row is None or not row["market_id"] or row["state"] != "available":
        return
    if ctx.on_kick is not None:
        await ctx.on_kick(row["market_id"])
    else:
        await ctx.live.kick(row["market_id"])


async def arrive(ctx: Context, worker_id: str) -> str:
    """A socket of the worker is up: mark them present (before the socket says ``ready``, so
    nothing offered from then on can expire as "away") and ask for a round. Returns the
    socket's presence id."""
    socket_id = new_id("sock")
    await ctx.live.touch_presence(worker_id, socket_id, TTL_S)
    await returned(ctx, worker_id)
    return socket_id


#: Sockets renewed by one call during a sweep (one script on a single Redis).
REFRESH_BATCH: Final = 200


async def refresh(ctx: Context, held: list[tuple[str, str]]) -> None:
    """Renew the lease of every ``(worker_id, socket_id)`` this process holds, a batch at a
    time. A batch that fails is logged and left: the entries last three sweeps."""
    for lo in range(0, len(held), REFRESH_BATCH):
        batch = held[lo:lo + REFRESH_BATCH]
        try:
            await ctx.live.touch_presence_many(batch, TTL_S)
        except Exception as e:
            # Redis away for a moment: the entries last three refreshes; the next sweep tries.
            log.warning("could not refresh the presence of %d sockets: %r", len(batch), e)


async def leave(ctx: Context, worker_id: str, socket_id: str) -> None:
    """The socket closed: it no longer makes the worker present."""
    with contextlib.suppress(Exception):
        await ctx.live.drop_presence(worker_id, socket_id)
