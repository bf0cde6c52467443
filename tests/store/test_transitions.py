"""Every state change is judged by the core transition table and written in one statement:
illegal moves are refused with the domain's conflict, and a move that lost a race to another
writer changes nothing."""

from __future__ import annotations

import asyncio

import pytest

from gigmarket.core.errors import ConflictError, NotFoundError
from gigmarket.core.model import AssignmentState, JobState, OfferState, WorkerState
from gigmarket.store import jobs, transitions
from gigmarket.store.ledger import Ledger
from tests.store.test_ledger import add_offer, seed


async def state_of(ledger: Ledger, table: str, row_id: str) -> str:
    row = await ledger.one(f"SELECT state FROM {table} WHERE id = ?", (row_id,))
    assert row is not None
    return str(row["state"])


def test_sources_are_read_from_the_table() -> None:
    """The states a move may start from are exactly the table's."""
    assert sorted(transitions.sources(JobState.IN_PROGRESS)) == ["filled", "open"]
    assert transitions.sources(OfferState.ACCEPTED) == ["pending"]
    assert transitions.sources(JobState.PENDING_REVIEW) == []
    assert transitions.sources(AssignmentState.CANCELLED,
                               only_from={AssignmentState.ACCEPTED}) == ["accepted"]


async def test_a_legal_move_returns_the_row_with_its_columns(ledger: Ledger) -> None:
    """open -> filled writes the state, the stamp and the extra columns, and returns them."""
    await seed(ledger)
    async with ledger.transaction(now=7.0) as tx:
        row = await transitions.move(tx, JobState.FILLED, "j1", filled_at=7.0)
    assert (row["state"], row["updated_at"], row["filled_at"]) == ("filled", 7.0, 7.0)
    assert await state_of(ledger, "jobs", "j1") == "filled"


async def test_an_illegal_move_is_a_conflict_and_changes_nothing(ledger: Ledger) -> None:
    """A cancelled job cannot reopen: 409 ``job_cancelled``, the row untouched."""
    await seed(ledger)
    async with ledger.transaction() as tx:
        await transitions.move(tx, JobState.CANCELLED, "j1")
    with pytest.raises(ConflictError) as refused:
        async with ledger.transaction() as tx:
            await transitions.move(tx, JobState.OPEN, "j1")
    assert refused.value.code == "job_cancelled"
    assert await state_of(ledger, "jobs", "j1") == "cancelled"


async def test_only_from_narrows_the_table(ledger: Ledger) -> None:
    """Legal in the table but outside ``only_from`` is refused with the current state."""
    await seed(ledger)
    with pytest.raises(ConflictError) as refused:
        async with ledger.transaction() as tx:
            await transitions.move(tx, JobState.CANCELLED, "j1",
                                   only_from={JobState.PENDING_REVIEW})
    assert refused.value.code == "job_open"
    assert await state_of(ledger, "jobs", "j1") == "open"


async def test_a_missing_row_is_not_found(ledger: Ledger) -> None:
    await seed(ledger)
    with pytest.raises(NotFoundError):
        async with ledger.transaction() as tx:
            await transitions.move(tx, OfferState.DECLINED, "nope")


async def test_the_second_of_two_writers_loses(ledger: Ledger) -> None:
    """Two closes of one pending offer: the first wins, the second is refused as the first
    left it (``offer_accepted``), never applied on top of it."""
    await seed(ledger)
    await add_offer(ledger, "o1", "w1", "j1", "pending")
    async with ledger.transaction(now=3.0) as tx:
        won = await transitions.move(tx, OfferState.ACCEPTED, "o1", closed_at=3.0)
    assert won["closed_at"] == 3.0
    with pytest.raises(ConflictError) as refused:
        async with ledger.transaction(now=4.0) as tx:
            await transitions.move(tx, OfferState.EXPIRED, "o1", closed_at=4.0)
    assert refused.value.code == "offer_accepted"
    row = await ledger.one("SELECT state, closed_at FROM offers WHERE id = 'o1'")
    assert row is not None and (row["state"], row["closed_at"]) == ("accepted", 3.0)


async def test_move_if_is_a_quiet_no_op_outside_its_states(ledger: Ledger) -> None:
    """An offline worker is not 'offered': going back to waiting changes nothing."""
    await seed(ledger)
    async with ledger.transaction() as tx:
        assert await transitions.move_if(tx, WorkerState.AVAILABLE, "w1",
                                         only_from={WorkerState.OFFERED}) is None
    assert await state_of(ledger, "workers", "w1") == "offline"


async def test_move_if_refuses_a_pair_the_table_forbids(ledger: Ledger) -> None:
    """Asking for an illegal pair is a conflict even when no row is in that state."""
    await seed(ledger)
    with pytest.raises(ConflictError):
        async with ledger.transaction() as tx:
            await transitions.move_if(tx, WorkerState.OFFERED, "w1",
                                      only_from={WorkerState.OFFLINE})


async def test_move_where_moves_only_the_rows_in_its_states(ledger: Ledger) -> None:
    """Withdrawing a job's offers takes the pending ones and leaves the settled alone."""
    await seed(ledger)
    await add_offer(ledger, "o1", "w1", "j1", "pending")
    await add_offer(ledger, "o2", "w2", "j1", "declined")
    async with ledger.transaction(now=5.0) as tx:
        moved = await transitions.move_where(tx, OfferState.WITHDRAWN, "job_id = ?", ["j1"],
                                             only_from={OfferState.PENDING}, closed_at=5.0)
    assert [r["id"] for r in moved] == ["o1"]
    assert await state_of(ledger, "offers", "o2") == "declined"


async def test_two_connections_racing_on_one_offer_settle_it_once(
        ledger: Ledger, ledger_where: str) -> None:
    """Two writers (as two web processes would be) accept and expire one offer at once:
    exactly one wins, the other is refused, and the row holds the winner's close."""
    await seed(ledger)
    await add_offer(ledger, "o1", "w1", "j1", "pending")
    other = await Ledger.open(ledger_where)
    try:
        async def settle(on: Ledger, target: OfferState, at: float) -> str:
            try:
                async with on.transaction(now=at) as tx:
                    await transitions.move(tx, target, "o1", closed_at=at)
            except ConflictError as e:
                return e.code
            return "won"

        outcomes = await asyncio.gather(settle(ledger, OfferState.ACCEPTED, 3.0),
                                        settle(other, OfferState.EXPIRED, 4.0))
    finally:
        await other.aclose()
    assert sorted(outcomes) in (["offer_accepted", "won"], ["offer_expired", "won"])
    row = await ledger.one("SELECT state, closed_at FROM offers WHERE id = 'o1'")
    assert row is not None
    winner = (OfferState.ACCEPTED.value, 3.0) if outcomes[0] == "won" else (
        OfferState.EXPIRED.value, 4.0)
    assert (row["state"], row["closed_at"]) == winner


async def test_the_last_slot_fills_the_job_in_the_same_change(ledger: Ledger) -> None:
    """Taking a slot of a headcount-2 job: the first leaves it open, the second fills it, each
    as one change, so the exchange feed never shows a full job still open."""
    await seed(ledger)
    async with ledger.transaction(now=5.0) as tx:
        first = await jobs.take_slot(tx, "j1", pending=False)
    assert (first["accepted"], first["state"], first["filled_at"]) == (1, "open", None)
    async with ledger.transaction(now=6.0) as tx:
        second = await jobs.take_slot(tx, "j1", pending=False)
    assert (second["accepted"], second["state"], second["filled_at"]) == (2, "filled", 6.0)
    feed = await ledger.all("SELECT state, accepted FROM exchange_job_changes"
                            " WHERE job_id = 'j1' ORDER BY version")
    assert [(r["state"], r["accepted"]) for r in feed][-2:] == [("open", 1), ("filled", 2)]


async def test_a_freed_slot_reopens_only_a_filled_job(ledger: Ledger) -> None:
    """A cancel frees a slot: a filled job opens again (filled_at cleared); a job under way
    keeps its state, the table not letting it reopen."""
    await seed(ledger)
    async with ledger.transaction(now=5.0) as tx:
        await jobs.take_slot(tx, "j1", pending=False)
        await jobs.take_slot(tx, "j1", pending=False)
        reopened = await jobs.release_accepted(tx, "j1", reopen=True)
    assert (reopened["accepted"], reopened["state"], reopened["filled_at"]) == (1, "open", None)
    async with ledger.transaction(now=6.0) as tx:
        await transitions.move(tx, JobState.IN_PROGRESS, "j1")
        kept = await jobs.release_accepted(tx, "j1", reopen=True)
    assert (kept["accepted"], kept["state"]) == (0, "in_progress")
