"""Offers that run out of time, and the invariants under concurrent accepts and posts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from tests.e2e.people import (
    HALL,
    Person,
    check_in,
    in_hours,
    job_body,
    manager,
    new_employer,
    new_worker,
)
from tests.e2e.server import ServerProcess


async def test_an_expired_offer_returns_worker_and_slot_to_the_pools(
    make_server: Callable[..., ServerProcess],
) -> None:
    """No answer within offer_timeout_s: the offer expires, the worker waits again (and is not
    offered that job again), the slot goes to the next worker, and a late accept is refused
    (with late takes off; test_late_take.py has them on)."""
    server = make_server(offer_timeout_s=1.5, late_take_s=0)
    api, ws = server.api, server.ws_url
    boss = await manager(api, ws, "boss", "correct-horse")
    slow = await new_worker(api, ws, "13800000001")
    await slow.connect()
    await check_in(slow)
    employer = await new_employer(api, ws, "13900000001", verified_by=boss)
    job = await employer.ok("POST", "/markets/shiling/jobs", job_body(headcount=1))

    offer = await slow.wait_for(lambda m: m["type"] == "offer")
    closed = await slow.wait_for(lambda m: m["type"] == "offer_closed")
    assert closed == {**closed, "offer_id": offer["offer_id"], "reason": "expired"}
    late = await slow.call("POST", f"/offers/{offer['offer_id']}/accept")
    assert late.status_code == 409 and late.json()["error"]["code"] == "offer_expired"

    me = await slow.ok("GET", "/me")
    assert me["state"] == "available"
    detail = await employer.ok("GET", f"/jobs/{job['id']}")
    assert detail["pending_offers"] == 0 and detail["accepted"] == 0 and detail["state"] == "open"

    # The slot is back in the pool: the next worker to arrive gets it.
    quick = await new_worker(api, ws, "13800000002")
    await quick.connect()
    await check_in(quick)
    second = await quick.wait_for(lambda m: m["type"] == "offer")
    assert second["job"]["id"] == job["id"]
    await quick.ok("POST", f"/offers/{second['offer_id']}/accept")
    # ...and the worker who let it expire was never offered that job again.
    assert [m["job"]["id"] for m in slow.of_type("offer")] == [job["id"]]
    why = await slow.ok("GET", "/me/why")
    assert why["state"] == "available"
    for p in (slow, quick):
        await p.disconnect()


async def test_fifty_concurrent_accepts_and_posts_keep_every_invariant(
    server: ServerProcess,
) -> None:
    """Duplicate accepts over HTTP and the socket at once, posts and check-ins racing them:
    never more accepted than headcount, never a worker in overlapping work, never two pending
    offers for one worker, and every acknowledged accept is in the ledger."""
    api, ws = server.api, server.ws_url
    boss = await manager(api, ws, "boss", "correct-horse")
    workers = [await new_worker(api, ws, f"138000001{i:02d}") for i in range(30)]
    for w in workers:
        await w.connect()
    await asyncio.gather(*(check_in(w, (HALL[0] + i * 1e-4, HALL[1])) for i, w in
                           enumerate(workers)))
    employer = await new_employer(api, ws, "13900000001", verified_by=boss)
    start = in_hours(2)
    posts = await asyncio.gather(*(
        employer.ok("POST", "/markets/shiling/jobs", job_body(headcount=3, start_at=start))
        for _ in range(8)))
    assert len({p["id"] for p in posts}) == 8

    def offers_out() -> list[Person]:
        return [w for w in workers if w.of_type("offer")]

    for _ in range(200):
        if len(offers_out()) >= 24:
            break
        await asyncio.sleep(0.05)
    offered = offers_out()
    assert len(offered) == 24

    acknowledged: list[str] = []

    async def accept_twice(w: Person) -> None:
        offer_id = w.of_type("offer")[0]["offer_id"]
        await w.send({"type": "accept", "offer_id": offer_id})
        r = await w.call("POST", f"/offers/{offer_id}/accept")
        if r.status_code == 200:
            acknowledged.append(offer_id)
        else:
            assert r.status_code == 409, r.text

    # Overlapping jobs posted in the same breath: nobody who accepted may take one of these.
    racing: list[Any] = [accept_twice(w) for w in offered]
    racing += [employer.ok("POST", "/markets/shiling/jobs",
                           job_body(headcount=2, start_at=start)) for _ in range(10)]
    racing += [check_in(w) for w in workers if w not in offered]
    # Each accept_twice is two accepts at once (socket and HTTP): over 50 racing requests.
    assert 2 * len(offered) + len(racing) - len(offered) >= 50
    await asyncio.gather(*racing)

    # Everyone who accepted checks in again and grabs whatever comes, as fast as they can.
    async def grab_everything(w: Person) -> None:
        seen: set[str] = set()
        for _ in range(30):
            for m in w.of_type("offer"):
                if m["offer_id"] not in seen:
                    seen.add(m["offer_id"])
                    await w.call("POST", f"/offers/{m['offer_id']}/accept")
            await asyncio.sleep(0.1)

    await asyncio.gather(*(check_in(w) for w in offered))
    await asyncio.gather(*(grab_everything(w) for w in workers))
    for w in workers:
        await w.disconnect()

    db = server.ledger()
    over = db.execute(
        "SELECT j.id FROM jobs j WHERE j.accepted > j.headcount OR (SELECT COUNT(*) FROM"
        " assignments a WHERE a.job_id = j.id AND a.state = 'accepted') > j.headcount"
    ).fetchall()
    assert over == []
    overlapping = db.execute(
        "SELECT a.worker_id FROM assignments a JOIN assignments b ON a.worker_id = b.worker_id"
        " AND a.id < b.id WHERE a.start_at < b.end_at AND b.start_at < a.end_at"
    ).fetchall()
    assert overlapping == []
    double_pending = db.execute(
        "SELECT worker_id FROM offers WHERE state = 'pending' GROUP BY worker_id"
        " HAVING COUNT(*) > 1").fetchall()
    assert double_pending == []
    for offer_id in acknowledged:
        assert db.execute("SELECT COUNT(*) FROM assignments WHERE offer_id = ?",
                          (offer_id,)).fetchone()[0] == 1
    # 24 accepted the first wave (each once, though each tried twice).
    assert db.execute("SELECT COUNT(*) FROM assignments").fetchone()[0] >= 24
    db.close()


async def test_a_job_nobody_can_reach_in_time_expires_and_its_employer_is_told(
    make_server: Callable[..., ServerProcess],
) -> None:
    """Posted four minutes after its start with nobody waiting: once no one could arrive in
    time, the job becomes expired, leaves the board, and the employer's socket says so; a
    job with a hire does not expire."""
    server = make_server(arrival_grace_minutes=0)
    api, ws = server.api, server.ws_url
    boss = await manager(api, ws, "boss", "correct-horse")
    employer = await new_employer(api, ws, "13900000001", verified_by=boss)
    await employer.connect()
    late = await employer.ok("POST", "/markets/shiling/jobs",
                             job_body(headcount=1, start_at=in_hours(-4 / 60)))
    hired_job = await employer.ok("POST", "/markets/shiling/jobs", job_body(headcount=2))
    w = await new_worker(api, ws, "13800000001")
    await w.connect()
    await check_in(w)
    offer = await w.wait_for(lambda m: m["type"] == "offer")
    assert offer["job"]["id"] == hired_job["id"]  # nobody can reach the late one in time
    await w.ok("POST", f"/offers/{offer['offer_id']}/accept")
    told = await employer.wait_for(
        lambda m: m["type"] == "job" and m["job"]["id"] == late["id"]
        and m["job"]["state"] == "expired")
    assert told["job"]["accepted"] == 0
    board = await employer.ok("GET", "/markets/shiling/board")
    assert late["id"] not in {j["id"] for j in board["jobs"]}
    assert (await employer.ok("GET", f"/jobs/{hired_job['id']}"))["state"] == "open"
    await w.disconnect()
    await employer.disconnect()
