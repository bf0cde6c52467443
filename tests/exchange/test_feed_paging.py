"""Paging the feeds while the market writes, and across a ``kill -9``: every committed change
exactly once, in commit order; a saved cursor resumes where it left off."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.people import Person, check_in, job_body, manager, new_employer, new_worker
from tests.e2e.server import ServerProcess
from tests.exchange.conftest import add_platform
from tests.exchange.platform import FakePlatform
from tests.exchange.test_postings import posting


def check_exactly_once_in_order(items: list[dict[str, Any]], key: str) -> None:
    """Cursors 1, 2, 3… with no gap or repeat, and each job's (or assignment's) changes in
    order with versions 1, 2, 3…"""
    assert [int(i["cursor"]) for i in items] == list(range(1, len(items) + 1))
    if key == "id":
        seen: dict[str, int] = {}
        for item in items:
            seen[item["id"]] = seen.get(item["id"], 0) + 1
            assert item["version"] == seen[item["id"]], item


def final(items: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        out[item[key]] = item
    return out


async def keep_accepting(w: Person, stop: asyncio.Event, accepted: list[str]) -> None:
    tried: set[str] = set()
    while not stop.is_set():
        for m in w.of_type("offer"):
            if m["offer_id"] not in tried:
                tried.add(m["offer_id"])
                with contextlib.suppress(httpx.HTTPError):
                    r = await w.call("POST", f"/offers/{m['offer_id']}/accept")
                    if r.status_code == 200:
                        accepted.append(r.json()["assignment"]["id"])
                        # Done with that one: cancel so the worker takes the next.
                        await w.call("POST", f"/assignments/{r.json()['assignment']['id']}"
                                     "/cancel")
                        await check_in(w)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(w._arrived.wait(), 0.5)
        w._arrived.clear()


async def test_paging_while_jobs_are_posted_accepted_and_cancelled_sees_each_change_once(
    server: ServerProcess, province: FakePlatform,
) -> None:
    """Employers post, the province posts, workers accept and cancel, while the platform
    pages both feeds seven items at a time; what it read matches the ledger at the end."""
    api, ws = server.api, server.ws_url
    boss = await manager(api, ws, "boss", "correct-horse")
    employer = await new_employer(api, ws, "13900000001", verified_by=boss)
    workers = [await new_worker(api, ws, f"138000001{i:02d}") for i in range(6)]
    for w in workers:
        await w.connect()
        await check_in(w)
    stop = asyncio.Event()
    accepted: list[str] = []
    posted: list[str] = []

    async def local_posts() -> None:
        for n in range(12):
            r = await employer.call("POST", "/markets/shiling/jobs", job_body(headcount=2))
            assert r.status_code == 201, r.text
            posted.append(r.json()["id"])
            if n % 4 == 3:
                await employer.ok("POST", f"/jobs/{posted[-1]}/cancel")

    async def provincial_posts() -> None:
        for n in range(8):
            r = await province.send("POST", "/exchange/jobs",
                                    posting(1, external_id=f"GD-{n}", headcount=2))
            assert r.status_code == 201, r.text
            posted.append(r.json()["id"])
            if n % 2 == 0:
                r = await province.send("POST", "/exchange/jobs",
                                        posting(2, external_id=f"GD-{n}", headcount=2,
                                                title=f"夜班{n}"))
                assert r.status_code in (200, 409), r.text

    jobs_read: list[dict[str, Any]] = []
    outcomes_read: list[dict[str, Any]] = []

    async def read(feed: str, into: list[dict[str, Any]]) -> None:
        cursor: str | None = None
        while not stop.is_set():
            page = await province.page(feed, cursor, limit=7)
            into.extend(page["items"])
            cursor = page["next"]

    readers = [asyncio.create_task(read("jobs", jobs_read)),
               asyncio.create_task(read("outcomes", outcomes_read))]
    acceptors = [asyncio.create_task(keep_accepting(w, stop, accepted)) for w in workers]
    await asyncio.gather(local_posts(), provincial_posts())
    for _ in range(1200):  # up to a minute on a loaded machine
        if len(accepted) >= 4:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.gather(*readers, *acceptors)
    assert len(accepted) >= 4, "no work was taken while the feeds were read"
    assert jobs_read and outcomes_read, "the readers read nothing while the market wrote"

    # Finish reading after the writers stopped: the concurrent part plus the rest.
    async for item in province.drain("jobs", jobs_read[-1]["cursor"], limit=7):
        jobs_read.append(item)
    async for item in province.drain("outcomes", outcomes_read[-1]["cursor"], limit=7):
        outcomes_read.append(item)
    check_exactly_once_in_order(jobs_read, "id")
    check_exactly_once_in_order(outcomes_read, "assignment_id")

    db = server.ledger()
    jobs_now = {r[0]: r[1:] for r in db.execute(
        "SELECT id, state, accepted, title, headcount FROM jobs")}
    assignments_now = {r[0]: r[1] for r in db.execute("SELECT id, state FROM assignments")}
    db.close()
    last_jobs = final(jobs_read, "id")
    assert set(last_jobs) == set(jobs_now) and set(posted) <= set(jobs_now)
    for job_id, (state, n, title, headcount) in jobs_now.items():
        item = last_jobs[job_id]
        assert (item["state"], item["accepted"], item["title"], item["headcount"]) == \
            (state, n, title, headcount), job_id
    last_outcomes = final(outcomes_read, "assignment_id")
    assert {k: v["state"] for k, v in last_outcomes.items()} == assignments_now
    assert set(accepted) <= set(assignments_now)
    for w in workers:
        await w.disconnect()


async def test_a_saved_cursor_resumes_after_kill_9_and_nonces_are_still_remembered(
    make_server: Callable[..., ServerProcess], tmp_path: Path,
) -> None:
    """The platform saves its cursor to disk after each page; the server is SIGKILLed while
    postings arrive; after the restart the platform resumes from the file and ends with every
    acknowledged posting exactly once, and a nonce used before the crash is still refused."""
    server = make_server()
    province = add_platform(server, "gd-province")
    saved = tmp_path / "cursor.json"
    acknowledged: list[str] = []
    read: list[dict[str, Any]] = []
    try:
        sent = [posting(1, external_id=f"A-{n}") for n in range(5)]
        for n in range(5):
            r = await province.send("POST", "/exchange/jobs", sent[n])
            assert r.status_code == 201
            acknowledged.append(r.json()["id"])
        page = await province.page("jobs", None, limit=3)
        read.extend(page["items"])
        saved.write_text(json.dumps({"jobs": page["next"]}))
        used_nonce = "before-the-crash-0001"
        assert (await province.send("GET", "/exchange/outcomes", nonce=used_nonce)
                ).status_code == 200

        stop = asyncio.Event()

        async def keep_posting() -> None:
            n = 0
            while not stop.is_set():
                n += 1
                with contextlib.suppress(httpx.HTTPError):
                    r = await province.send("POST", "/exchange/jobs",
                                            posting(1, external_id=f"B-{n}"))
                    if r.status_code == 201:
                        acknowledged.append(r.json()["id"])

        writer = asyncio.create_task(keep_posting())
        for _ in range(1200):
            if len(acknowledged) >= 9:
                break
            await asyncio.sleep(0.05)
        server.kill()
        stop.set()
        await writer
        assert len(acknowledged) >= 9, "no posting was acknowledged before the crash"

        server.start()
        cursor = json.loads(saved.read_text())["jobs"]
        async for item in province.drain("jobs", cursor, limit=4):
            read.append(item)
        check_exactly_once_in_order(read, "id")
        ids = [i["id"] for i in read]
        assert len(ids) == len(set(ids)) and set(acknowledged) <= set(ids)
        everything = [i async for i in province.drain("jobs", None, limit=50)]
        assert everything == read

        again = await province.send("GET", "/exchange/outcomes", nonce=used_nonce)
        assert again.status_code == 401 and again.json()["error"]["code"] == "replayed_nonce"
        # A posting whose answer was lost in the crash is simply sent again: same answer.
        repeat = await province.send("POST", "/exchange/jobs", sent[4])
        assert (repeat.status_code, repeat.json()["id"]) == (200, acknowledged[4])
    finally:
        await province.aclose()


