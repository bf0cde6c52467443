"""The people of the end-to-end tests: a worker, an employer and a manager, each with their
own HTTP client and, when asked, a live websocket."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import httpx
import websockets

if TYPE_CHECKING:
    from tests.e2e.server import ServerProcess

CST = timezone(timedelta(hours=8))

#: Points around the Shiling hall (inside the service circle of 15 minutes at 15 km/h).
HALL = (23.4595, 113.1505)


def gb11643(body17: str) -> str:
    """An ID-card number with its GB 11643 check character."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(c) * w for c, w in zip(body17, weights, strict=True))
    return body17 + "10X98765432"[total % 11]


def gb32100(body17: str) -> str:
    """A unified social credit code with its GB 32100 check character."""
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    total = sum(chars.index(c) * w for c, w in zip(body17, weights, strict=True))
    return body17 + chars[(31 - total % 31) % 31]


def in_hours(h: float) -> str:
    return (datetime.now(CST) + timedelta(hours=h)).isoformat(timespec="seconds")


@dataclass
class Person:
    api: str
    ws_url: str
    token: str = ""
    user_id: str = ""
    messages: list[dict[str, Any]] = field(default_factory=list)
    #: Figures (``stats``) are a state, not history: kept apart from the stream.
    stats: list[dict[str, Any]] = field(default_factory=list)
    _ws: Any = None
    _reader: asyncio.Task[None] | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.api, timeout=30,
                                 headers={"Authorization": f"Bearer {self.token}"})

    async def call(self, method: str, path: str, body: Any = None,
                   headers: dict[str, str] | None = None) -> httpx.Response:
        async with self.http as c:
            return await c.request(method, path, json=body, headers=headers)

    async def ok(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        r = await self.call(method, path, body, **kw)
        assert r.status_code < 300, f"{method} {path} -> {r.status_code} {r.text}"
        return r.json()

    async def sign_in(self, phone: str, role: str) -> None:
        async with httpx.AsyncClient(base_url=self.api, timeout=30) as c:
            code = (await c.post("/auth/otp", json={"phone": phone})).json()["dev_code"]
            r = await c.post("/auth/verify", json={"phone": phone, "code": code, "role": role})
            assert r.status_code == 200, r.text
            self.token, self.user_id = r.json()["token"], r.json()["user_id"]

    # -- websocket --------------------------------------------------------------------------

    async def connect(self, resume_after: int | None = None) -> dict[str, Any]:
        self._ws = await websockets.connect(self.ws_url)
        await self._ws.send(json.dumps({"type": "auth", "token": self.token}))
        ready = json.loads(await self._ws.recv())
        assert ready["type"] == "ready", ready
        if resume_after is not None:
            await self._ws.send(json.dumps({"type": "resume", "after": resume_after}))
        self._reader = asyncio.create_task(self._read())
        return dict(ready)

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self._ws:
                msg = json.loads(raw)
                (self.stats if msg.get("type") == "stats" else self.messages).append(msg)
                self._arrived.set()

    async def send(self, message: dict[str, Any]) -> None:
        await self._ws.send(json.dumps(message))

    async def disconnect(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        self._ws = None

    async def wait_for(self, pred: Any, timeout: float = 20.0) -> dict[str, Any]:
        """The first message (seen so far or arriving) for which ``pred`` holds."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for m in self.messages:
                if pred(m):
                    return m
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"no such message in {timeout}s; got {self.messages}")
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("type") == kind]


async def new_worker(api: str, ws_url: str, phone: str, *, skills: list[str] | None = None,
                     min_wage: int = 150, at: tuple[float, float] = HALL,
                     name: str = "王师傅") -> Person:
    w = Person(api, ws_url)
    await w.sign_in(phone, "worker")
    await w.ok("PUT", "/me/profile", {"name": name, "skills": skills or ["loading"],
                                      "min_wage": {"amount": min_wage, "unit": "day"}})
    return w


async def check_in(w: Person, at: tuple[float, float] = HALL) -> None:
    await w.ok("POST", "/markets/shiling/checkin", {"lat": at[0], "lon": at[1]})


async def new_employer(api: str, ws_url: str, phone: str, *, verified_by: Person | None = None,
                       org: str = "狮岭某皮具厂") -> Person:
    e = Person(api, ws_url)
    await e.sign_in(phone, "employer")
    code = gb32100("91440114MA5D8K3P" + phone[-1])
    await e.ok("PUT", "/me/profile", {"name": "李老板", "org_name": org, "credit_code": code})
    if verified_by is not None:
        await verified_by.ok("POST", f"/employers/{e.user_id}/verify")
    return e


def job_body(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "仓库搬货", "skills": ["loading"], "headcount": 3,
        "wage": {"amount": 300, "unit": "day"}, "start_at": in_hours(1),
        "duration_hours": 8, "lat": HALL[0] + 0.005, "lon": HALL[1] + 0.005,
        "address": "狮岭镇阳光路1号仓库", "description": "搬运皮具成品",
    }
    body.update(over)
    return body


async def manager(api: str, ws_url: str, username: str, password: str) -> Person:
    m = Person(api, ws_url)
    async with httpx.AsyncClient(base_url=api, timeout=30) as c:
        r = await c.post("/auth/login", json={"username": username, "password": password})
        assert r.status_code == 200, r.text
        m.token, m.user_id = r.json()["token"], r.json()["user_id"]
    return m


async def hired(server: ServerProcess, n: int, **job: object) -> tuple[
        Person, Person, list[Person], dict[str, Any], list[dict[str, Any]]]:
    """A verified employer's job for ``n``, offered to and accepted by ``n`` workers."""
    api, ws = server.api, server.ws_url
    boss = await manager(api, ws, "boss", "correct-horse")
    workers = [await new_worker(api, ws, f"1380000000{i}") for i in range(n)]
    for w in workers:
        await w.connect()
        await check_in(w)
    employer = await new_employer(api, ws, "13900000001", verified_by=boss)
    await employer.connect()
    posted = await employer.ok("POST", "/markets/shiling/jobs", job_body(headcount=n, **job))
    assignments = []
    for w in workers:
        offer = await w.wait_for(lambda m: m["type"] == "offer")
        res = await w.ok("POST", f"/offers/{offer['offer_id']}/accept")
        assignments.append(res["assignment"])
    return boss, employer, workers, posted, assignments
