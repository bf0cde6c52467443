"""The solver process is the dispatcher's child: replaced when it dies, reaped when closed."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

from gigmarket.dispatch.solver import Solver, SolverDied


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


async def test_a_dead_solver_is_replaced_and_counted() -> None:
    """kill -9 of the solver process: plans run on a new process again, and the restart is
    reported once through on_restart."""
    restarts: list[int] = []

    async def counted() -> None:
        restarts.append(1)

    solver = Solver(on_restart=counted)
    try:
        await solver.warm()
        first = solver.pid
        assert first is not None and _alive(first)
        os.kill(first, signal.SIGKILL)
        while _alive(first):  # the kernel takes a moment to end it
            time.sleep(0.01)
        # Depending on whether the death is seen before or during the next solve, that solve
        # runs on a new process or fails cleanly; the one after runs on a new process.
        with contextlib.suppress(SolverDied):
            await solver.warm()
        await solver.warm()
        assert solver.pid not in (None, first)
        assert restarts == [1] and solver.restarts == 1
    finally:
        solver.close()


async def test_close_stops_and_reaps_the_solver() -> None:
    """close() leaves no solver process behind, not even a zombie."""
    solver = Solver()
    await solver.warm()
    pid = solver.pid
    assert pid is not None
    solver.close()
    assert not _alive(pid)
    assert solver.pid is None
