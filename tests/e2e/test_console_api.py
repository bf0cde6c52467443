"""The console's API end to end: market rules changed live and recorded with the manager,
and the ledger export streamed for a date range."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from tests.e2e.people import check_in, job_body, manager, new_employer, new_worker
from tests.e2e.server import ServerProcess


async def test_rules_change_is_checked_recorded_and_applied_live(server: ServerProcess) -> None:
    """Bad changes are refused by field and change nothing; a good one is stored with the
    manager, shown with the config's defaults, and the dispatcher (another process) gives the
    next offer the new timeout without a restart."""
    api, ws = server.api, server.ws_url
    boss = await manager(api, ws, "boss", "correct-horse")
    before = await boss.ok("GET", "/markets/shiling/rules")
    assert before["rules"]["offer_timeout_s"] == 45 and before["changed"] is None
    for body, field in (({"offer_timeout_s": 3}, "offer_timeout_s"),
                        ({"offer_timeout_s": "fast"}, "offer_timeout_s"),
                        ({"speed_kmh": 20}, "speed_kmh"),
                        ({"max_travel_minutes": None}, "max_travel_minutes"),
                        ({"min_daily_wage_fen": 100}, "min_daily_wage_fen")):
        r = await boss.call("PUT", "/markets/shiling/rules", body)
        assert r.status_code in (400, 422) and r.json()["error"]["field"] == field, r.text
    other = await manager(api, ws, "other", "correct-horse")
    r = await other.call("PUT", "/markets/shiling/rules", {"offer_timeout_s": 20})
    assert r.status_code == 403
    assert (await boss.ok("GET", "/markets/shiling/rules"))["rules"] == before["rules"]

    after = await boss.ok("PUT", "/markets/shiling/rules",
                          {"offer_timeout_s": 12, "claim_after_s": 120})
    assert after["rules"]["offer_timeout_s"] == 12 and after["rules"]["claim_after_s"] == 120
    assert after["defaults"]["offer_timeout_s"] == 45
    assert after["changed"]["manager"]["username"] == "boss"
    assert after["history"][0]["changed"] == {"offer_timeout_s": 12, "claim_after_s": 120}
    assert after["history"][0]["before"] == {"offer_timeout_s": 45, "claim_after_s": 600}
    # The audit log has the change once, with who and what; the refused ones left no row.
    logged = (await boss.ok("GET", "/markets/shiling/audit"))["items"]
    assert [(e["action"], e["manager"]["username"], e["detail"]) for e in logged
            if e["action"] == "market.rules"] == [
        ("market.rules", "boss", {"change": {"offer_timeout_s": 12, "claim_after_s": 120},
                                  "before": {"offer_timeout_s": 45, "claim_after_s": 600}})]
    # The public market list carries the rules in force too.
    async with httpx.AsyncClient(base_url=api) as c:
        listed = {m["id"]: m for m in (await c.get("/markets")).json()}
    assert listed["shiling"]["rules"]["offer_timeout_s"] == 12

    w = await new_worker(api, ws, "13800000201")
    await w.connect()
    await check_in(w)
    employer = await new_employer(api, ws, "13900000201", verified_by=boss)
    await employer.ok("POST", "/markets/shiling/jobs", job_body(headcount=1))
    offer = await w.wait_for(lambda m: m["type"] == "offer")
    await w.disconnect()
    db = server.ledger()
    created, expires = db.execute("SELECT created_at, expires_at FROM offers WHERE id = ?",
                                  (offer["offer_id"],)).fetchone()
    (actor, payload), = db.execute("SELECT actor, payload FROM events"
                                   " WHERE type = 'market.rules_changed'").fetchall()
    db.close()
    assert abs((expires - created) - 12) < 1.0
    assert actor == boss.user_id and json.loads(payload)["changed"]["offer_timeout_s"] == 12


async def test_ledger_export_streams_a_range(server: ServerProcess) -> None:
    """Thousands of events of a day come back in order, each once, chunk by chunk with no
    length known in advance (the server never holds the whole range), and only that day's."""
    boss = await manager(server.api, server.ws_url, "boss", "correct-horse")
    zone = ZoneInfo("Asia/Shanghai")
    day = datetime.now(zone).date() - timedelta(days=3)
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=zone).timestamp()
    db = server.ledger()
    # A busy day's history, written straight into the ledger: the API would take minutes.
    # Three events per instant (as a round writes its offers): page edges fall mid-instant.
    rows = [(f"ev_{uuid.uuid4().hex}", noon + i // 3, "shiling", "offer.created", "dispatcher",
             f"of_{i}", json.dumps({"i": i})) for i in range(9000)]
    rows += [(f"ev_{uuid.uuid4().hex}", noon + 86400, "shiling", "offer.created", "dispatcher",
              "of_next_day", "{}")]
    db.executemany("INSERT INTO events (id, at, market_id, type, actor, subject, payload)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    db.commit()
    db.close()
    chunks = 0
    body = b""
    async with httpx.AsyncClient(base_url=server.api, timeout=60) as c, c.stream(
            "GET", f"/markets/shiling/ledger.csv?from={day}&to={day}",
            headers={"Authorization": f"Bearer {boss.token}",
                     "Accept-Encoding": "identity"}) as r:
        assert r.status_code == 200
        assert "content-length" not in r.headers
        assert r.headers["transfer-encoding"] == "chunked"
        async for chunk in r.aiter_raw():
            chunks += 1
            body += chunk
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("seq,event_id,at,market_id,type")
    subjects = [line.split(",")[6] for line in lines[1:]]
    assert subjects == [f"of_{i}" for i in range(9000)]
    assert chunks >= 3
    # The export carried people's records out: the audit log says who took which days.
    exports = [e for e in (await boss.ok("GET", "/markets/shiling/audit"))["items"]
               if e["action"] == "ledger.export"]
    assert [(e["manager"]["username"], e["detail"]) for e in exports] == [
        ("boss", {"from": str(day), "to": str(day)})]


async def test_whatif_runs_in_the_background_to_a_comparison(server: ServerProcess) -> None:
    """A proposed change is checked by field; the run reports progress while the server keeps
    answering, refuses a second run for the market meanwhile, and ends with both days'
    figures side by side."""
    api, ws = server.api, server.ws_url
    boss = await manager(api, ws, "boss", "correct-horse")
    base = "/markets/shiling/whatif"
    for body, field in (({"rules": {"offer_timeout_s": 1}}, "rules.offer_timeout_s"),
                        ({"rules": {"colour": 1}}, "rules.colour"),
                        ({"rules": {"max_distance_km": 5}, "workers": 10**6}, "workers"),
                        ({}, "rules")):
        r = await boss.call("POST", base, body)
        assert r.status_code in (400, 422) and r.json()["error"]["field"] == field, r.text
    other = await manager(api, ws, "other", "correct-horse")
    assert (await other.call("POST", base, {"rules": {"max_distance_km": 5}})).status_code == 403

    started = await boss.ok("POST", base, {"rules": {"max_travel_minutes": 30},
                                           "workers": 800, "slots": 640})
    assert started["state"] == "running" and started["change"] == {"max_travel_minutes": 30}
    # Who ran which rules is in the audit log (the refused attempts are not).
    runs = [e for e in (await boss.ok("GET", "/markets/shiling/audit"))["items"]
            if e["action"] == "whatif.run"]
    assert [(e["manager"]["username"], e["detail"]["run_id"], e["detail"]["rules"])
            for e in runs] == [("boss", started["id"], {"max_travel_minutes": 30})]
    r = await boss.call("POST", base, {"rules": {"max_distance_km": 5}})
    assert r.status_code == 409 and r.json()["error"]["code"] == "whatif_running"
    seen: list[float] = []
    async with httpx.AsyncClient(base_url=api, timeout=30) as c:
        for _ in range(600):
            run = await boss.ok("GET", f"{base}/{started['id']}")
            seen.append(run["progress"])
            if run["state"] != "running":
                break
            # The server answers other requests while the simulation runs.
            assert (await c.get("/markets")).status_code == 200
            await asyncio.sleep(0.1)
    assert run["state"] == "done", run
    assert seen == sorted(seen) and run["progress"] == 1.0
    current, proposed = run["result"]["current"], run["result"]["proposed"]
    assert current["slots"] > 0 and len(current["filled_by_hour"]) == len(run["result"]["hours"])
    # A wider circle can only reach further: fills travel further on average.
    assert proposed["mean_travel_min"] > current["mean_travel_min"]
    assert (await other.call("GET", f"{base}/{started['id']}")).status_code == 403
    assert (await boss.call("GET", f"{base}/nope")).status_code == 404


async def test_a_rules_change_reaches_another_web_process(
    make_server: Callable[..., ServerProcess],
) -> None:
    """A raised wage floor saved through web A is in force in web B (same ledger, its own
    memory) within moments, without a restart: B refuses a posting below it by field."""
    a = make_server()
    b = a.web_beside()
    try:
        boss = await manager(a.api, a.ws_url, "boss", "correct-horse")
        employer = await new_employer(b.api, b.ws_url, "13900000301", verified_by=boss)
        low = job_body(headcount=1, wage={"amount": 250, "unit": "day"})
        await employer.ok("POST", "/markets/shiling/jobs", low)
        await boss.ok("PUT", "/markets/shiling/rules", {"min_daily_wage_fen": 30000})
        async with httpx.AsyncClient(base_url=b.api, timeout=30) as c:
            for _ in range(100):  # B rereads the rules every second; wait for it
                rules = {m["id"]: m for m in (await c.get("/markets")).json()}["shiling"]["rules"]
                if rules["min_daily_wage_fen"] == 30000:
                    break
                await asyncio.sleep(0.1)
        assert rules["min_daily_wage_fen"] == 30000
        r = await employer.call("POST", "/markets/shiling/jobs", low)
        assert r.status_code == 422 and r.json()["error"]["field"] == "wage", r.text
        await employer.ok("POST", "/markets/shiling/jobs",
                          job_body(headcount=1, wage={"amount": 300, "unit": "day"}))
    finally:
        b.stop()
    assert "Traceback" not in b.log_tail(100_000)
