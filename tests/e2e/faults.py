"""Faults for a real server, shared by the fault tests and ``bench/faults.py`` (issue 8).

- :class:`Market`: a manager, a verified employer posting one-slot jobs and workers on live
  sockets who answer their offers (mostly declining, so they stay in the pool), with every
  acknowledged (2xx) post and accept remembered;
- the faults: kill a process of the server (dispatcher, solver, embedded Redis) by its real pid,
  ``FLUSHALL``, ``CLIENT KILL TYPE pubsub``;
- :class:`Readiness`: ``/readyz`` polled in the background, its transitions timed;
- :func:`violations`: the invariants of SPEC 4 and the acknowledged writes, checked against the
  ledger itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis

from tests.e2e.people import Person, check_in, job_body, manager, new_employer, new_worker
from tests.e2e.server import ServerProcess

#: Assignment states that hold a slot of the job and the worker's time.
HOLDING = ("accepted", "checked_in", "completed", "paid", "disputed")
#: An accept is stamped by the ledger a moment after the Redis gate admitted it; further past
#: the offer's expiry than this, the gate must have let an expired offer through.
ACCEPT_STAMP_SLACK_S = 2.0


# -- the processes of a server ---------------------------------------------------------------


def _ppid_and_cmd(pid: int) -> tuple[int, str] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    if fields[0] in ("Z", "X"):
        return None  # a zombie is dead; only its reaping is pending
    return int(fields[1]), cmd


def children(pid: int) -> list[tuple[int, str]]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            found = _ppid_and_cmd(int(entry))
            if found is not None and found[0] == pid:
                out.append((int(entry), found[1]))
    return out


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        for child, _ in children(todo.pop()):
            out.append(child)
            todo.append(child)
    return out


def alive(pid: int) -> bool:
    return _ppid_and_cmd(pid) is not None


def dispatcher_pid(server: ServerProcess) -> int | None:
    assert server.proc is not None
    spawned = [p for p, cmd in children(server.proc.pid) if "spawn_main" in cmd]
    return spawned[0] if spawned else None


def solver_pid(server: ServerProcess) -> int | None:
    dispatcher = dispatcher_pid(server)
    if dispatcher is None:
        return None
    spawned = [p for p, cmd in children(dispatcher) if "spawn_main" in cmd]
    return spawned[0] if spawned else None


def redis_pid(server: ServerProcess) -> int | None:
    try:
        return int((server.data_dir / "redis" / "redis.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def redis_client(server: ServerProcess) -> redis.Redis:
    return redis.Redis(unix_socket_path=str(server.data_dir / "redis" / "redis.sock"),
                       socket_timeout=5, decode_responses=True)


async def wait_until(pred: object, what: str, timeout_s: float = 60.0) -> None:
    """Poll ``pred`` (a callable, sync) until true; a generous ceiling, not a timing."""
    assert callable(pred)
    deadline = time.monotonic() + timeout_s
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s:.0f} s: {what}")
        await asyncio.sleep(0.05)


# -- faults ----------------------------------------------------------------------------------

KINDS = ("dispatcher", "solver", "redis", "flushall", "pubsub")


def inject(server: ServerProcess, kind: str) -> tuple[float, float]:
    """Cause ``kind``; returns the moment it was caused, as ``(time.time(),
    time.monotonic())``, taken after finding the process (a scan of /proc takes a while)."""
    if kind in ("dispatcher", "solver", "redis"):
        pid = {"dispatcher": dispatcher_pid, "solver": solver_pid, "redis": redis_pid}[kind](
            server)
        assert pid is not None, f"no {kind} process to kill"
        at = time.time(), time.monotonic()
        os.kill(pid, signal.SIGKILL)
        return at
    client = redis_client(server)
    client.ping()
    at = time.time(), time.monotonic()
    try:
        if kind == "flushall":
            client.flushall()
        elif kind == "pubsub":
            client.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        else:
            raise ValueError(kind)
    finally:
        client.close()
    return at


# -- readiness -------------------------------------------------------------------------------


@dataclass
class Readiness:
    """``/readyz`` polled every 50 ms: ``(monotonic time, status)`` at each change."""

    base_url: str
    changes: list[tuple[float, int]] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    async def _poll(self) -> None:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=5) as c:
            while True:
                try:
                    status = (await c.get("/readyz")).status_code
                except httpx.HTTPError:
                    status = 0
                if not self.changes or self.changes[-1][1] != status:
                    self.changes.append((time.monotonic(), status))
                await asyncio.sleep(0.05)

    def start(self) -> Readiness:
        self._task = asyncio.create_task(self._poll())
        return self

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def first(self, status: int, after: float) -> float | None:
        return next((t for t, s in self.changes if t >= after and s == status), None)

    def not_ready_after(self, after: float) -> float | None:
        return next((t for t, s in self.changes if t >= after and s != 200), None)

    async def wait(self, status: int, after: float, timeout_s: float = 60.0) -> float:
        await wait_until(lambda: self.first(status, after) is not None,
                         f"/readyz {status} after the fault", timeout_s)
        found = self.first(status, after)
        assert found is not None
        return found


# -- a market with traffic -------------------------------------------------------------------


@dataclass
class Market:
    server: ServerProcess
    seed: int = 0
    workers: list[Person] = field(default_factory=list)
    employer: Person | None = None
    boss: Person | None = None
    posted: list[str] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    #: Status codes of every write that was not a 2xx (a 500 is a bug; 503 is honest).
    refused: list[tuple[int, str]] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    post_every_s: float = 0.4
    #: How often a worker accepts (an accepted worker leaves the pool for the day).
    accept_p: float = 0.2
    _phones: int = 0
    _employers: int = 1

    async def open(self, n_workers: int = 8) -> Market:
        api, ws = self.server.api, self.server.ws_url
        self.boss = await manager(api, ws, "boss", "correct-horse")
        self.employer = await new_employer(api, ws, "13900000001", verified_by=self.boss)
        for _ in range(n_workers):
            await self.add_worker()
        return self

    async def add_worker(self) -> Person:
        self._phones += 1
        w = await new_worker(self.server.api, self.server.ws_url, f"1370{self._phones:07d}")
        await w.connect()
        await check_in(w)
        self.workers.append(w)
        if self._tasks:
            self._tasks.append(asyncio.create_task(self._answer(w)))
        return w

    def start(self) -> None:
        self._stop.clear()
        self._tasks = [asyncio.create_task(self._post())]
        self._tasks += [asyncio.create_task(self._answer(w)) for w in self.workers]

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def close(self) -> None:
        await self.stop()
        for p in self.workers:
            await p.disconnect()

    def _note(self, r: httpx.Response, what: str) -> bool:
        if r.status_code < 300:
            return True
        self.refused.append((r.status_code, f"{what}: {r.text[:200]}"))
        return False

    async def _post(self) -> None:
        assert self.employer is not None
        n = 0
        while not self._stop.is_set():
            n += 1
            body = job_body(headcount=1)
            # AssertionError: signing a new employer up failed (Redis down); next turn.
            with contextlib.suppress(httpx.HTTPError, AssertionError):
                r = await self.employer.call("POST", "/markets/shiling/jobs", body,
                                             headers={"Idempotency-Key": f"f-{self.seed}-{n}"})
                if r.status_code == 429:
                    # Posts are rate-limited per employer: another one takes over.
                    self._employers += 1
                    self.employer = await new_employer(
                        self.server.api, self.server.ws_url, f"1390{self._employers:07d}",
                        verified_by=self.boss)
                elif self._note(r, "post"):
                    self.posted.append(r.json()["id"])
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.post_every_s):
                    await self._stop.wait()

    async def _answer(self, w: Person) -> None:
        rng = random.Random(f"{self.seed}-{w.user_id}")
        answered: set[str] = set()
        while not self._stop.is_set():
            for m in w.of_type("offer"):
                oid = m["offer_id"]
                if oid in answered:
                    continue
                answered.add(oid)
                accept = rng.random() < self.accept_p
                with contextlib.suppress(httpx.HTTPError):
                    r = await w.call("POST", f"/offers/{oid}/{'accept' if accept else 'decline'}")
                    if r.status_code == 200 and accept:
                        self.accepted.append(oid)
                    elif r.status_code >= 500:
                        self.refused.append((r.status_code, f"answer: {r.text[:200]}"))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.1):
                    await self._stop.wait()


def offers_since(server: ServerProcess, at_wall: float) -> int:
    db = server.ledger(timeout=30)
    try:
        row = db.execute("SELECT COUNT(*) FROM offers WHERE created_at > ?", (at_wall,))
        return int(row.fetchone()[0])
    finally:
        db.close()


def violations(server: ServerProcess, market: Market) -> list[str]:
    """The SPEC 4 invariants and the acknowledged writes, as the ledger has them."""
    db = server.ledger(timeout=30)
    found: list[str] = []
    holding = ",".join(f"'{s}'" for s in HOLDING)
    try:
        for job, head, n in db.execute(
                f"SELECT j.id, j.headcount, COUNT(a.id) FROM jobs j JOIN assignments a"
                f" ON a.job_id = j.id AND a.state IN ({holding})"
                " GROUP BY j.id HAVING COUNT(a.id) > j.headcount"):
            found.append(f"job {job}: {n} hired for {head}")
        for a, b in db.execute(
                f"SELECT a.id, b.id FROM assignments a JOIN assignments b"
                f" ON a.worker_id = b.worker_id AND a.id < b.id AND a.state IN ({holding})"
                f" AND b.state IN ({holding}) AND a.start_at < b.end_at AND b.start_at < a.end_at"):
            found.append(f"overlapping assignments {a} and {b}")
        for (worker,) in db.execute(
                "SELECT worker_id FROM offers WHERE state = 'pending'"
                " GROUP BY worker_id HAVING COUNT(*) > 1"):
            found.append(f"worker {worker} holds two pending offers")
        for (offer,) in db.execute(
                "SELECT id FROM offers WHERE state = 'accepted' AND closed_at > expires_at + ?",
                (ACCEPT_STAMP_SLACK_S,)):
            found.append(f"offer {offer} accepted after its expiry")
        for (offer,) in db.execute(
                "SELECT subject FROM events WHERE type IN ('offer.accepted', 'offer.expired')"
                " GROUP BY subject HAVING COUNT(DISTINCT type) > 1"):
            found.append(f"offer {offer} both accepted and expired")
        for job in market.posted:
            if db.execute("SELECT 1 FROM jobs WHERE id = ?", (job,)).fetchone() is None:
                found.append(f"acknowledged post {job} is not in the ledger")
        for offer in market.accepted:
            row = db.execute("SELECT o.state, a.id FROM offers o LEFT JOIN assignments a"
                             " ON a.offer_id = o.id WHERE o.id = ?", (offer,)).fetchone()
            if row is None or row[0] != "accepted" or row[1] is None:
                found.append(f"acknowledged accept {offer} is not in the ledger")
    finally:
        db.close()
    found += [f"a write answered {code}: {what}" for code, what in market.refused
              if code >= 500 and code != 503]
    return found
