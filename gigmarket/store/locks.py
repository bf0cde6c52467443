"""The keys of :meth:`gigmarket.store.ledger.Tx.lock`, one per thing a read-decide-write
transaction decides about, so two writers of the same thing name the same key (issue 11).

Each transaction takes at most one of these, first: with no second lock held there is no
order to get wrong, and so no deadlock between them.
"""

from __future__ import annotations


def worker(worker_id: str) -> str:
    """A worker's accepts and claims: the overlap check reads their work, then adds to it."""
    return f"worker:{worker_id}"


def assignment(assignment_id: str) -> str:
    """A slip's typed check-in code: the wrong tries are read, compared and counted."""
    return f"assignment:{assignment_id}"


def posting(platform_id: str, external_id: str) -> str:
    """A platform's posting: its known version is read, then a newer one applied."""
    return f"posting:{platform_id}:{external_id}"
