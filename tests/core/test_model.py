"""State machines and money in the pure core."""

from __future__ import annotations

import pytest

from gigmarket.core.errors import ConflictError
from gigmarket.core.model import (
    TRANSITIONS,
    AssignmentState,
    JobState,
    Money,
    OfferState,
    WageUnit,
    WorkerState,
    can_transition,
    check_transition,
    hourly_fen,
)

A, J, Of, W = AssignmentState, JobState, OfferState, WorkerState


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        (Of.PENDING, Of.ACCEPTED, True),
        (Of.PENDING, Of.EXPIRED, True),
        (Of.EXPIRED, Of.ACCEPTED, False),  # no accept is honoured after expiry
        (Of.DECLINED, Of.PENDING, False),  # a declined pair never comes back
        (Of.ACCEPTED, Of.WITHDRAWN, False),
        (J.PENDING_REVIEW, J.OPEN, True),
        (J.OPEN, J.FILLED, True),
        (J.FILLED, J.OPEN, True),  # a worker cancels: the slot reopens
        (J.CANCELLED, J.OPEN, False),
        (J.COMPLETED, J.CANCELLED, False),
        (W.OFFLINE, W.OFFERED, False),  # only a checked-in worker gets offers
        (W.AVAILABLE, W.OFFERED, True),
        (W.OFFERED, W.AVAILABLE, True),
        (A.ACCEPTED, A.CHECKED_IN, True),
        (A.COMPLETED, A.PAID, True),
        (A.COMPLETED, A.DISPUTED, True),
        (A.PAID, A.DISPUTED, False),
        (A.NO_SHOW, A.CHECKED_IN, False),
    ],
)
def test_transition_table(current: object, target: object, allowed: bool) -> None:
    """Each state machine allows exactly the moves in its one table."""
    assert can_transition(current, target) is allowed  # type: ignore[arg-type]


@pytest.mark.parametrize("machine", list(TRANSITIONS))
def test_every_state_has_a_row_and_terminal_states_are_final(machine: type) -> None:
    """Every member has a row; a state with no exits allows none."""
    table = TRANSITIONS[machine]
    assert set(table) == set(machine)  # type: ignore[call-overload]
    for state, targets in table.items():
        assert all(type(t) is machine for t in targets)
        assert state not in targets


def test_check_transition_names_the_thing_and_its_state() -> None:
    """A refused move is a ConflictError whose code says what and in which state."""
    with pytest.raises(ConflictError) as info:
        check_transition(J.CANCELLED, J.OPEN, what="job")
    assert info.value.code == "job_cancelled"


@pytest.mark.parametrize(
    ("money", "hours", "expected"),
    [
        (Money(3000, WageUnit.HOUR), 8, 3000.0),
        (Money(30000, WageUnit.DAY), 8, 3750.0),
        (Money(30000, WageUnit.DAY), 4, 7500.0),  # a short day pays more per hour
        (Money(30000, WageUnit.DAY), 10, 3750.0),  # overtime is on top, not diluting
        (Money(500, WageUnit.PIECE), 8, None),
    ],
)
def test_hourly_equivalent(money: Money, hours: float, expected: float | None) -> None:
    """Wages compare across units as fen per hour; piece rates do not compare."""
    assert hourly_fen(money, hours) == expected


@pytest.mark.parametrize(
    ("fen", "json"),
    [(30000, {"amount": 300, "unit": "day"}), (2370, {"amount": 23.7, "unit": "hour"}),
     (2375, {"amount": 23.75, "unit": "hour"})],
)
def test_money_json_is_yuan(fen: int, json: dict[str, object]) -> None:
    """Money leaves the server as yuan, whole numbers as integers."""
    assert Money(fen, WageUnit(json["unit"])).as_json() == json
