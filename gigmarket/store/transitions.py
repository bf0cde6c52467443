"""State changes of jobs, offers, assignments and workers, each judged by the core table.

Every ``state`` column is written here and nowhere else. A move asks
:data:`gigmarket.core.model.TRANSITIONS` which states may become the target, then updates the
row in one statement, ``UPDATE … WHERE id = ? AND state IN (those) RETURNING *``: the check and
the write cannot be split by another writer, on SQLite or on PostgreSQL (issue 11). When no
row changed, the row is read once more to say why: missing (404) or in a state the table does
not let become the target (409, ``<what>_<state>``).
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from gigmarket.core.errors import ConflictError, NotFoundError
from gigmarket.core.model import (
    AssignmentState,
    JobState,
    OfferState,
    WorkerState,
    can_transition,
    check_transition,
)
from gigmarket.store.ledger import Row, Tx


@dataclass(frozen=True, slots=True)
class _Table:
    name: str
    #: How a refusal names the thing: ``job_cancelled``, ``offer_accepted``…
    what: str
    #: Offers have no ``updated_at``: their ``closed_at`` says when they settled.
    stamped: bool


_TABLES: Final[dict[type[enum.Enum], _Table]] = {
    JobState: _Table("jobs", "job", True),
    OfferState: _Table("offers", "offer", False),
    AssignmentState: _Table("assignments", "assignment", True),
    WorkerState: _Table("workers", "worker", True),
}

State = JobState | OfferState | AssignmentState | WorkerState


def sources(target: State, only_from: Collection[State] | None = None) -> list[str]:
    """The states the table lets become ``target`` (narrowed to ``only_from``), as stored."""
    kind = type(target)
    return [s.value for s in kind if can_transition(s, target)
            and (only_from is None or s in only_from)]


def _update(table: _Table, target: State, allowed: Sequence[str], columns: dict[str, Any],
            now: float, where: str) -> tuple[str, list[Any]]:
    sets = ["state = ?"] + (["updated_at = ?"] if table.stamped else [])
    params: list[Any] = [target.value] + ([now] if table.stamped else [])
    for name, value in columns.items():
        sets.append(f"{name} = ?")
        params.append(value)
    marks = ",".join("?" * len(allowed))
    sql = (f"UPDATE {table.name} SET {', '.join(sets)} WHERE {where}"
           f" AND state IN ({marks}) RETURNING *")
    return sql, params


async def move(tx: Tx, target: State, row_id: str, *,
               only_from: Collection[State] | None = None, **columns: Any) -> Row:
    """Move one row to ``target`` with ``columns`` set, or refuse with the reason.

    ``only_from`` narrows the legal sources further (a worker cancels only accepted work, not
    work begun, though the table lets both be cancelled).
    """
    table = _TABLES[type(target)]
    allowed = sources(target, only_from)
    row = None
    if allowed:
        sql, params = _update(table, target, allowed, columns, tx.now, "id = ?")
        row = await tx.one(sql, [*params, row_id, *allowed])
    if row is not None:
        return row
    current = await tx.one(f"SELECT state FROM {table.name} WHERE id = ?", (row_id,))
    if current is None:
        raise NotFoundError(f"no such {table.what}", field=f"{table.what}_id")
    state = type(target)(current["state"])
    what = table.what
    check_transition(state, target, what=what)
    raise ConflictError(f"{what} is {state.value}; it cannot become {target.value} here",
                        code=f"{what}_{state.value}")


async def move_if(tx: Tx, target: State, row_id: str, *, only_from: Collection[State],
                  **columns: Any) -> Row | None:
    """Move one row only if it is in one of ``only_from``; ``None`` (no change) otherwise.

    For the moves that follow another (a worker whose offer closed goes back to waiting if,
    and only if, they were still marked as offered). Every pair must be a legal move.
    """
    for s in only_from:
        check_transition(s, target, what=_TABLES[type(target)].what)
    sql, params = _update(_TABLES[type(target)], target, [s.value for s in only_from], columns,
                          tx.now, "id = ?")
    allowed = [s.value for s in only_from]
    return await tx.one(sql, [*params, row_id, *allowed])


async def move_where(tx: Tx, target: State, where: str, params: Sequence[Any], *,
                     only_from: Collection[State] | None = None, **columns: Any) -> list[Row]:
    """Move every row matching ``where`` (a store module's own clause) that is in one of
    ``only_from`` (by default, any state the table lets become ``target``); the rows moved.
    Every pair named must be a legal move."""
    table = _TABLES[type(target)]
    for s in only_from or ():
        check_transition(s, target, what=table.what)
    allowed = sources(target, only_from)
    if not allowed:
        return []
    sql, head = _update(table, target, allowed, columns, tx.now, where)
    return await tx.all(sql, [*head, *params, *allowed])


async def counted(tx: Tx, target: State, row_id: str, *, add: Mapping[str, int], when: str,
                  only_from: Collection[State] | None = None, **on_move: Any) -> Row:
    """Add to a row's counters and, in the same statement, move it to ``target`` (setting
    ``on_move``) where ``when`` holds and the table lets its state become ``target``.

    ``when`` is a store module's own condition over the row as it was before this statement
    (SQL reads the old row on every side of ``SET``, in SQLite and PostgreSQL alike): a job's
    last slot taken fills it in the very statement that takes the slot, so no reader (the
    exchange feed's trigger) ever sees a full job still open. The row after it.
    """
    table = _TABLES[type(target)]
    allowed = sources(target, only_from)
    sets = [f"{name} = {name} + ?" for name in add]
    params: list[Any] = list(add.values())
    if table.stamped:
        sets.append("updated_at = ?")
        params.append(tx.now)
    if allowed:
        guard = f"({when}) AND state IN ({','.join('?' * len(allowed))})"
        for name, value in [("state", target.value), *on_move.items()]:
            sets.append(f"{name} = CASE WHEN {guard} THEN ? ELSE {name} END")
            params += [*allowed, value]
    row = await tx.one(f"UPDATE {table.name} SET {', '.join(sets)} WHERE id = ? RETURNING *",
                       [*params, row_id])
    if row is None:
        raise NotFoundError(f"no such {table.what}", field=f"{table.what}_id")
    return row
