"""What anyone may read: markets, skills, the hall board, health, metrics, the OpenAPI document."""

from __future__ import annotations

import httpx

from tests.e2e.people import job_body, manager, new_employer
from tests.e2e.server import ServerProcess


async def test_public_endpoints_describe_the_market_and_the_api(server: ServerProcess) -> None:
    """GET /markets and /skills give the shipped config; /openapi.json lists every route with
    the SPEC error schema; /metrics is Prometheus text; health and readiness answer."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as c:
        markets = (await c.get("/api/v1/markets")).json()
        shiling = next(m for m in markets if m["id"] == "shiling")
        assert shiling["name"] == "狮岭镇零工市场" and len(shiling["stations"]) >= 5
        assert shiling["rules"]["offer_timeout_s"] == 45
        skills = {s["code"]: s for s in (await c.get("/api/v1/skills")).json()}
        assert skills["electrician"]["certificate_required"] is True
        assert {"loading", "cleaning", "construction_helper", "sorting_packing", "leather_craft",
                "kitchen_helper", "caregiver"} <= set(skills)
        doc = (await c.get("/openapi.json")).json()
        assert doc["openapi"].startswith("3.")
        for path in ("/api/v1/markets/{m}/jobs", "/api/v1/offers/{id}/accept",
                     "/api/v1/me/why", "/api/v1/markets/{m}/stats"):
            assert path in doc["paths"], path
        post = doc["paths"]["/api/v1/markets/{m}/jobs"]["post"]
        assert post["requestBody"]["content"]["application/json"]["schema"][
            "additionalProperties"] is False
        assert post["security"] == [{"bearer": []}]
        assert "422" in post["responses"]
        metrics = (await c.get("/metrics")).text
        assert "gigmarket_http_requests_total" in metrics
        assert (await c.get("/healthz")).json() == {"ok": True}
        ready = (await c.get("/readyz")).json()
        lease = ready["checks"]["dispatch"]["shiling"]
        assert ready["ready"] is True and ready["problems"] == []
        assert lease["holder"].rsplit(":", 1)[1].isdigit() and lease["token"] >= 1
        assert 'gigmarket_recoveries_total{kind="lease_change"}' in metrics


async def test_the_hall_board_is_anonymous(server: ServerProcess) -> None:
    """The board lists open jobs with street-level facts and today's figures, and no employer,
    phone or worker."""
    boss = await manager(server.api, server.ws_url, "boss", "correct-horse")
    e = await new_employer(server.api, server.ws_url, "13900000001", verified_by=boss)
    job = await e.ok("POST", "/markets/shiling/jobs", job_body(headcount=2))
    async with httpx.AsyncClient(base_url=server.api, timeout=30) as c:
        board = (await c.get("/markets/shiling/board")).json()
    listed = next(j for j in board["jobs"] if j["id"] == job["id"])
    assert listed["open_slots"] == 2 and listed["title"] == "仓库搬货"
    assert board["today"]["jobs_posted"] == 1
    text = str(board)
    assert "13900000001" not in text and "狮岭某皮具厂" not in text and "李老板" not in text


async def test_the_ledger_exports_as_csv_for_its_own_manager(server: ServerProcess) -> None:
    """A manager downloads the day's ledger as CSV (each event once, in order); the manager of
    another market gets 403; a bad date names its field; the CLI writes the same rows."""
    import csv
    import io

    boss = await manager(server.api, server.ws_url, "boss", "correct-horse")
    other = await manager(server.api, server.ws_url, "other", "correct-horse")
    e = await new_employer(server.api, server.ws_url, "13900000001", verified_by=boss)
    job = await e.ok("POST", "/markets/shiling/jobs", job_body(headcount=2))
    r = await boss.call("GET", "/markets/shiling/ledger.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
    posted = [row for row in table if row["type"] == "job.posted"]
    assert [row["subject"] for row in posted] == [job["id"]]
    assert [int(row["seq"]) for row in table] == sorted(int(row["seq"]) for row in table)
    assert "13900000001" not in r.text
    assert (await other.call("GET", "/markets/shiling/ledger.csv")).status_code == 403
    bad = await boss.call("GET", "/markets/shiling/ledger.csv?from=2026-13-01")
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "from"
    out = server.data_dir / "export.csv"
    server.cli("export", "--market", "shiling", "--out", str(out))
    assert out.read_bytes() == r.content


def test_serve_prints_the_page_addresses_when_ready(server: ServerProcess) -> None:
    """Once listening, serve prints the five pages (the kiosk at the first station, a board
    per market) and the kiosk set-up link, on the address and port it actually bound."""
    log = server.log_tail(100_000)
    base = server.base_url
    assert "gigmarket is ready (dev mode):" in log
    for path in ("/kiosk?station=hall", "/m/worker", "/m/employer", "/manage",
                 "/board/shiling", "/board/huashan", "/manage#kiosks"):
        assert f"{base}{path}\n" in log, path
