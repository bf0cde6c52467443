"""The websocket contract of SPEC 7: auth, origin, errors that keep the socket, accept over it,
sign-out closing it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import websockets

from tests.e2e.conftest import write_config
from tests.e2e.people import check_in, job_body, manager, new_employer, new_worker
from tests.e2e.server import ServerProcess


async def _closed_code(ws: websockets.ClientConnection) -> int | None:
    with pytest.raises(websockets.ConnectionClosed) as info:
        for _ in range(10):
            await asyncio.wait_for(ws.recv(), 10)
    return info.value.rcvd.code if info.value.rcvd else None


async def test_no_auth_within_five_seconds_closes_4401(server: ServerProcess) -> None:
    """A socket that never authenticates is closed with 4401."""
    async with websockets.connect(server.ws_url) as ws:
        assert await _closed_code(ws) == 4401


async def test_a_bad_token_or_a_non_auth_first_message_closes_4401(server: ServerProcess) -> None:
    """Forged tokens and a first message that is not auth are refused with 4401."""
    for first in ({"type": "auth", "token": "forged"}, {"type": "ping"}, {"nonsense": 1}):
        async with websockets.connect(server.ws_url) as ws:
            await ws.send(json.dumps(first))
            assert await _closed_code(ws) == 4401


async def test_a_foreign_origin_is_closed_4403(server: ServerProcess) -> None:
    """A browser page on another site cannot open a socket (Origin allow-list)."""
    async with websockets.connect(server.ws_url, origin="https://evil.example") as ws:
        assert await _closed_code(ws) == 4403
    # The page's own origin: the host it was served from, which holds the socket too.
    own = server.ws_url.replace("ws://", "http://", 1).removesuffix("/ws")
    w = await new_worker(server.api, server.ws_url, "13800000001")
    async with websockets.connect(server.ws_url, origin=own) as ws:
        await ws.send(json.dumps({"type": "auth", "token": w.token}))
        assert json.loads(await ws.recv())["type"] == "ready"


async def test_invalid_messages_get_errors_and_the_socket_stays_up(server: ServerProcess) -> None:
    """Unknown types, unknown fields, bad JSON and someone else's offer id each get an error
    message; a ping afterwards still gets its pong."""
    w = await new_worker(server.api, server.ws_url, "13800000001")
    await w.connect()
    bad = ['{"type": "dance"}', "not json", '{"type": "accept"}',
           '{"type": "accept", "offer_id": "of_nope"}', '{"type": "ping", "extra": 1}',
           '{"type": "resume", "after": -1}']
    for raw in bad:
        await w._ws.send(raw)
    errors = []
    for _ in range(100):
        errors = w.of_type("error")
        if len(errors) == len(bad):
            break
        await asyncio.sleep(0.05)
    codes = [e["error"]["code"] for e in errors]
    assert codes == ["unknown_type", "bad_json", "required", "not_found", "unknown_field",
                     "out_of_range"]
    await w.send({"type": "ping"})
    await w.wait_for(lambda m: m["type"] == "pong")
    await w.disconnect()


async def test_accept_over_the_socket_and_logout_closes_it(server: ServerProcess) -> None:
    """A worker accepts over the socket and gets the assignment; signing out ends the socket
    at once; a manager's socket gets the market's figures every second."""
    api, ws = server.api, server.ws_url
    boss = await manager(api, ws, "boss", "correct-horse")
    await boss.connect()
    w = await new_worker(api, ws, "13800000001")
    await w.connect()
    await check_in(w)
    employer = await new_employer(api, ws, "13900000001", verified_by=boss)
    await employer.ok("POST", "/markets/shiling/jobs", job_body(headcount=1))
    offer = await w.wait_for(lambda m: m["type"] == "offer")
    assert {"title", "skills", "wage", "start_at", "duration_hours", "address", "distance_km",
            "travel_minutes", "employer"} <= set(offer["job"])
    assert offer["job"]["employer"]["name"] == "狮岭某皮具厂"
    await w.send({"type": "accept", "offer_id": offer["offer_id"]})
    assignment = await w.wait_for(lambda m: m["type"] == "assignment")
    assert assignment["assignment"]["employer"]["phone"] == "13900000001"
    assert assignment["assignment"]["qr"].startswith("GM1.")

    for _ in range(100):
        if boss.stats and boss.stats[-1]["stats"]["fills_today"] == 1:
            break
        await asyncio.sleep(0.05)
    assert boss.stats[-1]["stats"]["fills_today"] == 1
    assert boss.stats[-1]["stats"]["workers_waiting"] == 0
    # A figure carries the stream's current seq, so a client can tell it is behind.
    assert boss.stats[-1]["seq"] in {m["seq"] for m in boss.messages if "seq" in m}
    assert (await boss.call("GET", "/markets/shiling/stats")).json()["fills_today"] == 1
    # The market's feed: each entry names its ledger event, when, what, and the details.
    feed = [m["event"] for m in boss.of_type("event")]
    accepted = next(e for e in feed if e["type"] == "offer.accepted")
    assert set(accepted) == {"id", "at", "type", "payload"}
    assert accepted["payload"]["title"] == "仓库搬货"
    assert {e["type"] for e in feed} >= {"worker.checked_in", "job.posted", "round"}
    day = await boss.ok("GET", "/markets/shiling/stats/history")
    assert sum(day["series"]["offer.accepted"]) == 1 and len(day["hours"]) == 24
    assert sum(day["series"]["job.posted"]) == 1
    bad = await boss.call("GET", "/markets/shiling/stats/history?date=yesterday")
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "date"
    await boss.disconnect()

    await w.ok("POST", "/auth/logout")
    for _ in range(100):
        if w._ws.close_code is not None:
            break
        await asyncio.sleep(0.05)
    assert w._ws.close_code == 4401
    assert (await w.call("GET", "/me")).status_code == 401
    await w.disconnect()


async def test_permessage_deflate_is_off_and_accepts_log_nothing_at_info(
        server: ServerProcess) -> None:
    """A client offering permessage-deflate gets a socket without it, and accepting sockets
    writes no INFO line per socket (issue 13)."""
    for _ in range(3):
        async with websockets.connect(server.ws_url) as ws:  # offers deflate by default
            assert ws.response is not None
            assert "Sec-WebSocket-Extensions" not in ws.response.headers
    log = server.log_tail(100_000)
    assert '"WebSocket /ws" [accepted]' not in log and "connection open" not in log


async def test_permessage_deflate_is_on_when_configured(tmp_path: Path) -> None:
    """``GIGMARKET_WS_DEFLATE=1`` turns compression back on."""
    base = tmp_path
    srv = ServerProcess(base / "data", env={"GIGMARKET_CONFIG": str(write_config(base / "c", {})),
                                            "GIGMARKET_WS_DEFLATE": "1"})
    srv.start()
    try:
        async with websockets.connect(srv.ws_url) as ws:
            assert ws.response is not None
            assert "permessage-deflate" in ws.response.headers.get(
                "Sec-WebSocket-Extensions", "")
    finally:
        srv.stop()
