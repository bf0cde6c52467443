"""kill -9 mid-traffic: every acknowledged change survives, and a client resumes without a gap."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable

import httpx

from tests.e2e.people import Person, check_in, job_body, manager, new_employer, new_worker
from tests.e2e.server import ServerProcess


def ledger_messages(server: ServerProcess, recipient: str) -> list[dict[str, object]]:
    db = server.ledger()
    rows = db.execute("SELECT body FROM messages WHERE recipient = ? ORDER BY seq",
                      (recipient,)).fetchall()
    db.close()
    return [json.loads(r[0]) for r in rows]


async def test_kill_9_mid_traffic_loses_nothing_acknowledged_and_resume_has_no_gap(
    make_server: Callable[..., ServerProcess],
) -> None:
    """Posts and accepts flow; the server is SIGKILLed; after a restart every 2xx is in the
    ledger, and the employer resumes from its last seq and gets exactly what it missed."""
    server = make_server()
    api, ws = server.api, server.ws_url
    boss = await manager(api, ws, "boss", "correct-horse")
    employer = await new_employer(api, ws, "13900000001", verified_by=boss)
    workers = [await new_worker(api, ws, f"138000002{i:02d}") for i in range(12)]
    for w in workers:
        await w.connect()
        await check_in(w)
    await employer.connect()

    posted: list[str] = []
    accepted: list[str] = []
    stop = asyncio.Event()

    async def keep_posting() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            with contextlib.suppress(httpx.HTTPError):
                r = await employer.call("POST", "/markets/shiling/jobs", job_body(headcount=1),
                                        headers={"Idempotency-Key": f"post-{n}"})
                if r.status_code == 201:
                    posted.append(r.json()["id"])
            await asyncio.sleep(0.05)

    async def keep_accepting(w: Person) -> None:
        tried: set[str] = set()
        while not stop.is_set():
            for m in w.of_type("offer"):
                if m["offer_id"] not in tried:
                    tried.add(m["offer_id"])
                    with contextlib.suppress(httpx.HTTPError):
                        r = await w.call("POST", f"/offers/{m['offer_id']}/accept")
                        if r.status_code == 200:
                            accepted.append(m["offer_id"])
                    # Back in the pool for the next job.
                    with contextlib.suppress(httpx.HTTPError):
                        await check_in(w)
            await asyncio.sleep(0.05)

    traffic = [asyncio.create_task(keep_posting())]
    traffic += [asyncio.create_task(keep_accepting(w)) for w in workers]
    for _ in range(200):
        if len(accepted) >= 4:
            break
        await asyncio.sleep(0.05)
    assert len(accepted) >= 4, "no traffic flowed before the crash"

    server.kill()
    stop.set()
    await asyncio.gather(*traffic)
    seen_before = [m for m in employer.messages if "seq" in m]
    last_seen = max(m["seq"] for m in seen_before)  # type: ignore[type-var]
    for p in [*workers, employer]:
        await p.disconnect()

    server.start()
    db = server.ledger()
    for job_id in posted:
        assert db.execute("SELECT 1 FROM jobs WHERE id = ?", (job_id,)).fetchone(), job_id
    for offer_id in accepted:
        row = db.execute("SELECT state FROM offers WHERE id = ?", (offer_id,)).fetchone()
        assert row == ("accepted",), offer_id
        assert db.execute("SELECT 1 FROM assignments WHERE offer_id = ?", (offer_id,)).fetchone()
    db.close()

    # The employer comes back and resumes from the last seq it saw.
    employer.messages.clear()
    await employer.connect(resume_after=int(last_seen))  # type: ignore[arg-type]
    recipient = f"employer:{employer.user_id}"
    missed = [m for m in ledger_messages(server, recipient)
              if m["seq"] > last_seen]  # type: ignore[operator]
    got = await _collect(employer, len(missed))
    # The restarted server goes on working (its first rounds may tell the employer more), so
    # what arrived is compared with the ledger as it stands after the arrival: every message
    # after the last seen, each once, in order, and none the ledger does not hold.
    stored = {m["seq"]: m for m in ledger_messages(server, recipient)}
    seqs = [m["seq"] for m in got]
    assert seqs[:len(missed)] == [m["seq"] for m in missed]
    assert all(s in stored for s in seqs), (seqs, list(stored))
    assert [m["seq"] for m in seen_before] + seqs == \
        list(range(1, len(seen_before) + len(got) + 1))

    # And the market works after the restart: the pools came back from the ledger (the twelve
    # are still waiting), and a job for all of them reaches a newcomer too.
    fresh = await new_worker(api, ws, "13800000399")
    await fresh.connect()
    await check_in(fresh)
    job = await employer.ok("POST", "/markets/shiling/jobs", job_body(headcount=13))
    offer = await fresh.wait_for(lambda m: m["type"] == "offer" and m["job"]["id"] == job["id"])
    assert offer["job"]["title"] == "仓库搬货"
    await employer.disconnect()
    await fresh.disconnect()


async def _collect(p: Person, n: int) -> list[dict[str, object]]:
    for _ in range(200):
        seq_msgs = [m for m in p.messages if "seq" in m and m["type"] != "snapshot"]
        if len(seq_msgs) >= n:
            await asyncio.sleep(0.2)  # and nothing more (no duplicates) arrives after them
            return [m for m in p.messages if "seq" in m]
        await asyncio.sleep(0.05)
    raise AssertionError(f"wanted {n} replayed messages, got {p.messages}")


async def test_resume_after_a_dropped_socket_replays_in_order(server: ServerProcess) -> None:
    """A worker's socket drops; messages sent meanwhile are replayed on resume, in order,
    once; a resume from a seq ahead of history gets a snapshot."""
    api, ws = server.api, server.ws_url
    boss = await manager(api, ws, "boss", "correct-horse")
    employer = await new_employer(api, ws, "13900000001", verified_by=boss)
    w = await new_worker(api, ws, "13800000001")
    ready = await w.connect()
    assert ready["seq"] == 0
    await check_in(w)
    await w.disconnect()
    job = await employer.ok("POST", "/markets/shiling/jobs", job_body(headcount=1))
    # The offer is made while the worker is away.
    for _ in range(100):
        if ledger_messages(server, f"worker:{w.user_id}"):
            break
        await asyncio.sleep(0.05)
    await w.connect(resume_after=0)
    offer = await w.wait_for(lambda m: m["type"] == "offer")
    assert offer["seq"] == 1 and offer["job"]["id"] == job["id"]
    await w.ok("POST", f"/offers/{offer['offer_id']}/decline")
    await w.wait_for(lambda m: m["type"] == "offer_closed")
    assert [m["seq"] for m in w.messages if "seq" in m] == [1, 2]
    await w.disconnect()
    w.messages.clear()
    await w.connect(resume_after=999)
    snap = await w.wait_for(lambda m: m["type"] == "snapshot")
    assert snap["seq"] == 2 and snap["state"]["me"]["state"] == "available"
    await w.disconnect()
