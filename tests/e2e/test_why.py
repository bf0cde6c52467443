"""Why not matched, as people and the manager ask it (issue 13): a round stores a reason only
for the workers no job could take; "outranked" (a job they could do went to someone else) is
said when asked, and a reason a later round no longer stands by is gone."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from tests.e2e.people import HALL, Person, check_in, job_body, manager, new_employer, new_worker
from tests.e2e.server import ServerProcess
from tests.e2e.test_expanding_reach import FAR
from tests.e2e.test_work_day import _why_until

MARKET = "/markets/shiling"


async def _offered_one_of(a: Person, b: Person, job_id: str) -> tuple[Person, Person]:
    """(the one offered ``job_id``, the other), once the round has offered it."""
    def offered(p: Person) -> bool:
        return any(m["job"]["id"] == job_id for m in p.of_type("offer"))

    for _ in range(300):
        if offered(a) or offered(b):
            assert not (offered(a) and offered(b)), "one slot, two offers"
            return (a, b) if offered(a) else (b, a)
        await asyncio.sleep(0.1)
    raise AssertionError(f"nobody was offered {job_id}")


async def _until(get: Callable[[], Awaitable[Any]], good: Callable[[Any], bool]) -> Any:
    for _ in range(100):
        got = await get()
        if good(got):
            return got
        await asyncio.sleep(0.1)
    raise AssertionError(f"never came: {got}")


async def test_outranked_is_said_when_asked_and_a_stale_reason_goes(
    server: ServerProcess,
) -> None:
    """Each step answers within seconds of its post. The dispatcher's periodic full round
    (every 30 s, the first as the server starts) re-judges everyone; by then each offered
    slot is taken, so it would say "no open jobs" to the outranked, as it should."""
    api, ws = server.api, server.ws_url
    boss = await manager(api, ws, "boss", "correct-horse")
    employer = await new_employer(api, ws, "13900000041", verified_by=boss)
    near = [await new_worker(api, ws, f"1380000004{i}") for i in (1, 2)]
    far = [await new_worker(api, ws, f"1380000004{i}", at=FAR) for i in (3, 4)]
    for p in near:
        await p.connect()
        await check_in(p)
    for p in far:
        await p.connect()
        await check_in(p, FAR)
    # No job yet: every waiting worker is one no job could take, and says so.
    for p in (*near, *far):
        await _why_until(p, "no_open_jobs")

    # One slot by the hall: one near worker is offered it, the other was outranked. For the
    # far ones nothing is open still (the one slot is offered).
    j1 = await employer.ok("POST", f"{MARKET}/jobs",
                           job_body(headcount=1, lat=HALL[0], lon=HALL[1]))
    _, passed_over = await _offered_one_of(*near, j1["id"])
    why = await _why_until(passed_over, "outranked", timeout=5)
    assert why["reason_text"]["en"].startswith("Suitable matches existed")
    for p in far:
        assert (await p.ok("GET", "/me/why"))["reason"] == "no_open_jobs"

    # One slot where the far workers are: both have a partner now, so the round drops their
    # stored "no open jobs" (neither changed: the local round around the new job says so);
    # the one not offered it is outranked, not left with the old reason.
    j2 = await employer.ok("POST", f"{MARKET}/jobs",
                           job_body(headcount=1, lat=FAR[0], lon=FAR[1]))
    _, far_passed = await _offered_one_of(*far, j2["id"])
    await _why_until(far_passed, "outranked", timeout=5)

    # The manager's list and counts say the same, derived the same way.
    unmatched = await _until(
        lambda: boss.ok("GET", f"{MARKET}/unmatched"),
        lambda u: len(u["workers"]) == 2)
    assert {(w["id"], w["reason"]) for w in unmatched["workers"]} == {
        (passed_over.user_id, "outranked"), (far_passed.user_id, "outranked")}
    stats = await boss.ok("GET", f"{MARKET}/stats")
    assert stats["unmatched"] == {"outranked": 2}
    for p in (*near, *far):
        await p.disconnect()
