"""The cyclic garbage collector, paced for a web process that holds thousands of sockets.

Each held socket keeps ~160 objects the collector tracks (uvicorn's and websockets' protocol
objects, starlette's request, our ``Connection``, the suspended coroutines of its handler).
CPython 3.11 collects its oldest generation whenever the objects that survived grew by a
quarter, and such a collection walks every tracked object with the loop stopped. While a crowd
connects that happens again and again: measured at 5,000 sockets (issue 13), pauses of 130,
150, 190 … 890 ms, and post → offer p99 was 700 ms at 20 posts/s against a p50 of 45 ms.

So every :data:`FREEZE_EVERY_S` the objects that came since the last time are collected (a
full collection never walks frozen objects, so this walks a second's worth) and whatever
survived is frozen (:func:`gc.freeze`, a list splice, not a walk). The collection first matters:
each websocket begins as an HTTP connection whose protocol object is left in a cycle after the
upgrade, and freezing it would have kept ~3 KiB a socket until the next full collection.

The price: an object frozen and later left in a reference cycle is not freed until it is
unfrozen. A closed socket leaves ~75 such objects (uvicorn's websocket protocol and the
websockets library's own, which hold each other). So everything is unfrozen and collected
whole every :data:`FULL_EVERY_S`, and sooner when the sockets closed since the last time
may hold a quarter as many objects as are frozen (CPython's own rule, applied to what can
leak): a mass reconnect costs one full collection after its closes, and a crowd arriving
costs none. Measured with ``bench/city.py``: post → offer
p99 at 5,000 sockets, 20 posts/s, 700 → 80 ms.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable
from typing import Final, Literal

log = logging.getLogger("gigmarket.collector")

#: How often what has survived is frozen.
FREEZE_EVERY_S: Final = 1.0
#: How often everything is unfrozen and collected once, whole.
FULL_EVERY_S: Final = 600.0
#: Objects a closed socket leaves in reference cycles (measured with gc.DEBUG_SAVEALL: 72 to
#: 84 with uvicorn 0.54's sans-I/O websockets).
CYCLE_OBJECTS_PER_CLOSED_SOCKET: Final = 75

#: Sockets closed since the last full collection. Module state, as the collector's is: there
#: is one per process, whatever holds the sockets.
_closed_sockets = 0


def socket_closed() -> None:
    """A socket closed: what it leaves in cycles waits for a full collection."""
    global _closed_sockets
    _closed_sockets += 1


class Pacer:
    """Collects and freezes the newest survivors often, and collects everything now and then;
    :meth:`step` decides, :meth:`run` steps on a timer."""

    def __init__(self, *, freeze_every_s: float = FREEZE_EVERY_S,
                 full_every_s: float = FULL_EVERY_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.freeze_every_s = freeze_every_s
        self.full_every_s = full_every_s
        self._clock = clock
        self._next_full = clock() + full_every_s

    def step(self) -> Literal["freeze", "full"]:
        global _closed_sockets
        now = self._clock()
        leaked = _closed_sockets * CYCLE_OBJECTS_PER_CLOSED_SOCKET
        if now < self._next_full and leaked * 4 <= gc.get_freeze_count():
            gc.collect()  # walks only what is not frozen yet: the last second's survivors
            gc.freeze()
            return "freeze"
        self._next_full = now + self.full_every_s
        _closed_sockets = 0
        t0 = time.perf_counter()
        gc.unfreeze()
        found = gc.collect()
        gc.freeze()
        log.debug("full collection: %d unreachable objects in %.0f ms", found,
                  (time.perf_counter() - t0) * 1000)
        return "full"

    async def run(self) -> None:
        """Step until cancelled; on the way out, leave nothing frozen."""
        try:
            while True:
                await asyncio.sleep(self.freeze_every_s)
                self.step()
        finally:
            gc.unfreeze()
