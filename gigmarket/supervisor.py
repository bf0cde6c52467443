"""``serve``'s supervisor: the dispatcher child and the embedded Redis are started again when
they die (issue 8).

A thread, not an event-loop task: it must keep watching while uvicorn's loop is busy, and a
Redis restart blocks (Redis answers PING only after loading its AOF). The kernel's parent-death
signal (``PR_SET_PDEATHSIG``) of a child is tied to the *thread* that started it: Redis restarts
run in this thread, which lives until :meth:`Supervisor.stop` has stopped every child; the
dispatcher is (re)started from the main thread, through uvicorn's loop, because only there can
it be started with SIGINT ignored (:func:`start_ignoring_sigint`). A ``kill -9`` of ``serve``
still takes every child down.

Deaths are logged with their cause (exit code or signal), restarts back off when a child keeps
dying (1 s doubling to 30 s; a child that ran for 10 s counts as healthy again), and each
restart is counted in the ledger for ``/metrics``. Redis comes back empty (its AOF may be up to
a second behind the ledger): the dispatcher finds no pools and rebuilds them from the ledger.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gigmarket.store.embedded_redis import EmbeddedRedis

log = logging.getLogger("gigmarket.supervisor")

#: Poll period of the children.
WATCH_S = 0.2
#: First and longest wait before restarting a dispatcher that died.
BACKOFF_S = (1.0, 30.0)
#: The same for Redis: every request fails while it is down, so the first retry is at once.
REDIS_BACKOFF_S = (0.1, 10.0)
#: A child that ran this long before dying is restarted after the first backoff again: a crash
#: loop dies within seconds of each start, and a fault now and then must not wait 30 s.
HEALTHY_AFTER_S = 10.0
#: How long a child gets to stop after SIGTERM before it is killed.
STOP_TIMEOUT_S = 4.0


def exit_reason(code: int | None) -> str:
    """``exit code 1`` or ``killed by SIGKILL``, from a ``returncode``/``exitcode``."""
    if code is None:
        return "still running"
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
        return f"killed by signal {-code}"
    return f"exit code {code}"


def start_ignoring_sigint(process: BaseProcess) -> None:
    """Start a child that a terminal's Ctrl-C cannot kill while it is still starting.

    A Ctrl-C goes to the whole foreground process group. A child still importing (its handlers
    not yet set) died of it with a traceback: the first-start race of the last closing note.
    An ignored signal stays ignored across exec, and Python then installs no KeyboardInterrupt
    handler, so the child is started with SIGINT ignored; its parent stops it, in order, with
    SIGTERM. Only the main thread may change a handler, so from another thread this falls back
    to a plain start.
    """
    if threading.current_thread() is not threading.main_thread():
        process.start()
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        process.start()
    finally:
        signal.signal(signal.SIGINT, previous)


class _Backoff:
    def __init__(self, bounds: tuple[float, float]) -> None:
        self.bounds = bounds
        self.delay = bounds[0]
        #: When the child was last (re)started.
        self.started = time.monotonic()

    def next_delay(self) -> float:
        if time.monotonic() - self.started > HEALTHY_AFTER_S:
            self.delay = self.bounds[0]
        delay = self.delay
        self.delay = min(self.delay * 2, self.bounds[1])
        return delay


class Supervisor:
    """Watches a dispatcher process (made by ``make_dispatcher``) and an embedded Redis."""

    def __init__(
        self,
        *,
        ledger_path: Path | str,
        make_dispatcher: Callable[[], BaseProcess] | None,
        embedded: EmbeddedRedis | None = None,
        markets: list[str] | None = None,
    ) -> None:
        self.embedded = embedded
        self.ledger_path = ledger_path
        self.markets = markets or []
        self._make_dispatcher = make_dispatcher
        self.dispatcher: BaseProcess | None = None
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        #: Held while a child is (re)started or stopped: stop() never races a restart.
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="gigmarket-supervisor",
                                        daemon=True)
        #: The main thread's event loop (uvicorn's): restarts of the dispatcher run there.
        self.loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        """Start the dispatcher and begin watching. Call from the main thread: the dispatcher
        is started with SIGINT ignored, and its parent-death signal is tied to this thread."""
        if self._make_dispatcher is not None:
            self._start_dispatcher()
        self._thread.start()

    def _start_dispatcher(self) -> None:
        assert self._make_dispatcher is not None
        process = self._make_dispatcher()
        start_ignoring_sigint(process)
        self.dispatcher = process

    def _start_dispatcher_in_main_thread(self) -> bool:
        """Restart the dispatcher through the main thread's loop (see
        :func:`start_ignoring_sigint`); False when serve is stopping meanwhile."""
        loop = self.loop
        if loop is None or loop.is_closed():
            return False
        done: concurrent.futures.Future[None] = concurrent.futures.Future()

        def start() -> None:
            try:
                self._start_dispatcher()
                done.set_result(None)
            except BaseException as e:
                done.set_exception(e)

        try:
            loop.call_soon_threadsafe(start)
        except RuntimeError:  # the loop closed meanwhile: serve is stopping
            return False
        while not self._stopping.is_set():
            try:
                done.result(timeout=0.1)
                return True
            except concurrent.futures.TimeoutError:
                continue
        return False

    def _run(self) -> None:
        dispatcher_backoff, redis_backoff = _Backoff(BACKOFF_S), _Backoff(REDIS_BACKOFF_S)
        while not self._stopping.wait(WATCH_S):
            try:
                if self.embedded is not None and self.embedded.pid is None:
                    self._restart_redis(redis_backoff)
                if self.dispatcher is not None and not self.dispatcher.is_alive():
                    self._restart_dispatcher(dispatcher_backoff)
            except Exception:
                log.exception("supervision failed; trying again")
        self._stopped.wait()  # keep the children's parent thread alive until they are stopped

    def _wait(self, seconds: float) -> bool:
        """Sleep for a backoff; False when asked to stop meanwhile."""
        return not self._stopping.wait(seconds)

    def _restart_redis(self, backoff: _Backoff) -> None:
        from gigmarket.store.recoveries import Recovery, count_now

        assert self.embedded is not None
        delay = backoff.next_delay()
        log.warning("the embedded Redis died (%s); restarting it on the same socket in %.1f s",
                    exit_reason(self.embedded.returncode), delay)
        if not self._wait(delay):
            return
        with self._lock:
            if self._stopping.is_set():
                return
            # Empty: the dispatcher finds no pools and rebuilds them from the ledger.
            self.embedded.start(empty=True)
            backoff.started = time.monotonic()
        log.info("embedded Redis is back on %s", self.embedded.socket_path)
        count_now(self.ledger_path, Recovery.REDIS_RESTART)

    def _restart_dispatcher(self, backoff: _Backoff) -> None:
        from gigmarket.store.recoveries import Recovery, count_now

        assert self.dispatcher is not None and self._make_dispatcher is not None
        code = self.dispatcher.exitcode
        delay = backoff.next_delay()
        log.warning("the dispatcher (pid %s) died (%s); restarting it in %.1f s",
                    self.dispatcher.pid, exit_reason(code), delay)
        self.dispatcher.join(0)
        if not self._wait(delay):
            return
        with self._lock:
            if self._stopping.is_set():
                return
            if not self._start_dispatcher_in_main_thread():
                return
            backoff.started = time.monotonic()
        log.info("dispatcher restarted (pid %s)", self.dispatcher.pid)
        count_now(self.ledger_path, Recovery.DISPATCHER_RESTART)

    def stop(self) -> None:
        """Stop the dispatcher, then Redis (the dispatcher frees its leases while Redis is up),
        then the thread. Each child gets :data:`STOP_TIMEOUT_S` before it is killed."""
        self._stopping.set()
        try:
            self._lock.acquire(timeout=15)  # a restart under way finishes first (bounded)
            dispatcher = self.dispatcher
            if dispatcher is not None and dispatcher.is_alive():
                dispatcher.terminate()
                dispatcher.join(STOP_TIMEOUT_S)
                if dispatcher.is_alive():
                    log.warning("the dispatcher did not stop in %.0f s; killing it",
                                STOP_TIMEOUT_S)
                    dispatcher.kill()
                    dispatcher.join(2)
            if self.embedded is not None:
                self.embedded.stop(timeout_s=2)
        finally:
            self._stopped.set()
            if self._thread.is_alive():
                self._thread.join(5)
