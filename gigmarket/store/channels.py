"""Subscriptions to the per-market channels (issue 11: fan-out per market).

A :class:`Feed` holds the market channels a process needs right now (a web process: the markets
of the sockets it holds; a dispatcher: the kicks of its markets) plus a few broadcast channels
that every process hears (revocations, membership notices, messages of no single market).

- On one Redis, all of them ride one pub/sub connection with plain ``SUBSCRIBE``.
- On a Redis Cluster, a market channel carries the market's ``{hash tag}``, so ``SSUBSCRIBE``
  reads it from the node that owns the market's slot and a publish reaches that node only
  (a plain ``PUBLISH`` is copied to every node of the cluster). The Feed keeps one connection
  per node that owns a subscribed market, and one more for the broadcast channels.

redis-py reconnects a dropped pub/sub connection and resubscribes it to exactly its channels by
itself; the Feed calls ``on_gap`` then, and also after it had to rebuild a connection, because
messages published meanwhile are lost (the ledger has them: the caller catches up from there).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.asyncio.cluster import RedisCluster

from gigmarket.cancellation import raise_if_cancelled
from gigmarket.store.live import LiveStore

log = logging.getLogger("gigmarket.channels")

#: Backoff of a lost subscription: first retry, ceiling.
RESUBSCRIBE_S = (0.1, 2.0)
#: The group of the broadcast channels (no node of its own on a single Redis).
_BROADCAST = "*"


@dataclass(eq=False)
class _Group:
    """The channels read over one connection, and the task reading them."""

    name: str
    sharded: bool
    channels: set[str] = field(default_factory=set)
    pubsub: PubSub | None = None
    client: aioredis.Redis | None = None
    task: asyncio.Task[None] | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)


class Feed:
    def __init__(self, live: LiveStore, on_message: Callable[[str, str], None],
                 on_gap: Callable[[], None], broadcast: Iterable[str] = ()) -> None:
        self.live = live
        self.on_message = on_message
        self.on_gap = on_gap
        self.broadcast = tuple(broadcast)
        self._groups: dict[str, _Group] = {}
        self._lock = asyncio.Lock()
        self._moving: set[asyncio.Task[None]] = set()
        #: Messages received per channel since the start (``/metrics``, and the test that a
        #: process hears only its markets).
        self.received: collections.Counter[str] = collections.Counter()

    @property
    def channels(self) -> set[str]:
        """The market channels subscribed now (not the broadcast ones)."""
        return {c for g in self._groups.values() for c in g.channels} - set(self.broadcast)

    async def start(self, timeout_s: float = 10) -> None:
        if isinstance(self.live.redis, RedisCluster):
            await self.live.redis.initialize()
        if self.broadcast:
            await self.add(*self.broadcast)
            await asyncio.wait_for(self._groups[self._group_name(self.broadcast[0])].ready.wait(),
                                   timeout_s)

    async def aclose(self) -> None:
        for group in list(self._groups.values()):
            await self._close(group)
        self._groups.clear()

    def _group_name(self, channel: str) -> str:
        redis = self.live.redis
        if not isinstance(redis, RedisCluster) or channel in self.broadcast:
            return _BROADCAST
        node = redis.get_node_from_key(channel)
        if node is None:
            raise RuntimeError(f"no node holds the slot of {channel}")
        return str(node.name)

    def _connect(self, group: _Group) -> PubSub:
        redis = self.live.redis
        if not isinstance(redis, RedisCluster):
            return redis.pubsub()
        # One plain connection to the node: the Cluster client's own pub/sub reads its nodes in
        # turn with a timeout each, which would delay a message by up to that much per node.
        node = (redis.get_random_node() if group.name == _BROADCAST
                else redis.get_node(node_name=group.name))
        assert node is not None, group.name
        group.client = aioredis.Redis(host=node.host, port=int(node.port), decode_responses=True,
                                      socket_connect_timeout=2)
        return group.client.pubsub()

    async def add(self, *channels: str, timeout_s: float = 10) -> None:
        """Subscribe to ``channels`` (those already held are left alone); returns once each
        subscription is sent on its connection."""
        started: list[_Group] = []
        async with self._lock:
            for channel in channels:
                name = self._group_name(channel)
                group = self._groups.get(name)
                if group is None:
                    group = _Group(name, sharded=self.live.cluster and name != _BROADCAST)
                    self._groups[name] = group
                if channel in group.channels:
                    continue
                group.channels.add(channel)
                if group.task is None:
                    group.task = asyncio.create_task(self._read(group))
                    started.append(group)
                elif group.pubsub is not None and group.ready.is_set():
                    with contextlib.suppress(Exception):  # the reader resubscribes after a loss
                        await self._subscribe(group, group.pubsub, [channel])
        for group in started:  # their readers subscribe to all their channels first thing
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout_s):
                    await group.ready.wait()

    async def remove(self, *channels: str) -> None:
        async with self._lock:
            for channel in channels:
                group = self._groups.get(self._group_name(channel))
                if group is None or channel not in group.channels:
                    continue
                group.channels.discard(channel)
                if group.pubsub is not None and group.ready.is_set():
                    with contextlib.suppress(Exception):
                        if group.sharded:
                            await group.pubsub.sunsubscribe(channel)
                        else:
                            await group.pubsub.unsubscribe(channel)

    @staticmethod
    async def _subscribe(group: _Group, pubsub: PubSub, channels: list[str]) -> None:
        if not channels:
            return
        if group.sharded:
            # One per command: SSUBSCRIBE refuses channels of different slots (CROSSSLOT), and
            # a node holds many markets' slots.
            for channel in channels:
                await pubsub.ssubscribe(channel)
        else:
            await pubsub.subscribe(*channels)

    async def _close(self, group: _Group) -> None:
        if group.task is not None:
            group.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await group.task
        group.task = None

    async def _read(self, group: _Group) -> None:
        delay = RESUBSCRIBE_S[0]
        lost = False
        while True:
            raise_if_cancelled()
            pubsub: PubSub | None = None
            try:
                pubsub = self._connect(group)
                await self._subscribe(group, pubsub, sorted(group.channels))
                if pubsub.connection is not None:
                    pubsub.connection.register_connect_callback(self._reconnected)
                group.pubsub = pubsub
                group.ready.set()
                if lost:
                    log.info("subscription %s back", group.name)
                    self.on_gap()
                delay = RESUBSCRIBE_S[0]
                while True:
                    raise_if_cancelled()
                    message: dict[str, Any] | None = await pubsub.get_message(timeout=None)
                    if message is None or message.get("type") not in ("message", "smessage"):
                        continue
                    channel = str(message["channel"])
                    self.received[channel] += 1
                    self.on_message(channel, str(message["data"]))
                    # Buffered messages are read without awaiting: let sockets and HTTP in
                    # between slices of a large round.
                    await asyncio.sleep(0)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                # Messages published meanwhile are in the ledger; on_gap has the caller catch up
                # once we are back.
                log.warning("subscription %s lost (%r); resubscribing in %.1f s",
                            group.name, e, delay)
                group.ready.clear()
                group.pubsub = None
                lost = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, RESUBSCRIBE_S[1])
                if group.sharded:
                    # The slot may have moved to another node: route the channels again, and
                    # let this connection go if none is left on it.
                    await self._reroute(group)
                    if not group.channels:
                        self._groups.pop(group.name, None)
                        group.task = None
                        return
            finally:
                if pubsub is not None:
                    with contextlib.suppress(Exception):
                        await pubsub.aclose()  # type: ignore[no-untyped-call]
                if group.client is not None:
                    with contextlib.suppress(Exception):
                        await group.client.aclose()
                    group.client = None

    async def _reroute(self, group: _Group) -> None:
        redis = self.live.redis
        if not isinstance(redis, RedisCluster):
            return
        with contextlib.suppress(Exception):
            await redis.initialize()
        moved = [c for c in group.channels if self._group_name(c) != group.name]
        for channel in moved:
            group.channels.discard(channel)
        if moved:
            # Not awaited here: add() takes the lock, and its new group's reader is another task.
            task = asyncio.create_task(self.add(*moved))
            self._moving.add(task)
            task.add_done_callback(self._moving.discard)

    async def _reconnected(self, connection: object) -> None:
        log.info("subscription reconnected")
        self.on_gap()
