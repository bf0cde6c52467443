"""Fan-out: every web process listens on one Redis channel and hands each message to the
sockets it holds for that recipient.

Each socket has a bounded queue and one sender task. The sender keeps the stream gap-free and
duplicate-free by ``seq``: a message that arrives ahead of one still in flight (two processes
publishing for one recipient) makes it fetch the missing ones from the ledger first; a message
already sent is dropped. A socket that cannot keep up is closed; its client resumes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from starlette.websockets import WebSocket

from gigmarket import protocol
from gigmarket.services.context import Context, Principal
from gigmarket.store import keys

log = logging.getLogger("gigmarket.hub")

QUEUE_SIZE = 256


@dataclass(eq=False)
class Connection:
    ws: WebSocket
    principal: Principal
    recipient: str
    last_seq: int
    queue: asyncio.Queue[tuple[str, Any]] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    close_code: int | None = None

    def push(self, kind: str, item: Any) -> None:
        try:
            self.queue.put_nowait((kind, item))
        except asyncio.QueueFull:
            # Too slow: drop it rather than stall everyone; the client resumes from its seq.
            self.close(protocol.CLOSE_SLOW)

    def close(self, code: int) -> None:
        if self.close_code is None:
            self.close_code = code
        self.closed.set()


class Hub:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._by_recipient: dict[str, set[Connection]] = {}
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen())
        await asyncio.wait_for(self._subscribed.wait(), 10)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def add(self, conn: Connection) -> None:
        self._by_recipient.setdefault(conn.recipient, set()).add(conn)

    def remove(self, conn: Connection) -> None:
        conns = self._by_recipient.get(conn.recipient)
        if conns is not None:
            conns.discard(conn)
            if not conns:
                del self._by_recipient[conn.recipient]

    @property
    def connections(self) -> int:
        return sum(len(c) for c in self._by_recipient.values())

    async def _listen(self) -> None:
        while True:
            pubsub = self.ctx.live.redis.pubsub()
            try:
                await pubsub.subscribe(keys.FANOUT, keys.REVOKE)
                self._subscribed.set()
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    if message["channel"] == keys.REVOKE:
                        self._revoke(json.loads(message["data"]))
                    else:
                        self._deliver(json.loads(message["data"]))
                    # Buffered messages are read without awaiting: let sockets and HTTP in
                    # between slices of a large round.
                    await asyncio.sleep(0)
            except asyncio.CancelledError:
                raise
            except Exception:
                # Redis went away: messages published meanwhile are in the ledger; each
                # socket's next message (or the client's resume) fills the gap from there.
                log.exception("fan-out subscription failed; resubscribing")
                await asyncio.sleep(0.5)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        for item in batch:
            for conn in self._by_recipient.get(item["r"], ()):
                conn.push("eph" if item.get("e") else "msg", item["m"])

    def _revoke(self, data: dict[str, Any]) -> None:
        for conns in self._by_recipient.values():
            for conn in conns:
                if (conn.principal.token_hash == data.get("token_hash")
                        or conn.principal.user_id == data.get("user_id")):
                    conn.close(protocol.CLOSE_AUTH)
