"""Input that never breaks anything (issue 9): property-based fuzzing of every mutating route
against a real server, and generated websocket frames against real sockets.

Seeded (``derandomize=True``, a fixed ``random.Random``), so a failure reproduces exactly.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
from collections import Counter
from typing import Any
from urllib.parse import quote

import httpx
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gigmarket.web.access import ROUTES
from tests.e2e.people import check_in, job_body, manager, new_employer, new_worker
from tests.e2e.server import ServerProcess

#: Generated HTTP requests in all, spread over the mutating routes.
HTTP_REQUESTS = 10_000
#: Generated websocket frames in all, and per socket: within the per-socket rate limit of 20
#: messages per 10 s, so every frame reaches the parser rather than the limiter (beyond 100 a
#: socket is closed with 4429 by design: see the flood test).
WS_FRAMES = 2_000
FRAMES_PER_SOCKET = 20

MUTATING = sorted(key for key in ROUTES if key[0] in ("POST", "PUT", "PATCH", "DELETE"))
#: Routes whose success ends the caller's own session: fuzzed without a valid token, so
#: the rest of the run keeps its callers.
ENDS_SESSIONS = {"/api/v1/auth/logout", "/api/v1/auth/logout_all"}

#: A plausible body per route, which the fuzzer then bends field by field.
BASE: dict[str, dict[str, Any]] = {
    "/api/v1/auth/otp": {"phone": "13700000001"},
    "/api/v1/auth/verify": {"phone": "13700000001", "code": "123456", "role": "worker"},
    "/api/v1/auth/login": {"username": "boss", "password": "wrong-password"},
    "/api/v1/kiosk/signin": {"id_number": "44011419650203123X", "pin": "2468"},
    "/api/v1/kiosk/register": {"id_number": "44011419650203123X", "pin": "2468",
                               "name": "陈伯", "phone": "13700000001"},
    "/api/v1/me/profile": {"name": "王师傅", "skills": ["loading"],
                           "min_wage": {"amount": 150, "unit": "day"},
                           "org_name": "某厂", "credit_code": "91440114MA5D8K3P27"},
    "/api/v1/markets/{m}/checkin": {"lat": 23.46, "lon": 113.15,
                                    "available_until": "2026-11-22T18:00:00+08:00"},
    "/api/v1/markets/{m}/jobs": job_body(),
    "/api/v1/markets/{m}/kiosks": {"station_id": "hall", "name": "大厅"},
    "/api/v1/jobs/{id}/report": {"reason": "fake", "note": "x"},
    "/api/v1/assignments/{id}/checkin": {"code": "123456"},
    "/api/v1/assignments/{id}/complete": {"hours": 8, "pay": {"amount": 300, "unit": "day"}},
    "/api/v1/assignments/{id}/rate": {"stars": 5, "tags": ["on_time"]},
    "/api/v1/blocks": {"employer_id": "e_x", "worker_id": "w_x"},
    "/api/v1/workers/{id}/key_group": {"key_group": "veteran"},
    "/api/v1/disputes/{id}/resolve": {"note": "x", "outcome": "paid"},
    "/api/v1/reports/{id}/resolve": {"upheld": True, "note": "x"},
    "/api/v1/employers/{id}/suspend": {"note": "x"},
}

scalars = (st.none() | st.booleans() | st.integers() | st.integers(min_value=2**60)
           | st.floats() | st.text(max_size=30) | st.sampled_from(["", "0", "-1", "1e999",
                                                                   "2026-13-45", "loading"]))
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                  max_size=4),
    max_leaves=12,
)


def encode(value: Any) -> bytes:
    """JSON as a careless client writes it (``NaN`` and ``Infinity`` included)."""
    return json.dumps(value, ensure_ascii=False, allow_nan=True).encode()


@st.composite
def bodies(draw: st.DrawFn, path: str) -> bytes | None:
    base = BASE.get(path, {})
    how = draw(st.sampled_from(["field", "field", "drop", "extra", "any", "raw", "deep",
                                "none", "base"]))
    if how == "none":
        return None
    if how == "raw":
        return draw(st.binary(max_size=80))
    if how == "deep":
        n = draw(st.integers(min_value=10, max_value=100_000))
        return draw(st.sampled_from([b"[" * n + b"]" * n, b'{"a":' * n + b"1" + b"}" * n]))
    if how == "any":
        return encode(draw(json_values))
    body = dict(base)
    if how == "field" and body:
        key = draw(st.sampled_from(sorted(body)))
        body[key] = draw(json_values)
    elif how == "drop" and body:
        body.pop(draw(st.sampled_from(sorted(body))))
    elif how == "extra":
        body[draw(st.text(max_size=10))] = draw(json_values)
    return encode(body)


async def _people(server: ServerProcess) -> tuple[dict[str, str], dict[str, str]]:
    api, ws = server.api, server.ws_url
    boss = await manager(api, ws, "boss", "correct-horse")
    other = await manager(api, ws, "other", "correct-horse")
    worker = await new_worker(api, ws, "13800000001")
    await worker.connect()
    await check_in(worker)
    employer = await new_employer(api, ws, "13900000001", verified_by=boss)
    job = await employer.ok("POST", "/markets/shiling/jobs", job_body(headcount=1))
    offer = await worker.wait_for(lambda m: m["type"] == "offer")
    accepted = await worker.ok("POST", f"/offers/{offer['offer_id']}/accept")
    await worker.disconnect()
    kiosk = await boss.ok("POST", "/markets/shiling/kiosks", {"station_id": "hall"})
    tokens = {"worker": worker.token, "employer": employer.token, "manager": boss.token,
              "other_manager": other.token, "kiosk": kiosk["token"]}
    ids = {"job": job["id"], "offer": offer["offer_id"],
           "assignment": accepted["assignment"]["id"], "employer": employer.user_id,
           "worker": worker.user_id}
    return tokens, ids


def fuzz_route(client: httpx.Client, method: str, path: str, callers: list[str | None],
               ids: dict[str, str], statuses: Counter[int], examples: int) -> Any:
    """A Hypothesis test of one route; calling it runs ``examples`` requests."""
    on = ROUTES[(method, path)].on

    @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(token=st.sampled_from(callers), body=bodies(path), real_id=st.booleans(),
           other_id=st.text(max_size=40), key=st.none() | st.text(max_size=20))
    def one(token: str | None, body: bytes | None, real_id: bool, other_id: str,
            key: str | None) -> None:
        url = path.replace("{m}", "shiling" if real_id else quote(other_id, safe=""))
        if "{id}" in url:
            assert on is not None
            target = ids.get(on, "x") if real_id else quote(other_id, safe="") or "x"
            url = url.replace("{id}", target)
        headers = {"content-type": "application/json"}
        if token is not None:
            headers["authorization"] = f"Bearer {token}"
        # Only what a client can send as a header value: h11 refuses leading or trailing
        # whitespace before it leaves (found by a newer hypothesis drawing " ").
        if key is not None and key.isascii() and key.isprintable() and key == key.strip():
            headers["idempotency-key"] = key
        r = client.request(method, url, content=body, headers=headers)
        statuses[r.status_code] += 1
        assert r.status_code < 500, (method, url, body, r.text)
        assert "Traceback" not in r.text and 'File "' not in r.text, r.text
        if r.status_code >= 400:
            assert set(r.json()) == {"error"}, r.text
            assert set(r.json()["error"]) == {"code", "message", "field"}, r.text
        if r.status_code == 422:
            # A bad value is named: the client can point at the field.
            assert r.json()["error"]["field"] is not None, (method, url, body, r.text)

    return one


def test_fuzzed_requests_never_break_the_server(server: ServerProcess) -> None:
    """≥ 10,000 generated requests over every mutating route, as every kind of caller: no
    5xx, no traceback in a body or in the server's log, the server healthy at the end."""
    tokens, ids = asyncio.run(_people(server))
    statuses: Counter[int] = Counter()
    per_route = math.ceil(HTTP_REQUESTS / len(MUTATING))
    # Suspension last: it signs the employer out for what follows.
    routes = sorted(MUTATING, key=lambda r: r[1].endswith("/suspend"))
    with httpx.Client(base_url=server.base_url, timeout=60) as client:
        for method, path in routes:
            callers = [None, "not-a-token"] + (
                [] if path in ENDS_SESSIONS else sorted(tokens.values()))
            fuzz_route(client, method, path, callers, ids, statuses, per_route)()
        assert client.get("/healthz").json() == {"ok": True}
        assert client.get("/readyz").status_code == 200
    total = sum(statuses.values())
    print(f"http fuzz: {total} requests over {len(MUTATING)} routes:",
          dict(sorted(statuses.items())))
    assert total >= HTTP_REQUESTS
    assert not [s for s in statuses if s >= 500]
    assert "Traceback" not in server.log_tail(1_000_000)


def frames(rng: random.Random, n: int) -> list[str | bytes]:
    """``n`` bad frames: binary, oversized, not JSON, not an object, unknown types, unknown
    or mistyped fields, deep nesting, a second auth."""
    out: list[str | bytes] = []
    for _ in range(n):
        kind = rng.randrange(9)
        if kind == 0:
            out.append(rng.randbytes(rng.randrange(1, 300)))
        elif kind == 1:
            out.append(json.dumps({"type": "ping", "pad": "x" * rng.randrange(4100, 60_000)}))
        elif kind == 2:
            out.append("".join(chr(rng.randrange(32, 0x2FFF)) for _ in range(rng.randrange(40))))
        elif kind == 3:
            out.append(json.dumps(rng.choice([[], [1, 2], 3, "ping", None, True])))
        elif kind == 4:
            out.append(json.dumps({"type": rng.choice(["pong", "offer", "", "ACCEPT", "exec"])}))
        elif kind == 5:
            out.append(json.dumps({"type": rng.choice(["accept", "decline"]),
                                   "offer_id": rng.choice([1, None, [], {}, 2**70, True])}))
        elif kind == 6:
            out.append(json.dumps({"type": "resume",
                                   "after": rng.choice([-1, "1", 1.5, None, [], 2**70])}))
        elif kind == 7:
            depth = rng.randrange(17, 50_000)
            out.append("[" * depth + "]" * depth)
        else:
            out.append(json.dumps({"type": "auth", "token": "x"}))
    return out


async def test_generated_frames_get_errors_and_never_drop_a_socket(
    server: ServerProcess,
) -> None:
    """≥ 2,000 generated frames over worker, employer and manager sockets: each gets its
    answer (an ``error``; a ``snapshot`` for a resume from beyond the history), and every
    socket is still open at the end (0 dropped)."""
    tokens, _ = await _people(server)
    rng = random.Random(20261123)
    sockets = math.ceil(WS_FRAMES / FRAMES_PER_SOCKET)
    names = ["worker", "employer", "manager"]
    sent = dropped = errors = 0
    for i in range(sockets):
        async with websockets.connect(server.ws_url, max_size=None) as ws:
            await ws.send(json.dumps({"type": "auth", "token": tokens[names[i % 3]]}))
            assert json.loads(await ws.recv())["type"] == "ready"
            batch = frames(rng, FRAMES_PER_SOCKET)
            for frame in batch:
                await ws.send(frame)
            sent += len(batch)
            got = 0
            try:
                async with asyncio.timeout(60):
                    while got < len(batch):
                        reply = json.loads(await ws.recv())
                        if reply["type"] == "error":
                            got += 1
                            assert set(reply["error"]) == {"code", "message", "field"}
                        elif reply["type"] == "snapshot":
                            got += 1  # a resume from far ahead is a valid message
                await ws.ping()
            except websockets.ConnectionClosed:
                dropped += 1
            errors += got
    print(f"websocket fuzz: {sent} frames over {sockets} sockets, {errors} answered,"
          f" {dropped} dropped")
    assert sent >= WS_FRAMES
    assert dropped == 0 and errors == sent


async def test_a_flooding_socket_is_closed_with_4429(server: ServerProcess) -> None:
    """Beyond 100 messages in 10 s a socket is closed with the documented code 4429."""
    tokens, _ = await _people(server)
    async with websockets.connect(server.ws_url) as ws:
        await ws.send(json.dumps({"type": "auth", "token": tokens["worker"]}))
        assert json.loads(await ws.recv())["type"] == "ready"
        try:
            for _ in range(300):
                await ws.send(json.dumps({"type": "ping"}))
        except websockets.ConnectionClosed:
            pass
        try:
            async with asyncio.timeout(30):
                async for _ in ws:
                    pass
        except websockets.ConnectionClosed:
            pass
        assert ws.close_code == 4429
