"""Plans rounds in a separate process: OR-Tools holds the GIL for the whole solve, and the
dispatcher's event loop must keep sweeping expiries and answering its lease meanwhile."""

from __future__ import annotations

import asyncio
import ctypes
import signal
import sys
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import numpy as np

from gigmarket.core.market import Rules
from gigmarket.core.matching import plan_round
from gigmarket.core.pool import Exclusions, JobPool, RoundPlan, WorkerPool

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Pool workers end when the dispatcher does, even on kill -9 (Linux)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


class Solver:
    def __init__(self) -> None:
        # spawn, not fork: a forked child would inherit the event loop's and Redis' sockets.
        self._pool = ProcessPoolExecutor(
            max_workers=1, mp_context=get_context("spawn"), initializer=_die_with_parent
        )

    async def plan(self, workers: WorkerPool, jobs: JobPool, rules: Rules, now: float,
                   exclusions: Exclusions) -> RoundPlan:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._pool, plan_round, workers, jobs, rules, now, exclusions
        )

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

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
