"""Faults during traffic (issue 8): a real server, its embedded Redis and real sockets; the
dispatcher, the solver, Redis and a web process killed at a seeded random moment, FLUSHALL,
dropped subscriptions, resumes from beyond the replay window, and stops in every state.

After each fault the invariants of SPEC 4 hold against the ledger, no acknowledged write is lost,
offers flow again to a worker's socket, and ``/readyz`` is 503 and then 200 again where the fault
stops dispatch. Waits have generous ceilings; how fast it recovers is measured by
``bench/faults.py``, not asserted here.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import write_config
from tests.e2e.faults import (
    Market,
    alive,
    children,
    descendants,
    dispatcher_pid,
    inject,
    offers_since,
    redis_client,
    redis_pid,
    solver_pid,
    violations,
    wait_until,
)
from tests.e2e.people import check_in, job_body, manager, new_employer, new_worker
from tests.e2e.server import REPO, ServerProcess

#: Offers expire quickly, so some expire while dispatch is down and must be swept on return.
RULES = {"offer_timeout_s": 3, "batch_interval_s": 1}


def recoveries(server: ServerProcess) -> dict[str, float]:
    text = httpx.get(f"{server.base_url}/metrics", timeout=10).text
    return {k: float(v) for k, v in
            re.findall(r'^gigmarket_recoveries_total\{kind="(\w+)"\} (\S+)$', text, re.M)}


def lease_token(server: ServerProcess) -> int:
    lease = httpx.get(f"{server.base_url}/readyz", timeout=10).json()["checks"]["dispatch"]
    return int(lease["shiling"]["token"]) if lease["shiling"] else 0


def leases(server: ServerProcess) -> dict[str, tuple[str, int]]:
    """Each held market's lease, from /readyz: ``(holder, token)``."""
    held = httpx.get(f"{server.base_url}/readyz", timeout=10).json()["checks"]["dispatch"]
    return {m: (str(v["holder"]), int(v["token"])) for m, v in held.items() if v}


async def fault_during_traffic(server: ServerProcess, kind: str, seed: int, *,
                               stops_dispatch: bool) -> Market:
    """Traffic, then ``kind`` at a seeded random moment; returns once a fresh worker got an
    offer on their socket after the fault and every check passed.

    ``stops_dispatch``: the fault kills the dispatcher holding the markets; each of its
    markets must pass to a new holder under a higher token, and /readyz be 200 again. (Not
    "/readyz must be seen 503": a restarted dispatcher may take a lease the moment it lapses,
    leaving no gap to see.)"""
    market = await Market(server, seed=seed).open(n_workers=6)
    market.start()
    try:
        await wait_until(lambda: offers_since(server, 0) >= 2, "offers before the fault")
        await asyncio.sleep(random.Random(seed).uniform(0, 1.5))  # the random moment
        victim, before = dispatcher_pid(server), leases(server)
        wall, _ = inject(server, kind)
        if stops_dispatch:
            lost = {m for m, (holder, _) in before.items()
                    if holder.rsplit(":", 1)[1] == str(victim)}
            assert lost, f"the killed dispatcher {victim} held no market: {before}"

            def taken_over() -> bool:
                now = leases(server)
                return all(m in now and now[m][1] > before[m][1] for m in lost)

            await wait_until(taken_over, "the dead dispatcher's markets taken over")
            await wait_until(lambda: httpx.get(f"{server.base_url}/readyz",
                                               timeout=10).status_code == 200, "/readyz 200")
        await wait_until(lambda: offers_since(server, wall) >= 1, "an offer after the fault")
        fresh = await market.add_worker()
        offer = await fresh.wait_for(lambda m: m["type"] == "offer", timeout=60)
        assert offer["job"]["title"] == "仓库搬货"
    finally:
        await market.close()
    assert violations(server, market) == []
    assert market.posted, "no post was acknowledged during the test"
    return market


async def test_a_killed_dispatcher_is_restarted_and_sweeps_what_expired_meanwhile(
    make_server: Callable[..., ServerProcess],
) -> None:
    """kill -9 of the dispatcher: serve starts a new one, the dead one's markets pass to a
    live dispatcher under higher tokens (/readyz is 503 while no live one holds them, if that
    gap is long enough to see), offers that expired meanwhile are closed, offers flow again."""
    server = make_server(**RULES)
    before = dispatcher_pid(server)
    await fault_during_traffic(server, "dispatcher", seed=1, stops_dispatch=True)
    assert dispatcher_pid(server) not in (None, before)
    db = server.ledger()
    try:
        # Nothing the sweeper should have closed is still pending (a generous margin past
        # expiry: the sweep runs every quarter second once a dispatcher holds the market).
        await wait_until(lambda: db.execute(
            "SELECT COUNT(*) FROM offers WHERE state = 'pending' AND expires_at < ?",
            (time.time() - 5,)).fetchone()[0] == 0, "stale pending offers swept")
    finally:
        db.close()
    assert recoveries(server)["dispatcher_restart"] >= 1
    assert "the dispatcher (pid" in server.log_tail(100_000)


async def test_a_killed_solver_is_replaced_and_rounds_go_on(
    make_server: Callable[..., ServerProcess],
) -> None:
    """kill -9 of the solver process: the dispatcher (same pid) starts a new solver, the
    round in flight fails cleanly, the next rounds offer again."""
    server = make_server(**RULES)
    dispatcher, solver = dispatcher_pid(server), solver_pid(server)
    await fault_during_traffic(server, "solver", seed=2, stops_dispatch=False)
    await wait_until(lambda: solver_pid(server) not in (None, solver), "a new solver")
    assert dispatcher_pid(server) == dispatcher
    assert recoveries(server)["solver_restart"] >= 1


async def test_a_killed_embedded_redis_is_restarted_and_the_pools_rebuilt(
    make_server: Callable[..., ServerProcess],
) -> None:
    """kill -9 of the embedded Redis: writes meanwhile answer 503 `unavailable` (never 500),
    serve restarts it on the same socket, the pools are rebuilt from the ledger and offers
    flow again."""
    server = make_server(**RULES)
    before = redis_pid(server)
    # Not stops_dispatch: serve restarts Redis so fast that /readyz (whose client retries
    # briefly) may never see it down; the paused-serve test below shows that 503.
    market = await fault_during_traffic(server, "redis", seed=3, stops_dispatch=False)
    assert redis_pid(server) not in (None, before)
    assert all(code == 503 for code, _ in market.refused if code >= 500)
    counts = recoveries(server)
    assert counts["redis_restart"] >= 1 and counts["rebuild"] >= 1


async def test_writes_while_redis_is_down_answer_503_unavailable(
    make_server: Callable[..., ServerProcess],
) -> None:
    """While Redis is down (serve is paused, so it cannot restart it yet), a check-in on a web
    process answers 503 `unavailable` in the error format and changes nothing in the ledger;
    /readyz names Redis; once serve restarts Redis the same check-in succeeds."""
    server = make_server(**RULES)
    worker = await new_worker(server.api, server.ws_url, "13800000001")
    # Hold the supervisor back: a SIGSTOPped serve cannot restart Redis, and its web loop
    # cannot answer either, so the write goes to a second, web-only process on the same Redis.
    web = ServerProcess(server.data_dir, env={
        "REDIS_URL": f"unix://{server.data_dir / 'redis' / 'redis.sock'}",
        "GIGMARKET_CONFIG": server.env["GIGMARKET_CONFIG"]}, args=("--no-dispatch",))
    web.log_path = server.data_dir / "server-web.log"
    assert server.proc is not None
    try:
        web.start()
        pid = redis_pid(server)
        assert pid is not None
        os.kill(server.proc.pid, signal.SIGSTOP)
        try:
            os.kill(pid, signal.SIGKILL)
            await wait_until(lambda: not alive(pid), "Redis gone")
            async with httpx.AsyncClient(base_url=web.api, timeout=30) as c:
                r = await c.post("/markets/shiling/checkin", json={"station_id": "hall"},
                                 headers={"Authorization": f"Bearer {worker.token}"})
                ready = await c.get(f"{web.base_url}/readyz")
        finally:
            os.kill(server.proc.pid, signal.SIGCONT)
        assert r.status_code == 503, r.text
        assert r.json()["error"]["code"] == "unavailable"
        assert ready.status_code == 503 and "Redis is unreachable" in ready.json()["problems"]
        db = server.ledger()
        try:
            state = db.execute("SELECT state FROM workers WHERE id = ?",
                               (worker.user_id,)).fetchone()
        finally:
            db.close()
        assert state == ("offline",)
        await wait_until(lambda: redis_pid(server) not in (None, pid), "Redis restarted")
        worker.api = web.api

        async def checks_in() -> bool:
            r = await worker.call("POST", "/markets/shiling/checkin", {"station_id": "hall"})
            return r.status_code == 200

        for _ in range(600):
            if await checks_in():
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("check-in never succeeded after Redis came back")
    finally:
        web.stop()
    assert "Traceback" not in web.log_tail(100_000)


async def test_flushall_is_detected_and_rebuilt_with_a_new_lease_token(
    make_server: Callable[..., ServerProcess],
) -> None:
    """FLUSHALL: the dispatcher sees its pools and lease gone, rebuilds from the ledger and
    takes a new lease whose token (numbered by the ledger) is higher than any before."""
    server = make_server(**RULES)
    token = lease_token(server)
    await fault_during_traffic(server, "flushall", seed=4, stops_dispatch=False)
    await wait_until(lambda: lease_token(server) > token, "a new, higher lease token")
    assert recoveries(server)["rebuild"] >= 1


async def test_dropped_subscriptions_are_resubscribed(
    make_server: Callable[..., ServerProcess],
) -> None:
    """CLIENT KILL TYPE pubsub: the dispatcher survives (same pid) and resubscribes its kicks,
    the web hub resubscribes its fan-out, and sockets get offers again."""
    server = make_server(**RULES)
    dispatcher = dispatcher_pid(server)
    await fault_during_traffic(server, "pubsub", seed=5, stops_dispatch=False)
    assert dispatcher_pid(server) == dispatcher
    client = redis_client(server)
    try:
        await wait_until(lambda: len(client.pubsub_channels()) >= 2, "channels subscribed")
    finally:
        client.close()


async def test_a_killed_web_process_loses_no_acknowledged_write(
    make_server: Callable[..., ServerProcess],
) -> None:
    """Two web processes on one Redis (B: serve --no-dispatch); B is killed -9 during traffic
    that goes through it and started again: every 2xx it gave is in the ledger and its
    sockets get offers again."""
    a = make_server(**RULES)
    b = ServerProcess(a.data_dir, env={
        "REDIS_URL": f"unix://{a.data_dir / 'redis' / 'redis.sock'}",
        "GIGMARKET_CONFIG": a.env["GIGMARKET_CONFIG"]}, args=("--no-dispatch",))
    b.log_path = a.data_dir / "server-b.log"
    market = Market(b, seed=6)
    try:
        b.start()
        await market.open(n_workers=6)
        market.start()
        await wait_until(lambda: offers_since(a, 0) >= 2, "offers before the fault")
        await asyncio.sleep(random.Random(6).uniform(0, 1.5))
        b.kill()
        await market.stop()
        b.start()
        wall = time.time()
        fresh = await market.add_worker()
        market.start()
        await fresh.wait_for(lambda m: m["type"] == "offer", timeout=60)
        assert offers_since(a, wall) >= 1
    finally:
        await market.close()
        b.stop()
    assert violations(a, market) == []


async def test_resume_beyond_the_window_gets_a_snapshot_on_every_stream(
    tmp_path: Path,
) -> None:
    """With a replay window of 3, a worker, an employer and a manager each 4+ messages
    behind get a snapshot at the current seq on resume, never a partial replay; within the
    window they get exactly the missing ones."""
    config = write_config(tmp_path / "config", {"batch_interval_s": 1})
    server = ServerProcess(tmp_path / "data", env={"GIGMARKET_CONFIG": str(config),
                                                   "GIGMARKET_REPLAY_WINDOW": "3"})
    server.start()
    try:
        server.cli("manager", "add", "--username", "boss", "--market", "shiling",
                   "--password", "correct-horse")
        api, ws = server.api, server.ws_url
        boss = await manager(api, ws, "boss", "correct-horse")
        employer = await new_employer(api, ws, "13900000001", verified_by=boss)
        worker = await new_worker(api, ws, "13800000001")
        await worker.connect()
        await check_in(worker)
        for _ in range(2):  # two offers, two declines: four worker messages
            job = await employer.ok("POST", "/markets/shiling/jobs", job_body(headcount=1))
            offer = await worker.wait_for(
                lambda m, j=job["id"]: m["type"] == "offer" and m["job"]["id"] == j)
            await worker.ok("POST", f"/offers/{offer['offer_id']}/decline")
            await worker.wait_for(lambda m, o=offer["offer_id"]: m["type"] == "offer_closed"
                                  and m["offer_id"] == o)
        await worker.disconnect()
        db = server.ledger()
        try:
            last = dict(db.execute("SELECT recipient, last_seq FROM recipients").fetchall())
        finally:
            db.close()
        for person, recipient in ((worker, f"worker:{worker.user_id}"),
                                  (employer, f"employer:{employer.user_id}"),
                                  (boss, "market:shiling")):
            assert last[recipient] > 3, (recipient, last[recipient])
            person.messages.clear()
            await person.connect(resume_after=0)
            snap = await person.wait_for(lambda m: m["type"] == "snapshot")
            assert snap["seq"] >= last[recipient]
            # Nothing older than the snapshot was replayed before it.
            assert [m for m in person.messages if m["type"] not in ("snapshot", "event")
                    and m.get("seq", 0) <= snap["seq"] and m is not snap] == []
            await person.disconnect()
        # Within the window: exactly the missing ones, in order.
        worker.messages.clear()
        end = last[f"worker:{worker.user_id}"]
        await worker.connect(resume_after=end - 2)
        got = [await worker.wait_for(lambda m, n=n: m.get("seq") == n) for n in (end - 1, end)]
        assert [m["type"] for m in got] == ["offer", "offer_closed"]
        assert not worker.of_type("snapshot")
        await worker.disconnect()
    finally:
        server.stop()
    assert "Traceback" not in server.log_tail(100_000)


# -- stopping ----------------------------------------------------------------------------------


def _serve(tmp_path: Path, port: int) -> tuple[subprocess.Popen[bytes], Path]:
    data = tmp_path / "data"
    data.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["GIGMARKET_DATA"] = str(data)
    log = data / "server.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gigmarket.cli", "serve", "--dev", "--host", "127.0.0.1",
             "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO,
            start_new_session=True)
    return proc, log


async def _reach(state: str, proc: subprocess.Popen[bytes], port: int,
                 redis_pidfile: Path) -> list[int]:
    """Wait for serve to reach ``state`` ("first start": as soon as the dispatcher exists,
    its solver still starting; otherwise ready); its processes then, embedded Redis included."""
    if state == "first start":
        await wait_until(lambda: any("spawn_main" in c for _, c in children(proc.pid)),
                         "the dispatcher started")
    else:
        def ready() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1
                                 ).status_code == 200
            except httpx.HTTPError:
                return False

        await wait_until(ready, "serve ready")
    pids = descendants(proc.pid)
    if redis_pidfile.exists():
        pids.append(int(redis_pidfile.read_text()))
    return pids


@pytest.mark.parametrize("state", ["first start", "ready", "redis lost"])
@pytest.mark.parametrize("how", ["SIGTERM", "Ctrl-C"])
async def test_serve_stops_with_every_process_in_every_state(
    tmp_path: Path, state: str, how: str,
) -> None:
    """SIGTERM to serve, or Ctrl-C (SIGINT to its process group, as a terminal sends it):
    serve exits, and with it the dispatcher, the solver and the embedded Redis, whether it
    was still starting for the first time, running, or had just lost its Redis."""
    from tests.e2e.server import free_port

    port = free_port()
    proc, log = _serve(tmp_path, port)
    redis_pidfile = tmp_path / "data" / "redis" / "redis.pid"
    try:
        pids = await _reach(state, proc, port, redis_pidfile)
        if state == "redis lost":
            os.kill(int(redis_pidfile.read_text()), signal.SIGKILL)
        if how == "SIGTERM":
            proc.send_signal(signal.SIGTERM)
        else:
            os.killpg(proc.pid, signal.SIGINT)
        # A generous ceiling: serve kills what has not stopped by itself after a few seconds.
        proc.wait(30)
        await wait_until(lambda: not [p for p in pids if alive(p)], "every child gone", 15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = log.read_text(errors="replace")
    assert "Traceback" not in text, text[-4000:]
    assert proc.returncode == 0, text[-2000:]


@pytest.mark.parametrize("state", ["first start", "ready"])
async def test_kill_9_of_serve_leaves_no_process_behind(tmp_path: Path, state: str) -> None:
    """``kill -9`` of serve itself: its dispatcher, the dispatcher's solver and the embedded
    Redis all end, including a dispatcher still importing when its parent died (too early to
    have asked the kernel for a parent-death signal). A child left behind would keep the old
    ledger open and compete for the leases with the server started next."""
    from tests.e2e.server import free_port

    port = free_port()
    proc, _log = _serve(tmp_path, port)
    redis_pidfile = tmp_path / "data" / "redis" / "redis.pid"
    pids: list[int] = []
    try:
        pids = await _reach(state, proc, port, redis_pidfile)
        assert pids, "serve had started no child"
        proc.kill()
        proc.wait(10)
        await wait_until(lambda: not [p for p in pids if alive(p)], "every child gone", 20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in pids:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


async def test_a_killed_standalone_dispatcher_is_taken_over_by_another(tmp_path: Path) -> None:
    """`serve --no-dispatch` and two `gigmarket dispatch` processes: the lease holder is
    killed -9 during traffic; the other takes the market over once the lease lapses, with a
    higher token; offers flow; the invariants hold."""
    from tests.e2e.server import free_port

    config = write_config(tmp_path / "config", RULES)
    data = tmp_path / "data"
    web = ServerProcess(data, env={"GIGMARKET_CONFIG": str(config)}, args=("--no-dispatch",))
    env = {**web.env, "REDIS_URL": f"unix://{data / 'redis' / 'redis.sock'}"}
    web.port = free_port()
    web.data_dir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "gigmarket.cli", "serve", "--host", "127.0.0.1", "--port",
           str(web.port), "--dev", "--no-dispatch"]
    dispatchers: list[subprocess.Popen[bytes]] = []
    logs = [data / "server.log", data / "dispatch-0.log", data / "dispatch-1.log"]
    with logs[0].open("ab") as out:
        web.proc = subprocess.Popen(cmd, env=web.env, stdout=out, stderr=subprocess.STDOUT,
                                    cwd=REPO, start_new_session=True)
    try:
        def up() -> bool:
            try:
                return httpx.get(f"{web.base_url}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        await wait_until(up, "the web process up")
        # No dispatcher yet: not ready, naming each market nobody dispatches.
        alone = httpx.get(f"{web.base_url}/readyz", timeout=10)
        assert alone.status_code == 503
        assert "no dispatcher holds market shiling" in alone.json()["problems"]
        for log in logs[1:]:
            with log.open("ab") as out:
                dispatchers.append(subprocess.Popen(
                    [sys.executable, "-m", "gigmarket.cli", "dispatch"], env=env, stdout=out,
                    stderr=subprocess.STDOUT, cwd=REPO, start_new_session=True))

        def holder() -> dict[str, object] | None:
            try:
                r = httpx.get(f"{web.base_url}/readyz", timeout=5)
            except httpx.HTTPError:
                return None
            held: dict[str, object] | None = r.json()["checks"]["dispatch"]["shiling"]
            return held if r.status_code == 200 else None

        def shared() -> bool:
            r = httpx.get(f"{web.base_url}/readyz", timeout=5)
            held = r.json()["checks"]["dispatch"].values()
            return r.status_code == 200 and len({str(h["holder"]) for h in held if h}) == 2

        # Settled: the first to start takes both markets, then hands one to the second when
        # it shows up; a holder read mid-hand-over would be nobody.
        await wait_until(shared, "the two dispatchers holding a market each")
        web.cli("manager", "add", "--username", "boss", "--market", "shiling",
                "--password", "correct-horse")
        first = holder()
        assert first is not None
        victim = int(str(first["holder"]).rsplit(":", 1)[1])
        assert victim in [d.pid for d in dispatchers]
        market = await Market(web, seed=7).open(n_workers=6)
        market.start()
        try:
            await wait_until(lambda: offers_since(web, 0) >= 2, "offers before the fault")
            await asyncio.sleep(random.Random(7).uniform(0, 1.5))
            wall = time.time()
            os.kill(victim, signal.SIGKILL)
            # Taken over once the lease lapses (/readyz 503 in the gap, when the survivor's
            # next try is not the very moment it lapses; waiting for the new holder instead).
            await wait_until(lambda: (h := holder()) is not None
                             and h["holder"] != first["holder"], "the market taken over")
            second = holder()
            assert second is not None and second["holder"] != first["holder"]
            assert int(str(second["token"])) > int(str(first["token"]))
            fresh = await market.add_worker()
            await fresh.wait_for(lambda m: m["type"] == "offer", timeout=60)
            assert offers_since(web, wall) >= 1
        finally:
            await market.close()
        assert violations(web, market) == []
    finally:
        for d in dispatchers:
            if d.poll() is None:
                d.send_signal(signal.SIGTERM)
        for d in dispatchers:
            try:
                d.wait(30)
            except subprocess.TimeoutExpired:
                d.kill()
                d.wait(10)  # reaped, or its Popen warns when collected during a later test
        web.stop()
    for log in logs:
        text = log.read_text(errors="replace")
        assert "Traceback" not in text, text[-4000:]


async def test_readyz_is_503_while_the_ledger_cannot_commit(server: ServerProcess) -> None:
    """Another process holds the lock the probe's write needs (SQLite's write lock, or on
    PostgreSQL an exclusive lock on the probe's table): /readyz's probe transaction cannot
    commit, so it answers 503 naming the ledger; once the lock is released it is 200 again."""
    async with held_write_lock(server), httpx.AsyncClient(base_url=server.base_url,
                                                          timeout=30) as c:
        # A probe that committed just before the lock is reused for LEDGER_PROBE_TTL_S.
        for _ in range(50):
            r = await c.get("/readyz")
            if r.status_code != 200:
                break
            await asyncio.sleep(0.1)
        assert r.status_code == 503
        assert r.json()["checks"]["ledger"] != "ok"
        assert any("ledger" in p for p in r.json()["problems"])
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as c:
        for _ in range(600):
            if (await c.get("/readyz")).status_code == 200:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("/readyz never came back after the lock was released")


@contextlib.asynccontextmanager
async def held_write_lock(server: ServerProcess) -> AsyncIterator[None]:
    """The ledger's writers are blocked while this is held, as by another process."""
    if server.postgres_url:
        import asyncpg

        conn = await asyncpg.connect(server.postgres_url)
        try:
            tx = conn.transaction()
            await tx.start()
            await conn.execute("LOCK TABLE recoveries IN ACCESS EXCLUSIVE MODE")
            try:
                yield
            finally:
                await tx.rollback()
        finally:
            await conn.close()
        return
    import sqlite3

    blocker = sqlite3.connect(server.data_dir / "ledger.sqlite3", isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            blocker.execute("ROLLBACK")
    finally:
        blocker.close()


async def test_a_postgresql_ledger_going_down_answers_503_and_dispatch_resumes_after(
        tmp_path: Path) -> None:
    """The ledger's PostgreSQL server stops while a worker waits: a write answers 503
    ``unavailable`` and changes nothing, /readyz names the ledger; when the server is back,
    without restarting gigmarket, writes succeed, a new job is offered to the waiting worker,
    and no process logged a traceback."""
    from tests import pg

    if pg.bin_dir() is None:
        pytest.skip("no PostgreSQL server binaries (apt-get install postgresql)")
    database = pg.ThrowawayPostgres().start()  # its own: this test stops it
    server = ServerProcess(tmp_path / "data", env={
        "GIGMARKET_CONFIG": str(write_config(tmp_path / "config", RULES)),
        "GIGMARKET_LEDGER": database.fresh_database("down")})
    try:
        server.start()
        server.cli("manager", "add", "--username", "boss", "--market", "shiling",
                   "--password", "correct-horse")
        boss = await manager(server.api, server.ws_url, "boss", "correct-horse")
        worker = await new_worker(server.api, server.ws_url, "13800000001")
        await worker.connect()
        await check_in(worker)
        employer = await new_employer(server.api, server.ws_url, "13900000001",
                                      verified_by=boss)
        await employer.ok("POST", "/markets/shiling/jobs", job_body(headcount=1))
        first = await worker.wait_for(lambda m: m["type"] == "offer")
        await worker.ok("POST", f"/offers/{first['offer_id']}/decline")

        database.pause()
        r = await employer.call("POST", "/markets/shiling/jobs", job_body(headcount=1))
        assert r.status_code == 503 and r.json()["error"]["code"] == "unavailable", r.text
        # A probe that committed just before the pause is reused for LEDGER_PROBE_TTL_S.
        for _ in range(50):
            ready = httpx.get(f"{server.base_url}/readyz", timeout=30)
            if ready.status_code != 200:
                break
            await asyncio.sleep(0.1)
        assert ready.status_code == 503 and ready.json()["checks"]["ledger"] != "ok"

        database.resume()

        def back() -> bool:
            return httpx.get(f"{server.base_url}/readyz", timeout=30).status_code == 200

        await wait_until(back, "/readyz 200 once PostgreSQL is back")
        job = await employer.ok("POST", "/markets/shiling/jobs", job_body(headcount=1))
        offer = await worker.wait_for(lambda m: m["type"] == "offer"
                                      and m["job"]["id"] == job["id"], timeout=60)
        await worker.ok("POST", f"/offers/{offer['offer_id']}/accept")
        with server.ledger() as db:
            jobs = db.execute("SELECT COUNT(*) FROM jobs").fetchone()
        assert jobs == (2,), "the refused post left a job behind"
        for person in (worker, employer, boss):
            await person.disconnect()
    finally:
        server.stop()
        database.stop()
    assert "Traceback" not in server.log_tail(100_000), server.log_tail(200)
