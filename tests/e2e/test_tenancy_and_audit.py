"""Market tenancy (SPEC 11.3) and the audit log of managers' actions (issue 9), against a
real server with two markets (shiling and huashan), each with its own manager."""

from __future__ import annotations

import contextlib

from tests.e2e.people import HALL, check_in, job_body, manager, new_employer, new_worker
from tests.e2e.server import ServerProcess


async def test_another_markets_manager_cannot_act_on_shiling_people(
    server: ServerProcess,
) -> None:
    """huashan's manager gets 403 on shiling's employer, worker, job and dispute queue, and
    nothing changes; shiling's manager succeeds, with each event in shiling's ledger."""
    api, ws = server.api, server.ws_url
    boss = await manager(api, ws, "boss", "correct-horse")
    other = await manager(api, ws, "other", "correct-horse")
    worker = await new_worker(api, ws, "13800000001")
    await check_in(worker)
    employer = await new_employer(api, ws, "13900000001")
    job = await employer.ok("POST", "/markets/shiling/jobs", job_body())
    assert job["state"] == "pending_review"

    for method, path, body in (
        ("POST", f"/employers/{employer.user_id}/verify", None),
        ("POST", f"/employers/{employer.user_id}/suspend", None),
        ("PUT", f"/workers/{worker.user_id}/key_group", {"key_group": "veteran"}),
        ("POST", f"/jobs/{job['id']}/approve", None),
        ("POST", f"/jobs/{job['id']}/reject", None),
    ):
        r = await other.call(method, path, body)
        assert r.status_code == 403, (path, r.text)
        assert r.json()["error"]["code"] == "not_your_market"
    assert (await employer.ok("GET", "/me"))["verified"] is False
    assert (await employer.ok("GET", f"/jobs/{job['id']}"))["state"] == "pending_review"
    assert (await worker.ok("GET", "/me"))["key_group"] is None
    # Nothing of shiling's is in huashan's review queue or audit log.
    review = await other.ok("GET", "/markets/huashan/review")
    assert review["jobs"] == [] and review["employers"] == []
    assert (await other.call("GET", "/markets/shiling/audit")).status_code == 403

    await boss.ok("POST", f"/employers/{employer.user_id}/verify")
    await boss.ok("PUT", f"/workers/{worker.user_id}/key_group", {"key_group": "veteran"})
    assert (await employer.ok("GET", f"/jobs/{job['id']}"))["state"] == "open"
    with contextlib.closing(server.ledger()) as db:
        rows = db.execute("SELECT type, market_id FROM events WHERE type IN"
                          " ('employer.verified', 'worker.key_group_set')").fetchall()
    assert sorted(rows) == [("employer.verified", "shiling"),
                            ("worker.key_group_set", "shiling")]


async def test_suspension_acts_only_in_the_managers_market(server: ServerProcess) -> None:
    """An employer posting in both markets, suspended by huashan's manager: its huashan job
    is withdrawn and it can no longer post there; its shiling job stays open, it can still
    sign in and post in shiling; the event is in huashan's ledger with the acting manager.
    Suspended by shiling's manager too, the account is suspended."""
    api, ws = server.api, server.ws_url
    boss = await manager(api, ws, "boss", "correct-horse")
    other = await manager(api, ws, "other", "correct-horse")
    employer = await new_employer(api, ws, "13900000001", verified_by=boss)
    in_shiling = await employer.ok("POST", "/markets/shiling/jobs", job_body())
    in_huashan = await employer.ok("POST", "/markets/huashan/jobs", job_body())

    out = await other.ok("POST", f"/employers/{employer.user_id}/suspend", {"note": "黑中介"})
    assert out["suspended_in"] == ["huashan"] and out["state"] == "active"
    assert out["jobs_withdrawn"] == [in_huashan["id"]]
    assert (await employer.ok("GET", f"/jobs/{in_shiling['id']}"))["state"] == "open"
    assert (await employer.ok("GET", f"/jobs/{in_huashan['id']}"))["state"] == "cancelled"
    r = await employer.call("POST", "/markets/huashan/jobs", job_body())
    assert r.status_code == 403 and r.json()["error"]["code"] == "suspended"
    await employer.ok("POST", "/markets/shiling/jobs", job_body())
    r = await other.call("POST", f"/employers/{employer.user_id}/suspend")
    assert r.status_code == 409
    with contextlib.closing(server.ledger()) as db:
        rows = db.execute("SELECT market_id, actor FROM events WHERE type ="
                          " 'employer.suspended'").fetchall()
    assert rows == [("huashan", other.user_id)]

    out = await boss.ok("POST", f"/employers/{employer.user_id}/suspend")
    assert out["state"] == "suspended" and out["suspended_in"] == ["shiling"]
    assert (await employer.call("GET", "/me")).status_code == 401


async def test_every_manager_action_is_in_its_markets_audit_log(server: ServerProcess) -> None:
    """Verify, approve, reject, key group, kiosk, suspend: each is in shiling's audit log with
    who, what, on whom, when and from where; huashan's log holds none of them; the log pages
    newest first with ``before``/``next`` and refuses bad paging values naming the field."""
    api, ws = server.api, server.ws_url
    boss = await manager(api, ws, "boss", "correct-horse")
    other = await manager(api, ws, "other", "correct-horse")
    worker = await new_worker(api, ws, "13800000001")
    await check_in(worker, HALL)
    employer = await new_employer(api, ws, "13900000001")
    first = await employer.ok("POST", "/markets/shiling/jobs", job_body())
    second = await employer.ok("POST", "/markets/shiling/jobs", job_body())
    await boss.ok("POST", f"/jobs/{first['id']}/approve")
    await boss.ok("POST", f"/jobs/{second['id']}/reject")
    await boss.ok("POST", f"/employers/{employer.user_id}/verify")
    await boss.ok("PUT", f"/workers/{worker.user_id}/key_group", {"key_group": "disabled"})
    kiosk = await boss.ok("POST", "/markets/shiling/kiosks", {"station_id": "hall"})
    await boss.ok("POST", f"/employers/{employer.user_id}/suspend")

    log = await boss.ok("GET", "/markets/shiling/audit")
    assert log["next"] is None
    got = [(i["action"], i["target"]["kind"], i["target"]["id"]) for i in log["items"]]
    assert got == [
        ("employer.suspend", "employer", employer.user_id),
        ("kiosk.register", "kiosk", kiosk["id"]),
        ("worker.key_group", "worker", worker.user_id),
        ("employer.verify", "employer", employer.user_id),
        ("job.reject", "job", second["id"]),
        ("job.approve", "job", first["id"]),
    ]
    for item in log["items"]:
        assert item["market_id"] == "shiling"
        assert item["manager"] == {"id": boss.user_id, "username": "boss"}
        assert item["address"] == "127.0.0.1"
        assert item["at"].endswith("+08:00")
    assert log["items"][2]["detail"] == {"key_group": "disabled"}
    assert (await other.ok("GET", "/markets/huashan/audit"))["items"] == []

    page1 = await boss.ok("GET", "/markets/shiling/audit?limit=4")
    assert len(page1["items"]) == 4 and page1["next"] == page1["items"][-1]["id"]
    page2 = await boss.ok("GET", f"/markets/shiling/audit?limit=4&before={page1['next']}")
    assert [i["id"] for i in page1["items"] + page2["items"]] == [
        i["id"] for i in log["items"]]
    assert page2["next"] is None
    for query, field in (("limit=0", "limit"), ("limit=x", "limit"), ("before=-1", "before")):
        r = await boss.call("GET", f"/markets/shiling/audit?{query}")
        assert r.status_code == 422 and r.json()["error"]["field"] == field
    # Append-only: the ledger itself refuses to change or delete a row.
    with contextlib.closing(server.ledger()) as db:
        for sql in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
            try:
                db.execute(sql)
            except Exception as e:
                assert "append-only" in str(e)
            else:
                raise AssertionError(f"{sql} was allowed")
