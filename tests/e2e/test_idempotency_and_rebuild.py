"""Idempotent posts, and live pools rebuilt from the ledger when Redis comes back empty."""

from __future__ import annotations

import asyncio

import redis

from tests.e2e.people import check_in, job_body, manager, new_employer, new_worker
from tests.e2e.server import ServerProcess


async def test_a_repeated_idempotency_key_returns_the_first_result(server: ServerProcess) -> None:
    """The same key and body: the same job, posted once. The same key, another body: 422."""
    boss = await manager(server.api, server.ws_url, "boss", "correct-horse")
    e = await new_employer(server.api, server.ws_url, "13900000001", verified_by=boss)
    body = job_body(headcount=2)
    first = await e.call("POST", "/markets/shiling/jobs", body, headers={"Idempotency-Key": "k1"})
    again = await e.call("POST", "/markets/shiling/jobs", body, headers={"Idempotency-Key": "k1"})
    assert first.status_code == 201 and again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    other = await e.call("POST", "/markets/shiling/jobs", job_body(headcount=3),
                         headers={"Idempotency-Key": "k1"})
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert len(await e.ok("GET", "/me/jobs")) == 1


async def test_unverified_employers_wait_for_review_until_a_manager_approves(
    server: ServerProcess,
) -> None:
    """An unverified employer's job waits in review, is not dispatched, and is dispatched the
    moment the manager approves it."""
    boss = await manager(server.api, server.ws_url, "boss", "correct-horse")
    w = await new_worker(server.api, server.ws_url, "13800000001")
    await w.connect()
    await check_in(w)
    e = await new_employer(server.api, server.ws_url, "13900000001")
    job = await e.ok("POST", "/markets/shiling/jobs", job_body(headcount=1))
    assert job["state"] == "pending_review"
    queue = await boss.ok("GET", "/markets/shiling/review")
    assert [j["id"] for j in queue["jobs"]] == [job["id"]]
    assert [x["id"] for x in queue["employers"]] == [e.user_id]
    await asyncio.sleep(1)
    assert w.of_type("offer") == []
    await boss.ok("POST", f"/jobs/{job['id']}/approve")
    offer = await w.wait_for(lambda m: m["type"] == "offer")
    assert offer["job"]["id"] == job["id"]
    await w.disconnect()


async def test_the_live_pools_are_rebuilt_from_the_ledger(server: ServerProcess) -> None:
    """Redis loses everything; `gigmarket rebuild` puts back the waiting workers, the open job
    and its pending offer from the ledger, and dispatch carries on."""
    api, ws = server.api, server.ws_url
    boss = await manager(api, ws, "boss", "correct-horse")
    a = await new_worker(api, ws, "13800000001")
    b = await new_worker(api, ws, "13800000002")
    for w in (a, b):
        await w.connect()
        await check_in(w)
    e = await new_employer(api, ws, "13900000001", verified_by=boss)
    job = await e.ok("POST", "/markets/shiling/jobs", job_body(headcount=2))
    for w in (a, b):
        await w.wait_for(lambda m: m["type"] == "offer")
    sock = server.data_dir / "redis" / "redis.sock"
    r = redis.Redis(unix_socket_path=str(sock), decode_responses=True)
    before = {k: r.type(k) for k in r.keys("gm:{shiling}:*") if "lease" not in k}
    # Only this test's private embedded Redis is flushed, never a shared one.
    for k in r.keys("gm:{shiling}:*"):
        if "lease" not in k:
            r.delete(k)
    assert r.keys("gm:{shiling}:w*") == []
    server.cli("rebuild")
    after = {k: r.type(k) for k in r.keys("gm:{shiling}:*") if "lease" not in k}
    r.close()
    for key in ("gm:{shiling}:w", "gm:{shiling}:ws", "gm:{shiling}:j", "gm:{shiling}:o"):
        assert key in after and key in before
    # The pending offers are still honoured after the rebuild.
    for w in (a, b):
        offer = w.of_type("offer")[0]
        await w.ok("POST", f"/offers/{offer['offer_id']}/accept")
    assert (await e.ok("GET", f"/jobs/{job['id']}"))["state"] == "filled"
    for w in (a, b):
        await w.disconnect()
