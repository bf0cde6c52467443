"""Plans rounds in a separate process: OR-Tools holds the GIL for the whole solve, and the
dispatcher's event loop must keep sweeping expiries and answering its lease meanwhile.

The dispatcher owns that process directly (one ``spawn`` child and a pipe), not through a
process pool, so that it can see it die and replace it (issue 8): a solve whose process dies
fails with :class:`SolverDied`, that round is lost cleanly (nothing was gated or recorded), and
the next round starts a new process. Stopping terminates and reaps the child, so a Ctrl-C right
after the first start no longer leaves it half started with its parent gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from multiprocessing import get_context
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

import numpy as np

from gigmarket import lifeline
from gigmarket.core.market import Rules
from gigmarket.core.matching import plan_round
from gigmarket.core.pool import Exclusions, JobPool, RoundPlan, WorkerPool
from gigmarket.supervisor import exit_reason, start_ignoring_sigint

log = logging.getLogger("gigmarket.dispatch")


class SolverDied(RuntimeError):
    """The solver process ended during a solve (killed, out of memory)."""


def _serve(conn: Connection) -> None:
    """The solver process: plan whatever arrives until the pipe closes."""
    lifeline.hold_parent()  # the solver ends when the dispatcher does, even on kill -9
    # The dispatcher stops us in order, with SIGTERM.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply: tuple[bool, Any] = (True, plan_round(*args))
        except Exception as e:  # a bug in planning: the dispatcher logs it, we live on
            reply = (False, e)
        try:
            conn.send(reply)
        except (BrokenPipeError, OSError):
            return


class Solver:
    def __init__(self, on_restart: Callable[[], Awaitable[None]] | None = None) -> None:
        #: Called (awaited) each time a dead solver process is replaced: counts restarts.
        self.on_restart = on_restart
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        # One solve at a time through the one pipe (markets share the process).
        self._lock = asyncio.Lock()
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _start(self) -> None:
        # spawn, not fork: a forked child would inherit the event loop's and Redis' sockets.
        ours, theirs = get_context("spawn").Pipe()
        process = get_context("spawn").Process(target=_serve, args=(theirs,),
                                               name="gigmarket-solver", daemon=True)
        start_ignoring_sigint(process)  # a Ctrl-C is for the dispatcher; it stops us
        theirs.close()
        self._process, self._conn = process, ours

    async def _replace_dead(self) -> None:
        """Reap a solver process that died; the next plan starts a new one."""
        process = self._process
        if process is None:
            return
        pid = process.pid
        process.join(1)  # a process whose pipe broke may still be on its way out
        code = process.exitcode
        self._terminate()  # reaps it (and ends it, were it only wedged)
        log.warning("the solver process %s died (%s); starting a new one", pid,
                    exit_reason(code))
        self.restarts += 1
        if self.on_restart is not None:
            with contextlib.suppress(Exception):
                await self.on_restart()

    async def _ensure(self) -> Connection:
        process = self._process
        if process is not None and not process.is_alive():
            await self._replace_dead()
        if self._process is None:
            self._start()
        assert self._conn is not None
        return self._conn

    async def plan(self, workers: WorkerPool, jobs: JobPool, rules: Rules, now: float,
                   exclusions: Exclusions) -> RoundPlan:
        async with self._lock:
            conn = await self._ensure()

            def call() -> tuple[bool, Any]:
                conn.send((workers, jobs, rules, now, exclusions))
                reply: tuple[bool, Any] = conn.recv()
                return reply

            try:
                ok, value = await asyncio.to_thread(call)
            except (EOFError, OSError) as e:
                # The process died mid-solve: this round is lost, the next starts a new one.
                await self._replace_dead()
                raise SolverDied(f"the solver process died during a solve ({e!r})") from e
            except asyncio.CancelledError:
                # Stopping mid-solve: the pipe may hold half a reply now; never reuse it.
                self._terminate()
                raise
        if not ok:
            raise value
        plan: RoundPlan = value
        return plan

    async def warm(self) -> None:
        """Start the process and import OR-Tools now, not in the first real round."""
        empty_w = WorkerPool(
            ids=[], lat=np.zeros(0), lon=np.zeros(0), skills=np.zeros(0, np.uint64),
            certs=np.zeros(0, np.uint64), min_hourly_fen=np.zeros(0),
            available_until=np.zeros(0), waited_s=np.zeros(0), key_group=np.zeros(0, np.bool_),
            rating=np.zeros(0), reliability=np.zeros(0), earned_today_fen=np.zeros(0),
            busy_worker=np.zeros(0, np.int64), busy_start=np.zeros(0), busy_end=np.zeros(0),
        )
        empty_j = JobPool(
            ids=[], employer_ids=[], lat=np.zeros(0), lon=np.zeros(0),
            skills=np.zeros(0, np.uint64), certs_required=np.zeros(0, np.uint64),
            hourly_fen=np.zeros(0), start_at=np.zeros(0), end_at=np.zeros(0),
            slots=np.zeros(0, np.int64), posted_at=np.zeros(0), employer_rating=np.zeros(0),
            employer_reliability=np.zeros(0),
        )
        await self.plan(empty_w, empty_j, Rules(), 0.0, Exclusions.none())

    def _terminate(self, timeout_s: float = 5) -> None:
        process = self._process
        if process is not None and process.is_alive():
            process.terminate()
            process.join(timeout_s)
            if process.is_alive():
                process.kill()
                process.join(timeout_s)
        self._reap()

    def _reap(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._process is not None:
            self._process.join(0)
            with contextlib.suppress(ValueError):
                self._process.close()
        self._process, self._conn = None, None

    def close(self) -> None:
        """Stop the process and wait for it (no orphan, no half-started child)."""
        self._terminate()

