"""Claims (抢单), reports, suspension and blocks, end to end: real server, Redis, SQLite and
websockets."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import write_config
from tests.e2e.people import (
    Person,
    check_in,
    in_hours,
    job_body,
    manager,
    new_employer,
    new_worker,
)
from tests.e2e.server import REPO, ServerProcess


class WebOnlyServer(ServerProcess):
    """The web process without the dispatcher (``serve --no-dispatch``): no round competes
    with the claims for the slots, so a race decides them alone."""

    def start(self, timeout_s: float = 60) -> WebOnlyServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "gigmarket.cli", "serve", "--host", "127.0.0.1",
               "--port", str(self.port), "--dev", "--no-dispatch"]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(cmd, env=self.env, stdout=log,
                                         stderr=subprocess.STDOUT, cwd=REPO,
                                         start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_tail()}")
            try:
                # Ready but for dispatch (503 names the market nobody dispatches, honestly).
                checks = httpx.get(f"{self.base_url}/readyz", timeout=1).json()["checks"]
                if checks["redis"] == "ok" and checks["ledger"] == "ok":
                    return self
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server not ready in {timeout_s}s:\n{self.log_tail()}")


@pytest.fixture
def web_only(tmp_path: Path) -> Iterator[ServerProcess]:
    config = write_config(tmp_path / "config", {"claim_after_s": 0})
    srv = WebOnlyServer(tmp_path / "data", env={"GIGMARKET_CONFIG": str(config)})
    srv.start()
    srv.cli("manager", "add", "--username", "boss", "--market", "shiling",
            "--password", "correct-horse")
    try:
        yield srv
    finally:
        srv.stop()
    log = srv.log_tail(100_000)
    assert "Traceback" not in log, f"the server logged an error:\n{log[-6000:]}"



async def _setup_job(server: ServerProcess, headcount: int) -> tuple[Person, Person, Any]:
    boss = await manager(server.api, server.ws_url, "boss", "correct-horse")
    employer = await new_employer(server.api, server.ws_url, "13900000001", verified_by=boss)
    job = await employer.ok("POST", "/markets/shiling/jobs", job_body(headcount=headcount))
    assert job["state"] == "open"
    return boss, employer, job


# -- claims --------------------------------------------------------------------------------------

async def test_thousand_concurrent_claims_fill_exactly_three_slots(
    web_only: ServerProcess,
) -> None:
    """1000 claims at once (250 workers, 4 taps each) for 3 slots: exactly 3 win, 3 distinct
    workers; every loser gets a clear 409; the ledger holds 3 assignments and no more."""
    api, ws = web_only.api, web_only.ws_url
    _, _, job = await _setup_job(web_only, 3)
    gate = asyncio.Semaphore(25)

    async def ready_worker(i: int) -> Person:
        async with gate:
            w = await new_worker(api, ws, f"137{i:08d}")
            await check_in(w)
            return w

    workers = await asyncio.gather(*(ready_worker(i) for i in range(250)))
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=api, timeout=120, limits=limits) as c:
        async def tap(w: Person) -> tuple[str, httpx.Response]:
            r = await c.post(f"/jobs/{job['id']}/claim",
                             headers={"Authorization": f"Bearer {w.token}"})
            return w.user_id, r

        results = await asyncio.gather(*(tap(w) for w in workers for _ in range(4)))
    assert len(results) == 1000
    statuses = Counter(r.status_code for _, r in results)
    assert statuses[201] == 3, statuses
    assert statuses[409] == 997, statuses
    winners = {wid for wid, r in results if r.status_code == 201}
    assert len(winners) == 3
    codes = Counter(r.json()["error"]["code"] for _, r in results if r.status_code == 409)
    assert set(codes) <= {"job_full", "job_filled", "not_available", "not_checked_in",
                          "declined_before", "overlapping_assignment"}, codes

    db = web_only.ledger()
    rows = db.execute("SELECT worker_id, via, state FROM assignments WHERE job_id = ?",
                      (job["id"],)).fetchall()
    assert {r[0] for r in rows} == winners and len(rows) == 3
    assert {(r[1], r[2]) for r in rows} == {("claim", "accepted")}
    accepted, state = db.execute("SELECT accepted, state FROM jobs WHERE id = ?",
                                 (job["id"],)).fetchone()
    assert (accepted, state) == (3, "filled")
    assert db.execute("SELECT COUNT(*) FROM events WHERE type = 'job.claimed'").fetchone()[0] == 3
    db.close()


async def test_claim_lists_assigns_and_tells_both_sides(web_only: ServerProcess) -> None:
    """A claimable job is on the board and on the worker's list; the claim makes an
    assignment with a QR that reaches the worker's socket, and the employer's job view."""
    api, ws = web_only.api, web_only.ws_url
    _, employer, job = await _setup_job(web_only, 2)
    await employer.connect()
    worker = await new_worker(api, ws, "13800000001")
    far = await new_worker(api, ws, "13800000002", skills=["cleaning"])
    await worker.connect()

    board = await worker.ok("GET", "/markets/shiling/board")
    assert [j["claimable"] for j in board["jobs"] if j["id"] == job["id"]] == [True]
    r = await worker.call("GET", "/markets/shiling/claimable")
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_checked_in"
    await check_in(worker)
    await check_in(far)
    listed = await worker.ok("GET", "/markets/shiling/claimable")
    assert [(j["id"], j["open_slots"]) for j in listed["jobs"]] == [(job["id"], 2)]
    assert listed["jobs"][0]["travel_minutes"] > 0
    # The cleaner has none of the job's skills: nothing to claim, and a claim says why.
    assert (await far.ok("GET", "/markets/shiling/claimable"))["jobs"] == []
    r = await far.call("POST", f"/jobs/{job['id']}/claim")
    assert r.status_code == 409 and r.json()["error"]["code"] == "no_skill_match"

    out = await worker.ok("POST", f"/jobs/{job['id']}/claim")
    assert out["assignment"]["job_id"] == job["id"] and out["assignment"]["qr"]
    got = await worker.wait_for(lambda m: m["type"] == "assignment")
    assert got["assignment"]["id"] == out["assignment"]["id"]
    seen = await employer.wait_for(lambda m: m["type"] == "job" and m["job"]["accepted"] == 1)
    assert seen["job"]["workers"][0]["assignment_id"] == out["assignment"]["id"]
    again = await worker.call("POST", f"/jobs/{job['id']}/claim")
    assert again.status_code == 409
    r = await employer.call("POST", f"/jobs/{job['id']}/claim")
    assert r.status_code == 403
    r = await worker.call("POST", "/jobs/j_nope/claim")
    assert r.status_code == 404
    await worker.disconnect()
    await employer.disconnect()
    db = web_only.ledger()
    assert db.execute("SELECT via FROM assignments WHERE job_id = ?",
                      (job["id"],)).fetchall() == [("claim",)]
    assert db.execute("SELECT accepted, state FROM jobs WHERE id = ?",
                      (job["id"],)).fetchone() == (1, "open")
    db.close()


async def test_claim_refused_before_claim_after(make_server: Callable[..., ServerProcess]) -> None:
    """A job posted moments ago is not yet open to claims (claim_after_s)."""
    server = make_server(claim_after_s=600)
    _, _, job = await _setup_job(server, 1)
    worker = await new_worker(server.api, server.ws_url, "13800000001")
    await check_in(worker)
    r = await worker.call("POST", f"/jobs/{job['id']}/claim")
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_claimable_yet"
    board = await worker.ok("GET", "/markets/shiling/board")
    assert [j["claimable"] for j in board["jobs"] if j["id"] == job["id"]] == [False]
    db = server.ledger()
    assert db.execute("SELECT COUNT(*) FROM assignments WHERE via = 'claim'").fetchone() == (0,)
    db.close()


# -- reports and suspension --------------------------------------------------------------------

async def _hire_and_offer(server: ServerProcess) -> tuple[Person, Person, Person, Person,
                                                           dict[str, Any], dict[str, Any]]:
    """Job A hired by one worker; job B offered (pending) to the other."""
    api, ws = server.api, server.ws_url
    boss = await manager(api, ws, "boss", "correct-horse")
    workers = [await new_worker(api, ws, f"1380000000{i}") for i in range(2)]
    for w in workers:
        await w.connect()
        await check_in(w)
    employer = await new_employer(api, ws, "13900000001", verified_by=boss)
    await employer.connect()
    job_a = await employer.ok("POST", "/markets/shiling/jobs", job_body(headcount=1))
    while True:
        hired = next((w for w in workers if w.of_type("offer")), None)
        if hired is not None:
            break
        await hired_wait(workers)
    offer = hired.of_type("offer")[0]
    await hired.ok("POST", f"/offers/{offer['offer_id']}/accept")
    other = next(w for w in workers if w is not hired)
    job_b = await employer.ok("POST", "/markets/shiling/jobs", job_body(headcount=1))
    await other.wait_for(lambda m: m["type"] == "offer" and m["job"]["id"] == job_b["id"])
    return boss, employer, hired, other, job_a, job_b


async def hired_wait(workers: list[Person]) -> None:
    await asyncio.wait([asyncio.ensure_future(w.wait_for(lambda m: m["type"] == "offer"))
                        for w in workers], return_when=asyncio.FIRST_COMPLETED)


async def test_report_review_and_suspension_withdraw_everything(server: ServerProcess) -> None:
    """A hired worker reports the posting; the manager upholds it and suspends the employer:
    its jobs are cancelled, the pending offer closes as withdrawn, the hired worker is told,
    the employer's socket closes and its token stops working."""
    boss, employer, hired, other, job_a, job_b = await _hire_and_offer(server)
    stranger = await new_worker(server.api, server.ws_url, "13800000009")
    r = await stranger.call("POST", f"/jobs/{job_a['id']}/report", {"reason": "fake"})
    assert r.status_code == 404
    r = await hired.call("POST", f"/jobs/{job_a['id']}/report", {"reason": "scam"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "reason"
    filed = await hired.ok("POST", f"/jobs/{job_a['id']}/report",
                           {"reason": "fake", "note": "到了现场没有这个仓库"})
    r = await hired.call("POST", f"/jobs/{job_a['id']}/report", {"reason": "fake"})
    assert r.status_code == 409
    other_boss = await manager(server.api, server.ws_url, "other", "correct-horse")
    r = await other_boss.call("GET", "/markets/shiling/reports")
    assert r.status_code == 403
    queue = await boss.ok("GET", "/markets/shiling/reports")
    assert [q["id"] for q in queue["reports"]] == [filed["id"]]
    assert "*" in queue["reports"][0]["worker"]
    r = await boss.call("POST", f"/reports/{filed['id']}/resolve", {"upheld": "yes", "note": "x"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "upheld"
    await boss.ok("POST", f"/reports/{filed['id']}/resolve",
                  {"upheld": True, "note": "核实为虚假招聘"})
    assert (await boss.ok("GET", "/markets/shiling/reports"))["reports"] == []

    r = await hired.call("POST", f"/employers/{employer.user_id}/suspend")
    assert r.status_code == 403
    out = await boss.ok("POST", f"/employers/{employer.user_id}/suspend",
                        {"note": "虚假招聘"})
    assert sorted(out["jobs_withdrawn"]) == sorted([job_a["id"], job_b["id"]])
    await other.wait_for(lambda m: m["type"] == "offer_closed" and m["reason"] == "withdrawn")
    await hired.wait_for(lambda m: m["type"] == "job_cancelled" and m["job_id"] == job_a["id"])
    assert employer._reader is not None
    await asyncio.wait_for(employer._reader, 10)  # the server closed the socket
    r = await employer.call("GET", "/me/jobs")
    assert r.status_code == 401
    r = await boss.call("POST", f"/employers/{employer.user_id}/suspend")
    assert r.status_code == 409
    for p in (hired, other):
        await p.disconnect()

    db = server.ledger()
    assert db.execute("SELECT state FROM employers").fetchone() == ("suspended",)
    assert {r[0] for r in db.execute("SELECT state FROM jobs")} == {"cancelled"}
    assert db.execute("SELECT state FROM offers WHERE job_id = ?",
                      (job_b["id"],)).fetchone() == ("withdrawn",)
    assert db.execute("SELECT state FROM assignments").fetchone() == ("cancelled",)
    assert db.execute("SELECT COUNT(*) FROM sessions WHERE user_id = ? AND revoked_at IS NULL",
                      (employer.user_id,)).fetchone() == (0,)
    upheld, reliability = db.execute("SELECT upheld_reports, reliability FROM employers"
                                     ).fetchone()
    assert upheld == 1 and reliability < 1.0
    kinds = {r[0] for r in db.execute("SELECT type FROM events")}
    assert {"report.filed", "report.resolved", "employer.suspended"} <= kinds
    db.close()


# -- blocks and the employer's late cancel ---------------------------------------------------

async def test_block_excludes_matching_and_claims(
    make_server: Callable[..., ServerProcess],
) -> None:
    """A worker blocks the employer they work for: a later job of that employer is offered
    to others, never to them, and their claim is refused; the employer's cancel an hour before
    the start is late and lowers its reliability."""
    server = make_server(claim_after_s=0)
    _, employer, hired, other, job_a, _ = await _hire_and_offer(server)
    r = await hired.call("POST", "/blocks", {"employer_id": "e_nobody"})
    assert r.status_code == 404
    r = await hired.call("POST", "/blocks", {"worker_id": other.user_id})
    assert r.status_code == 422 and r.json()["error"]["field"] == "worker_id"
    await hired.ok("POST", "/blocks", {"employer_id": employer.user_id})
    # Free again for later work, the blocker waits beside a newcomer.
    newcomer = await new_worker(server.api, server.ws_url, "13800000005")
    await newcomer.connect()
    await check_in(hired)
    await check_in(newcomer)
    later = await employer.ok("POST", "/markets/shiling/jobs",
                              job_body(headcount=2, start_at=in_hours(12)))
    await newcomer.wait_for(lambda m: m["type"] == "offer" and m["job"]["id"] == later["id"])
    r = await hired.call("POST", f"/jobs/{later['id']}/claim")
    assert r.status_code == 409 and r.json()["error"]["code"] == "blocked"
    assert not [m for m in hired.of_type("offer") if m["job"]["id"] == later["id"]]

    await employer.ok("POST", f"/jobs/{job_a['id']}/cancel")
    await hired.wait_for(lambda m: m["type"] == "job_cancelled" and m["job_id"] == job_a["id"])
    for p in (hired, other, newcomer, employer):
        await p.disconnect()
    db = server.ledger()
    assert db.execute("SELECT COUNT(*) FROM offers WHERE job_id = ? AND worker_id = ?",
                      (later["id"], hired.user_id)).fetchone() == (0,)
    assert db.execute("SELECT by_role FROM blocks").fetchall() == [("worker",)]
    late_cancels, reliability = db.execute("SELECT late_cancels, reliability FROM employers"
                                           ).fetchone()
    assert late_cancels == 1 and reliability < 1.0
    db.close()
