"""A stop that a library lost on the way: loops that run until cancelled check for it.

On Python 3.11 ``asyncio.wait_for`` returns the result of an inner step that finished in the
same instant its task was cancelled, and the cancel is gone (fixed in 3.12). redis-py 8 sends
every command through ``wait_for`` (its default ``socket_timeout`` is 5 s), so about half the
cancels that land during a Redis command vanish: measured with a real Redis, 163 of 300. A loop
that lost its cancel keeps running, and a process whose ``TaskGroup`` waits for it never stops
on SIGTERM (a dispatcher left running after ``docker compose stop``, found in CI).

The task still counts the request (``Task.cancelling()``), so each turn of such a loop asks
here and stops as it was told to.
"""

from __future__ import annotations

import asyncio


def raise_if_cancelled() -> None:
    """Raise ``CancelledError`` if this task was asked to stop and nothing has stopped it."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
