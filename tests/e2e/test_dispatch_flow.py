"""The dispatch spine end to end: real server, real Redis, real SQLite, real websockets."""

from __future__ import annotations

import asyncio

from tests.e2e.people import (
    check_in,
    job_body,
    manager,
    new_employer,
    new_worker,
)
from tests.e2e.server import ServerProcess


async def test_five_workers_job_for_three_fills_with_a_reoffer(server: ServerProcess) -> None:
    """5 waiting, a job for 3: exactly 3 offers; 2 accept, 1 declines, the slot is re-offered
    at once to another worker, who accepts; the job is filled and the employer saw each step."""
    api, ws = server.api, server.ws_url
    boss = await manager(api, ws, "boss", "correct-horse")
    workers = [await new_worker(api, ws, f"1380000000{i}") for i in range(5)]
    for w in workers:
        await w.connect()
        await check_in(w)
    employer = await new_employer(api, ws, "13900000001", verified_by=boss)
    await employer.connect()
    job = await employer.ok("POST", "/markets/shiling/jobs", job_body(headcount=3))
    assert job["state"] == "open"

    def offered(w: object) -> bool:
        return any(m["type"] == "offer" for m in w.messages)  # type: ignore[attr-defined]

    async def offers_settle() -> list[object]:
        await asyncio.sleep(0.5)
        for _ in range(100):
            got = [w for w in workers if offered(w)]
            if len(got) >= 3:
                break
            await asyncio.sleep(0.1)
        return [w for w in workers if offered(w)]

    first = await offers_settle()
    assert len(first) == 3
    detail = await employer.ok("GET", f"/jobs/{job['id']}")
    assert detail["pending_offers"] == 3 and detail["accepted"] == 0

    a, b, c = first
    for w in (a, b):
        offer = w.of_type("offer")[0]  # type: ignore[attr-defined]
        res = await w.ok("POST", f"/offers/{offer['offer_id']}/accept")  # type: ignore[attr-defined]
        assert res["assignment"]["job_id"] == job["id"]
    declined = c.of_type("offer")[0]  # type: ignore[attr-defined]
    await c.ok("POST", f"/offers/{declined['offer_id']}/decline")  # type: ignore[attr-defined]

    others = [w for w in workers if w not in first]
    reoffer = None
    for _ in range(100):
        got = [w for w in others if offered(w)]
        if got:
            reoffer = got[0]
            break
        await asyncio.sleep(0.05)
    assert reoffer is not None, "the declined slot was not re-offered"
    assert not [m for m in c.of_type("offer") if m["offer_id"] != declined["offer_id"]], \
        "the declined pair must never be offered again"  # type: ignore[attr-defined]
    offer = reoffer.of_type("offer")[0]  # type: ignore[attr-defined]
    await reoffer.ok("POST", f"/offers/{offer['offer_id']}/accept")  # type: ignore[attr-defined]

    filled = await employer.wait_for(lambda m: m["type"] == "job" and m["job"]["state"] == "filled")
    assert filled["job"]["accepted"] == 3
    assert len(filled["job"]["workers"]) == 3
    assert all("*" in w["name"] for w in filled["job"]["workers"])  # masked names
    # The employer's stream saw every step, in order, without gaps.
    seqs = [m["seq"] for m in employer.messages if "seq" in m]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    accepted_counts = [m["job"]["accepted"] for m in employer.of_type("job")]
    assert accepted_counts == sorted(accepted_counts) and accepted_counts[-1] == 3
    assert any(m["job"]["pending_offers"] == 3 for m in employer.of_type("job"))
    # The workers were told how their offers ended.
    for w, reason in ((a, "accepted"), (b, "accepted"), (c, "declined")):
        await w.wait_for(lambda m, r=reason: m["type"] == "offer_closed" and m["reason"] == r)
    await a.wait_for(lambda m: m["type"] == "assignment" and m["assignment"]["qr_svg"])
    for p in [*workers, employer]:
        await p.disconnect()

    # The ledger holds every step, with the assignments and no more than the headcount.
    db = server.ledger()
    assert db.execute("SELECT COUNT(*) FROM assignments WHERE job_id = ?",
                      (job["id"],)).fetchone()[0] == 3
    kinds = [r[0] for r in db.execute("SELECT type FROM events WHERE type LIKE 'offer.%'")]
    assert kinds.count("offer.created") == 4 and kinds.count("offer.accepted") == 3
    assert kinds.count("offer.declined") == 1
    db.close()
