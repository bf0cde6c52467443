"""The access matrix (``gigmarket/web/access.py``) against the real app and a real server
(issue 9): every route is in the table, and every route × role cell the table denies is
denied, on objects owned by someone else."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

from gigmarket.web.access import MESSAGES, ROUTES, Grant
from tests.e2e.people import (
    HALL,
    Person,
    check_in,
    gb11643,
    gb32100,
    in_hours,
    job_body,
    manager,
    new_employer,
    new_worker,
)
from tests.e2e.server import ServerProcess
from tests.exchange.conftest import add_platform
from tests.exchange.platform import FakePlatform

G = Grant
#: The roles of the matrix, and the grants each satisfies on the objects of worker A and
#: employer A in shiling. ``exchange_platform`` holds no bearer token: it signs each request
#: with HMAC-SM3 headers as tests/exchange's platform does, and satisfies ``EXCHANGE``.
ROLES: dict[str, frozenset[Grant]] = {
    "anonymous": frozenset({G.PUBLIC}),
    "worker_a": frozenset({G.PUBLIC, G.SIGNED_IN, G.WORKER, G.WORKER_OWNER}),
    "worker_b": frozenset({G.PUBLIC, G.SIGNED_IN, G.WORKER}),
    "employer_a": frozenset({G.PUBLIC, G.SIGNED_IN, G.EMPLOYER, G.EMPLOYER_OWNER}),
    "employer_b": frozenset({G.PUBLIC, G.SIGNED_IN, G.EMPLOYER}),
    "manager": frozenset({G.PUBLIC, G.SIGNED_IN, G.MANAGER, G.MANAGER_OF}),
    "other_manager": frozenset({G.PUBLIC, G.SIGNED_IN, G.MANAGER}),
    "kiosk": frozenset({G.PUBLIC, G.SIGNED_IN, G.KIOSK}),
    "exchange_platform": frozenset({G.PUBLIC, G.EXCHANGE}),
}
#: Routes whose allowed call ends the caller's session or the owner's account: their denied
#: cells are tested here, their allowed effect by their own tests (sessions, suspension).
ENDS_SESSIONS = {("POST", "/api/v1/auth/logout"), ("POST", "/api/v1/auth/logout_all"),
                 ("POST", "/api/v1/employers/{id}/suspend")}
DENIED = (401, 403, 404)
#: Worker A's electrician's card, for the certificate review routes.
CARD = {"skill": "electrician", "number": "T440114199001011235",
        "expires_on": str(date.today() + timedelta(days=400))}


def app_routes(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path template) of every route the app serves, mounts walked."""
    for r in routes:
        if isinstance(r, Mount):
            if r.routes:
                yield from app_routes(list(r.routes), prefix + r.path)
            else:
                yield "GET", prefix + r.path  # a mounted app (static files)
        elif isinstance(r, WebSocketRoute):
            yield "WS", prefix + r.path
        elif isinstance(r, Route):
            for method in sorted((r.methods or {"GET"}) - {"HEAD"}):
                yield method, prefix + r.path


def test_every_route_of_the_app_is_in_the_access_matrix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A route missing from ``gigmarket/web/access.py`` fails here, by name."""
    from gigmarket.settings import load
    from gigmarket.web.app import create_app

    monkeypatch.setenv("GIGMARKET_DATA", str(tmp_path))
    served = set(app_routes(list(create_app(load(dev=True), "redis://unused").routes)))
    missing = sorted(served - ROUTES.keys())
    assert not missing, ("routes missing from the access matrix; add a row for each to ROUTES"
                         f" in gigmarket/web/access.py: {missing}")
    stale = sorted(ROUTES.keys() - served)
    assert not stale, f"rows in gigmarket/web/access.py for routes that no longer exist: {stale}"


@dataclass
class Caller:
    name: str
    token: str | None = None
    #: The exchange platform signs every request of its own.
    platform: FakePlatform | None = None


@dataclass
class World:
    """Objects owned by worker A and employer A in shiling, and a caller per role."""

    callers: dict[str, Caller]
    ids: dict[str, str]
    people: dict[str, Person]
    counter: itertools.count[int]


async def build_world(server: ServerProcess) -> World:
    api, ws = server.api, server.ws_url
    boss = await manager(api, ws, "boss", "correct-horse")
    other = await manager(api, ws, "other", "correct-horse")
    worker_a = await new_worker(api, ws, "13800000001")
    worker_b = await new_worker(api, ws, "13800000002")
    employer_a = await new_employer(api, ws, "13900000001", verified_by=boss)
    employer_b = await new_employer(api, ws, "13900000002", verified_by=boss)
    await worker_a.connect()
    await check_in(worker_a)
    job = await employer_a.ok("POST", "/markets/shiling/jobs", job_body(headcount=1))
    offer = await worker_a.wait_for(lambda m: m["type"] == "offer")
    accepted = await worker_a.ok("POST", f"/offers/{offer['offer_id']}/accept")
    await worker_a.disconnect()
    report = await worker_a.ok("POST", f"/jobs/{job['id']}/report", {"reason": "fake"})
    kiosk = await boss.ok("POST", "/markets/shiling/kiosks", {"station_id": "hall"})
    # The kiosk the matrix revokes, so the kiosk caller's own device keeps working.
    spare = await boss.ok("POST", "/markets/shiling/kiosks", {"station_id": "hall"})
    # A certificate for the manager to review; the worker's profile sample declares it again.
    await worker_a.ok("PUT", "/me/profile", {
        "name": "王师傅", "skills": ["loading", "electrician"], "certificates": [CARD],
        "min_wage": {"amount": 150, "unit": "day"}})
    whatif = await boss.ok("POST", "/markets/shiling/whatif",
                           {"rules": {"max_distance_km": 5}, "workers": 10, "slots": 10})
    kiosk_worker_id = gb11643("44011419650203123")
    async with httpx.AsyncClient(base_url=api, timeout=30) as c:
        r = await c.post("/kiosk/register", headers={"Authorization": f"Bearer {kiosk['token']}"},
                         json={"id_number": kiosk_worker_id, "pin": "2468", "name": "陈伯",
                               "phone": "13700000001"})
        assert r.status_code == 201, r.text
    assignment = accepted["assignment"]["id"]
    # A wage dispute opens only days after a completion; the matrix needs one now, so it is
    # written beside the server as the overdue check would write it.
    with contextlib.closing(server.ledger()) as db:
        db.execute("INSERT INTO disputes (id, assignment_id, market_id, opened_at, state)"
                   " VALUES ('d_matrix', ?, 'shiling', 0, 'open')", (assignment,))
        db.commit()
    tokens = {"worker_a": worker_a, "worker_b": worker_b, "employer_a": employer_a,
              "employer_b": employer_b, "manager": boss, "other_manager": other}
    callers = {name: Caller(name, tokens[name].token if name in tokens else None)
               for name in ROLES}
    callers["kiosk"].token = kiosk["token"]
    callers["exchange_platform"].platform = add_platform(server, "gd-matrix")
    return World(callers=callers, people=tokens, counter=itertools.count(10), ids={
        "job": job["id"], "offer": offer["offer_id"], "assignment": assignment,
        "report": report["id"], "dispute": "d_matrix", "employer": employer_a.user_id,
        "worker": worker_a.user_id, "kiosk_id_number": kiosk_worker_id,
        "kiosk": spare["id"], "whatif": whatif["id"], "skill": "electrician",
    })


Sample = Callable[[World, str], Awaitable[Any]]


async def _fresh_otp(world: World, server_api: str) -> dict[str, Any]:
    phone = f"137{next(world.counter):08d}"
    async with httpx.AsyncClient(base_url=server_api, timeout=30) as c:
        code = (await c.post("/auth/otp", json={"phone": phone})).json()["dev_code"]
    return {"phone": phone, "code": code, "role": "worker"}


def samples(server: ServerProcess) -> dict[tuple[str, str], Sample]:
    """A valid body per route that takes one (per calling role where it differs)."""

    def const(body: Any) -> Sample:
        async def make(world: World, role: str) -> Any:
            return body
        return make

    async def verify(world: World, role: str) -> Any:
        return await _fresh_otp(world, server.api)

    async def kiosk_register(world: World, role: str) -> Any:
        n = next(world.counter)
        return {"id_number": gb11643(f"440114197001{n:04d}1"), "pin": "2468", "name": "陈伯",
                "phone": f"136{n:08d}"}

    async def profile(world: World, role: str) -> Any:
        if role.startswith("employer"):
            phone = "13900000001" if role == "employer_a" else "13900000002"
            return {"name": "李老板", "org_name": "狮岭某皮具厂",
                    "credit_code": gb32100("91440114MA5D8K3P" + phone[-1])}
        return {"name": "王师傅", "skills": ["loading", "electrician"], "certificates": [CARD],
                "min_wage": {"amount": 150, "unit": "day"}}

    async def block(world: World, role: str) -> Any:
        if role.startswith("employer"):
            return {"worker_id": world.ids["worker"]}
        return {"employer_id": world.ids["employer"]}

    async def kiosk_signin(world: World, role: str) -> Any:
        return {"id_number": world.ids["kiosk_id_number"], "pin": "2468"}

    a = "/api/v1"
    return {
        ("POST", f"{a}/auth/otp"): const({"phone": "13700000002"}),
        ("POST", f"{a}/auth/verify"): verify,
        ("POST", f"{a}/auth/login"): const({"username": "boss", "password": "correct-horse"}),
        ("POST", f"{a}/kiosk/signin"): kiosk_signin,
        ("POST", f"{a}/kiosk/register"): kiosk_register,
        ("PUT", f"{a}/me/profile"): profile,
        ("POST", f"{a}/markets/{{m}}/checkin"): const({"lat": 23.4595, "lon": 113.1505}),
        ("POST", f"{a}/markets/{{m}}/jobs"): const(job_body()),
        ("POST", f"{a}/markets/{{m}}/kiosks"): const({"station_id": "hall"}),
        ("POST", f"{a}/jobs/{{id}}/report"): const({"reason": "not_as_described"}),
        ("POST", f"{a}/assignments/{{id}}/checkin"): const({"code": "123456"}),
        ("POST", f"{a}/assignments/{{id}}/complete"): const(
            {"hours": 8, "pay": {"amount": 300, "unit": "day"}}),
        ("POST", f"{a}/assignments/{{id}}/rate"): const({"stars": 5}),
        ("POST", f"{a}/blocks"): block,
        ("PUT", f"{a}/workers/{{id}}/key_group"): const({"key_group": "veteran"}),
        ("POST", f"{a}/disputes/{{id}}/resolve"): const({"note": "查实已付", "outcome": "paid"}),
        ("POST", f"{a}/reports/{{id}}/resolve"): const({"upheld": False, "note": "查无此事"}),
        ("POST", f"{a}/employers/{{id}}/suspend"): const({"note": "核查"}),
        ("PUT", f"{a}/me/pin"): const({"pin": "2580"}),
        ("POST", f"{a}/workers/{{id}}/certificates/{{skill}}/reject"): const(
            {"note": "证件模糊"}),
        ("PUT", f"{a}/markets/{{m}}/rules"): const({"offer_timeout_s": 40}),
        ("POST", f"{a}/markets/{{m}}/whatif"): const(
            {"rules": {"max_distance_km": 5}, "workers": 10, "slots": 10}),
        ("POST", f"{a}/exchange/jobs"): const({
            "external_id": "GD-MATRIX-1", "version": 1, "market_id": "shiling",
            "title": "仓库装卸", "skills": ["loading"], "headcount": 1,
            "wage": {"amount": 280, "unit": "day"}, "start_at": in_hours(2),
            "duration_hours": 8, "lat": HALL[0] + 0.004, "lon": HALL[1] + 0.004,
            "address": "狮岭镇皮革城3号仓", "description": "省平台转来的岗位",
            "employer": {"org_name": "花都某物流公司",
                         "credit_code": gb32100("91440114MA5D8K3P7"),
                         "phone": "13700000001"}}),
    }


def url_of(world: World, path: str, on: str | None) -> str:
    path = path.replace("{m}", "shiling").replace("{skill}", world.ids["skill"])
    if "{id}" in path:
        assert on is not None, path
        return path.replace("{id}", world.ids[on])
    if path == "/static":
        return "/static/css/app.css"
    return path


async def call(server: ServerProcess, world: World, caller: Caller, method: str, path: str,
               body: Any) -> httpx.Response:
    headers: dict[str, str] = {}
    if caller.token:
        headers["Authorization"] = f"Bearer {caller.token}"
    url = url_of(world, path, ROUTES[(method, path)].on)
    raw = None if body is None else json.dumps(body).encode()
    if caller.platform is not None:
        headers.update(caller.platform.headers(method, url, raw or b""))
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as c:
        return await c.request(method, url, headers=headers, content=raw)


async def test_every_denied_cell_of_the_matrix_is_denied(server: ServerProcess) -> None:
    """Every route × every role: 0 allowed cells where the table denies, 0 routes untested;
    the allowed cells pass the access check (whatever the state of the object says)."""
    world = await build_world(server)
    bodies = samples(server)
    http_routes = [key for key in ROUTES if key[0] != "WS"]
    wrong: list[str] = []
    tested: set[tuple[str, str]] = set()
    cells = 0
    # Denied cells first, so the allowed calls (which change things) cannot mask a denial.
    for want_allowed in (False, True):
        for method, path in http_routes:
            rule = ROUTES[(method, path)]
            for role, satisfied in ROLES.items():
                allowed = bool(rule.grants & satisfied)
                if allowed is not want_allowed:
                    continue
                if allowed and (method, path) in ENDS_SESSIONS:
                    continue
                sample = bodies.get((method, path))
                body = None if sample is None else await sample(world, role)
                r = await call(server, world, world.callers[role], method, path, body)
                cells += 1
                tested.add((method, path))
                assert r.status_code < 500, (method, path, role, r.text)
                if not allowed and r.status_code not in DENIED:
                    wrong.append(f"{role} {method} {path} -> {r.status_code} (denied in table)")
                if allowed and r.status_code in DENIED:
                    wrong.append(f"{role} {method} {path} -> {r.status_code} {r.text[:120]}"
                                 " (allowed in table)")
    assert not wrong, "\n".join(wrong)
    assert tested == set(http_routes), sorted(set(http_routes) - tested)
    assert cells >= len(http_routes) * len(ROLES) - len(ENDS_SESSIONS) * len(ROLES)
    print(f"access matrix: {len(http_routes)} HTTP routes x {len(ROLES)} roles, {cells} calls")

    # The websocket's messages, as each role that can open a socket.
    await check_messages(server, world)
    platform = world.callers["exchange_platform"].platform
    assert platform is not None
    await platform.aclose()


#: Websocket refusals, by error code.
WS_DENIALS = {"unauthorized", "wrong_role", "not_found", "forbidden", "not_your_market",
              "auth_first", "no_stream"}


async def check_messages(server: ServerProcess, world: World) -> None:
    bodies: dict[str, dict[str, Any]] = {
        "ping": {"type": "ping"}, "resume": {"type": "resume", "after": 0},
        "accept": {"type": "accept", "offer_id": world.ids["offer"]},
        "decline": {"type": "decline", "offer_id": world.ids["offer"]},
        "auth": {"type": "auth", "token": "not-a-token"},
    }
    assert set(bodies) == set(MESSAGES), "a websocket message type without a sample here"
    wrong: list[str] = []
    for kind, rule in MESSAGES.items():
        for role, satisfied in ROLES.items():
            allowed = bool(rule.grants & satisfied)
            if kind == "auth":
                continue  # the sign-in itself: tested for every role as the socket opens
            verdict = await ws_verdict(server, world.callers[role], bodies[kind])
            if (verdict == "denied") is allowed:
                wrong.append(f"{role} {kind}: {verdict}, table says"
                             f" {'allowed' if allowed else 'denied'}")
    assert not wrong, "\n".join(wrong)


async def ws_verdict(server: ServerProcess, caller: Caller, message: dict[str, Any]) -> str:
    """``denied`` (closed, or an error with an access code) or ``answered``. A ``ping``
    follows the message, so a message with no reply of its own (a resume with nothing
    missed) is answered once the ``pong`` comes."""
    async with websockets.connect(server.ws_url) as ws:
        try:
            async with asyncio.timeout(30):
                if caller.token:
                    await ws.send(json.dumps({"type": "auth", "token": caller.token}))
                    if json.loads(await ws.recv())["type"] != "ready":
                        return "denied"
                await ws.send(json.dumps(message))
                await ws.send(json.dumps({"type": "ping"}))
                while True:
                    reply = json.loads(await ws.recv())
                    if reply["type"] == "error":
                        return "denied" if reply["error"]["code"] in WS_DENIALS else "answered"
                    if reply["type"] == "pong":
                        return "answered"
        except websockets.ConnectionClosed:
            return "denied"


async def test_the_handlers_consult_the_matrix_before_reading_the_body(
    server: ServerProcess,
) -> None:
    """A role the table does not admit is refused (403 ``wrong_role``) before the body is
    read, so a malformed body cannot tell it anything about the route."""
    boss = await manager(server.api, server.ws_url, "boss", "correct-horse")
    worker = await new_worker(server.api, server.ws_url, "13800000001")
    async with httpx.AsyncClient(base_url=server.api, timeout=30) as c:
        for who, method, path in ((boss, "PUT", "/me/profile"),
                                  (worker, "POST", "/markets/shiling/kiosks"),
                                  (worker, "POST", "/kiosk/register")):
            r = await c.request(method, path, content=b"{not json",
                                headers={"Authorization": f"Bearer {who.token}"})
            assert r.status_code == 403, (path, r.text)
            assert r.json()["error"]["code"] == "wrong_role"
        r = await c.put("/me/profile", content=b"{not json",
                        headers={"Authorization": f"Bearer {worker.token}"})
        assert r.status_code == 400 and r.json()["error"]["code"] == "bad_json"
