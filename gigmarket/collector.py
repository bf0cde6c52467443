"""The cyclic garbage collector, paced for a web process that holds thousands of sockets.

Each held socket keeps ~160 objects the collector tracks (uvicorn's and websockets' protocol
objects, starlette's request, our ``Connection``, the suspended coroutines of its handler).
CPython 3.11 collects its oldest generation whenever the objects that survived grew by a
quarter, and such a collection walks every tracked object with the loop stopped. While a crowd
connects that happens again and again: measured at 5,000 sockets (issue 13), pauses of 130,
150, 190 … 890 ms, and post → offer p99 was 700 ms at 20 posts/s against a p50 of 45 ms.

So every :data:`FREEZE_EVERY_S` whatever has survived so far is frozen (:func:`gc.freeze`, a
list splice, not a walk): later collections walk only what came since, and young garbage is
collected as before. (Collecting before each freeze was tried: at 5,000 sockets each such
collection took 70-120 ms, and the bare hop's p99 rose from 2-6 to 100-180 ms.)

The price: an object frozen and later left in a reference cycle is not freed until it is
unfrozen. Two such cycles were measured (gc.DEBUG_SAVEALL) and one removed at its source:
uvicorn's HTTP protocol object after the websocket upgrade (``gigmarket.web.upgrade``). The
other stays: a closed socket leaves ~75 objects in cycles (uvicorn's sans-I/O websocket
protocol and the websockets library's hold each other). So everything is unfrozen and
collected whole every :data:`FULL_EVERY_S`, and sooner once the sockets closed since the last
time reach a quarter of those held (at least :data:`CLOSES_MIN`): a mass reconnect costs one
full collection after its closes, a crowd arriving costs none.
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
#: Closed sockets that bring a full collection forward, at the least (~75 objects each in
#: reference cycles, measured with uvicorn 0.54's sans-I/O websockets: ~10 MB).
CLOSES_MIN: Final = 1000

#: Sockets held, and closed since the last full collection. Module state, as the collector's
#: is: there is one per process, whatever holds the sockets.
_held_sockets = 0
_closed_sockets = 0


def socket_opened() -> None:
    global _held_sockets
    _held_sockets += 1


def socket_closed() -> None:
    """A socket closed: what it leaves in cycles waits for a full collection."""
    global _held_sockets, _closed_sockets
    _held_sockets -= 1
    _closed_sockets += 1


class Pacer:
    """Freezes survivors often and collects everything now and then; :meth:`step` decides,
    :meth:`run` steps on a timer."""

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
        if now < self._next_full and _closed_sockets < max(CLOSES_MIN, _held_sockets / 4):
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
