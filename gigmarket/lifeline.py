"""A child process's lifeline: it ends when the process that started it is gone.

``serve`` starts the dispatcher and the dispatcher starts the solver. Either child left behind
by a ``kill -9`` of its parent would keep the old ledger open and compete for the leases with
the server started next, so each child holds on to its parent in two ways:

- the kernel's parent-death signal (``PR_SET_PDEATHSIG``, Linux), which is tied to the parent
  *thread* and is lost when the parent died before the child asked for it (a spawned child
  spends a second importing before it can ask);
- a watch thread that notices being re-parented within a second, asks for the same orderly
  stop (SIGTERM), and ends the process outright when that stop takes too long.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time

log = logging.getLogger("gigmarket.lifeline")

_PR_SET_PDEATHSIG = 1


def hold_parent(grace_s: float = 5.0) -> None:
    """Call first thing in a ``multiprocessing`` child: end with the parent, however it ends."""
    parent = multiprocessing.parent_process()
    if parent is None or parent.pid is None:
        return
    pid = parent.pid
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != pid:  # died before we could ask: no signal will ever come
        os._exit(1)
    threading.Thread(target=_watch, args=(pid, grace_s), name="lifeline", daemon=True).start()


def _watch(parent: int, grace_s: float) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    log.warning("parent %d is gone; stopping", parent)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(grace_s)
    os._exit(1)
