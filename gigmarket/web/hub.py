"""Fan-out: a web process subscribes to the channels of the markets its sockets belong to
(issue 11), and hands each message to the sockets it holds for that recipient.

A socket belongs to markets: a manager's to the market it watches, a worker's or an employer's
to each market they belong to (SPEC 11.3). The first socket of a market subscribes the process
to that market's channel, the last one to leave unsubscribes it. A member who joins a market
while connected is announced on ``keys.JOINED``; their sockets then subscribe to it and catch up
from the ledger, which stays the replay log.

Each socket has a bounded queue and one sender task. The sender keeps the stream gap-free and
duplicate-free by ``seq``: a message that arrives ahead of one still in flight (two processes
publishing for one recipient) makes it fetch the missing ones from the ledger first; a message
already sent is dropped. A socket that cannot keep up is closed; its client resumes.

A message is encoded once per fan-out, whatever the number of sockets it goes to (issue 13).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.websockets import WebSocket

from gigmarket import codec, collector, protocol
from gigmarket.cancellation import raise_if_cancelled
from gigmarket.services import presence
from gigmarket.services.context import Context, Principal
from gigmarket.store import keys
from gigmarket.store.channels import Feed

log = logging.getLogger("gigmarket.hub")

QUEUE_SIZE = 256
#: A manager's market is "watched" this long after each refresh: the dispatcher computes its
#: live figures only then (issue 11). Refreshed every WATCH_REFRESH_S while a socket is up.
WATCH_TTL_S = 5.0
WATCH_REFRESH_S = 2.0


@dataclass(eq=False)
class Connection:
    ws: WebSocket
    principal: Principal
    recipient: str
    last_seq: int
    #: The markets whose channels carry this socket's messages.
    markets: set[str] = field(default_factory=set)
    #: What waits to be sent, in order. A plain deque and no task while idle: at 10k idle
    #: sockets a queue and a waiting sender each are memory (issue 13); ``wake`` starts a
    #: sender when something arrives, and it ends when this is empty.
    pending: collections.deque[tuple[str, Any]] = field(default_factory=collections.deque)
    #: Set once the socket is to close: by the hub, a failed send or the receive loop.
    closing: bool = False
    #: Ends the socket's receive loop (the endpoint sets it to cancel itself while it reads).
    on_close: Callable[[], object] | None = None
    close_code: int | None = None
    #: A worker's socket id in the presence set (``services.presence``), refreshed by the hub.
    presence: str | None = None
    #: Called after each push (the socket's endpoint sets it).
    wake: Callable[[], None] | None = None

    def push(self, kind: str, item: Any) -> None:
        if len(self.pending) >= QUEUE_SIZE:
            # Too slow: drop it rather than stall everyone; the client resumes from its seq.
            self.close(protocol.CLOSE_SLOW)
            return
        self.pending.append((kind, item))
        if self.wake is not None:
            self.wake()

    def close(self, code: int | None = None) -> None:
        if self.close_code is None:
            self.close_code = code
        if not self.closing:
            self.closing = True
            if self.on_close is not None:
                self.on_close()


class Hub:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._by_recipient: dict[str, set[Connection]] = {}
        #: Sockets per market held here: a market's channel is subscribed while above zero.
        self._market_sockets: collections.Counter[str] = collections.Counter()
        self.feed = Feed(ctx.live, self._on_message, self._catch_up,
                         broadcast=(keys.FANOUT, keys.REVOKE, keys.JOINED))
        self._watching: asyncio.Task[None] | None = None
        self._presence: asyncio.Task[None] | None = None
        self._joins: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        await self.feed.start()
        self._watching = asyncio.create_task(self._keep_watched())
        self._presence = asyncio.create_task(self._keep_present())

    async def aclose(self) -> None:
        for task in (self._watching, self._presence):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.feed.aclose()

    async def _keep_present(self) -> None:
        """Renew the presence of every worker socket held here, one sweep per refresh."""
        while True:
            raise_if_cancelled()
            await asyncio.sleep(presence.REFRESH_S)
            held = [(c.principal.user_id, c.presence) for conns in self._by_recipient.values()
                    for c in conns if c.presence is not None]
            await presence.refresh(self.ctx, held)

    async def add(self, conn: Connection) -> None:
        """Hold ``conn``; subscribe to the markets it is the first socket of."""
        collector.socket_opened()
        self._by_recipient.setdefault(conn.recipient, set()).add(conn)
        if conn.recipient.startswith("market:"):
            # Figures from the dispatcher's next turn, not after the next refresh.
            with contextlib.suppress(Exception):
                await self.ctx.live.mark_watched(sorted(conn.markets), WATCH_TTL_S)
        if await self._enter(conn, set(conn.markets)):
            # Published between the ledger read that gave conn its seq and the subscription:
            # in the ledger, so replayed now rather than at the recipient's next message.
            conn.push("catch_up", None)

    async def remove(self, conn: Connection) -> None:
        collector.socket_closed()
        conns = self._by_recipient.get(conn.recipient)
        if conns is not None:
            conns.discard(conn)
            if not conns:
                del self._by_recipient[conn.recipient]
        left = []
        for market in conn.markets:
            self._market_sockets[market] -= 1
            if self._market_sockets[market] <= 0:
                del self._market_sockets[market]
                left.append(keys.fanout(market))
        if left:
            await self.feed.remove(*left)

    async def _enter(self, conn: Connection, markets: set[str]) -> bool:
        """Count ``conn`` in ``markets``; True when that subscribed the process to any."""
        new = [m for m in markets if self._market_sockets[m] == 0]
        for market in markets:
            self._market_sockets[market] += 1
        if new:
            await self.feed.add(*[keys.fanout(m) for m in new])
        return bool(new)

    @property
    def connections(self) -> int:
        return sum(len(c) for c in self._by_recipient.values())

    @property
    def markets(self) -> set[str]:
        """The markets this process is subscribed to now (those of the sockets it holds)."""
        return set(self._market_sockets)

    def _on_message(self, channel: str, data: str) -> None:
        if channel == keys.REVOKE:
            self._revoke(codec.loads(data))
        elif channel == keys.JOINED:
            notice = codec.loads(data)
            if notice.get("r") in self._by_recipient:
                task = asyncio.create_task(self._join(str(notice["r"]), str(notice["m"])))
                self._joins.add(task)
                task.add_done_callback(self._joins.discard)
        else:
            self._deliver(codec.loads(data))

    async def _join(self, recipient: str, market: str) -> None:
        """A member of ours joined ``market``: its channel now carries their messages."""
        for conn in list(self._by_recipient.get(recipient, ())):
            if market in conn.markets:
                continue
            conn.markets.add(market)
            await self._enter(conn, {market})
            # Whatever the market sent them before we were subscribed is in the ledger.
            conn.push("catch_up", None)

    def _catch_up(self) -> None:
        """After a gap in a subscription, each socket replays what it missed from the
        ledger (or gets a snapshot), without waiting for its recipient's next message."""
        for conns in self._by_recipient.values():
            for conn in conns:
                conn.push("catch_up", None)

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        for item in batch:
            conns = self._by_recipient.get(item["r"])
            if not conns:
                continue
            body = item["m"]
            if item.get("e"):
                for conn in conns:  # figures: stamped with each socket's own seq
                    conn.push("eph", body)
                continue
            # Encoded once here, whatever the number of sockets it goes to (issue 13).
            wire = (body, codec.dumps(body))
            for conn in conns:
                conn.push("msg", wire)

    def _revoke(self, data: dict[str, Any]) -> None:
        for conns in self._by_recipient.values():
            for conn in conns:
                if (conn.principal.token_hash == data.get("token_hash")
                        or conn.principal.user_id == data.get("user_id")):
                    conn.close(protocol.CLOSE_AUTH)

    def watched(self) -> list[str]:
        """Markets a manager watches through this process."""
        return sorted({conn.recipient.split(":", 1)[1]
                       for r, conns in self._by_recipient.items() if r.startswith("market:")
                       for conn in conns})

    async def _keep_watched(self) -> None:
        while True:
            raise_if_cancelled()
            try:
                await self.ctx.live.mark_watched(self.watched(), WATCH_TTL_S)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # Redis away: the figures pause, nothing else does
                log.debug("watched markets not refreshed (%r)", e)
            await asyncio.sleep(WATCH_REFRESH_S)
