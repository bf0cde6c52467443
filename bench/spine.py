"""I/O figures of the dispatch spine, as JSON lines.

- ``spine.round.*``: one real round (live snapshot from Redis, plan in the solver process,
  offers gated in Redis, written to the SQLite ledger with their events and messages, then
  published) over a seeded market of N workers x M jobs;
- ``spine.web_stall_ms``: the longest pause of a running web process's event loop while that
  round's offers fan out to it (measured from outside by a websocket ping every 2 ms, as the
  worst round trip minus the median one);
- ``spine.post_to_socket_ms``: a job posted over HTTP while its worker waits, until its offer
  arrives on that worker's socket (full server: web + dispatcher), median over repeats;
- ``trust.suspend_to_sockets_ms``: a manager suspends an employer whose open jobs hold pending
  offers, until the last of the offered workers' sockets has its ``offer_closed`` (withdrawn)
  (SPEC: "within a second"); with the suspend request's own time beside it.

    python bench/spine.py [--sizes 1000x200,10000x2000] [--posts 30] [--suspend 100x300]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.synthetic import SKILLS, SyntheticRound, synthetic_round  # noqa: E402
from gigmarket.core.model import OfferState  # noqa: E402
from gigmarket.credentials import new_token, token_hash  # noqa: E402
from gigmarket.dispatch.round import run_round  # noqa: E402
from gigmarket.dispatch.solver import Solver  # noqa: E402
from gigmarket.services import auth  # noqa: E402
from gigmarket.services import offers as offer_service  # noqa: E402
from gigmarket.services.context import Context  # noqa: E402
from gigmarket.services.live_records import rebuild_market  # noqa: E402
from gigmarket.settings import Settings, load  # noqa: E402
from gigmarket.store import lease_tokens  # noqa: E402
from gigmarket.store.embedded_redis import EmbeddedRedis  # noqa: E402
from gigmarket.store.ledger import Ledger  # noqa: E402
from gigmarket.store.live import LiveStore  # noqa: E402

#: The synthetic skills, as the shipped catalogue names them.
CODES = {"porter": "loading", "packer": "sorting_packing", "cleaner": "cleaning",
         "sewing": "leather_craft", "construction": "construction_helper",
         "kitchen": "kitchen_helper", "driver": "driver_delivery", "electrician": "electrician"}
MARKET = "shiling"


def emit(name: str, value: float, unit: str, **params: Any) -> None:
    print(json.dumps({"name": name, "value": round(value, 2), "unit": unit, "params": params}),
          flush=True)


def _codes(mask: int) -> list[str]:
    return [CODES[s] for i, s in enumerate(SKILLS) if mask >> i & 1]


async def seed(ledger: Ledger, sr: SyntheticRound, now: float) -> list[str]:
    """Write the synthetic market into the ledger as checked-in workers and open jobs."""
    shift = now - sr.now
    w, j = sr.workers, sr.jobs
    async with ledger.transaction(now) as tx:
        employers = sorted(set(j.employer_ids))
        await tx.executemany(
            "INSERT INTO employers (id, phone, name, org_name, credit_code, verified,"
            " created_at, updated_at) VALUES (?, ?, '老板', '某厂', 'X', 1, ?, ?)",
            [(e, f"171{i:08d}", now, now) for i, e in enumerate(employers)])
        await tx.executemany(
            "INSERT INTO workers (id, phone, name, skills, certs, min_wage_fen, min_wage_unit,"
            " state, market_id, lat, lon, checked_in_at, created_at, updated_at)"
            " VALUES (?, ?, '工人', ?, ?, ?, 'hour', 'available', ?, ?, ?, ?, ?, ?)",
            [(w.ids[i], f"170{i:08d}", json.dumps(_codes(int(w.skills[i]))),
              json.dumps(_codes(int(w.certs[i]))), int(w.min_hourly_fen[i]), MARKET,
              float(w.lat[i]), float(w.lon[i]), now - float(w.waited_s[i]), now, now)
             for i in range(len(w))])
        rows = []
        for k in range(len(j)):
            hourly = j.hourly_fen[k]
            fen, unit = (int(hourly), "hour") if not np.isnan(hourly) else (500, "piece")
            rows.append((j.ids[k], j.employer_ids[k], MARKET, "搬货",
                         json.dumps(_codes(int(j.skills[k]))), int(j.slots[k]), fen, unit,
                         float(j.start_at[k]) + shift,
                         (float(j.end_at[k]) - float(j.start_at[k])) / 3600,
                         float(j.lat[k]), float(j.lon[k]), "狮岭镇", now))
        await tx.executemany(
            "INSERT INTO jobs (id, employer_id, market_id, title, skills, headcount, wage_fen,"
            " wage_unit, start_at, duration_hours, lat, lon, address, state, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)",
            [(*r, r[-1]) for r in rows])
        # Members of the market, as a check-in and a posting make them (issue 9): a socket
        # hears the channels of its markets only, so without this no offer reached one.
        await tx.executemany(
            "INSERT OR IGNORE INTO market_members (kind, member_id, market_id, since)"
            " VALUES (?, ?, ?, ?)",
            [("worker", wid, MARKET, now) for wid in w.ids]
            + [("employer", e, MARKET, now) for e in employers])
    return list(w.ids)


async def session(ledger: Ledger, role: str, user_id: str) -> str:
    token = new_token()
    async with ledger.transaction() as tx:
        await tx.execute("INSERT INTO sessions (token_hash, role, user_id, created_at, expires_at)"
                         " VALUES (?, ?, ?, ?, ?)",
                         (token_hash(token), role, user_id, tx.now, tx.now + 3600))
    return token


def web_process(data: Path, redis_url: str, port: int, dispatch: bool) -> subprocess.Popen[bytes]:
    env = {**os.environ, "GIGMARKET_DATA": str(data), "REDIS_URL": redis_url}
    cmd = [sys.executable, "-m", "gigmarket.cli", "serve", "--port", str(port)]
    if not dispatch:
        cmd.append("--no-dispatch")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            # A web-only process is 503 until a dispatcher holds the market: wait for its
            # own parts only.
            checks = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).json()["checks"]
            if checks["redis"] == "ok" and checks["ledger"] == "ok":
                return proc
        except (httpx.HTTPError, ValueError, KeyError):
            pass
        time.sleep(0.1)
    raise RuntimeError("web process did not start")


@dataclass
class BenchMarket:
    """A fresh data folder with its own embedded Redis and ledger (see :func:`bench_market`)."""

    data: Path
    settings: Settings
    url: str
    ledger: Ledger
    web: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def serve(self, port: int, *, dispatch: bool) -> None:
        """A web process on this market's data (with its dispatcher, or without)."""
        self.web.append(web_process(self.data, self.url, port, dispatch))


@contextlib.asynccontextmanager
async def bench_market(tmp: Path, name: str) -> AsyncIterator[BenchMarket]:
    """Everything one benchmark stands on, all stopped on the way out: web processes,
    ledger, Redis."""
    data = tmp / name
    os.environ["GIGMARKET_DATA"] = str(data)
    settings = load()
    embedded = EmbeddedRedis(data)
    url = embedded.start()
    bm = BenchMarket(data, settings, url, await Ledger.open(settings.ledger_path))
    try:
        yield bm
    finally:
        for proc in bm.web:
            proc.terminate()
            proc.wait(20)
        await bm.ledger.aclose()
        embedded.stop()


# The web loop's pauses, seen from outside: /healthz every 2 ms on a kept-alive connection.
# (Not websocket pings: the socket's per-client rate limit would rightly refuse them.)
PINGER = """
import json, sys, time, httpx
url, seconds = sys.argv[1], float(sys.argv[2])
rtts = []
with httpx.Client(timeout=30) as c:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = time.monotonic()
        c.get(url)
        rtts.append((t0, time.monotonic() - t0))
        time.sleep(0.002)
print(json.dumps(rtts))
"""

LISTENERS = """
import asyncio, json, sys, websockets
async def one(url, token, seconds):
    async with websockets.connect(url, max_queue=None) as ws:
        await ws.send(json.dumps({"type": "auth", "token": token}))
        try:
            await asyncio.wait_for(asyncio.gather(*[ws.recv() for _ in range(1)]), seconds)
            async for _ in ws:
                pass
        except (asyncio.TimeoutError, websockets.ConnectionClosed):
            pass
async def main(url, seconds):
    tokens = json.loads(sys.stdin.read())
    await asyncio.gather(*(asyncio.wait_for(one(url, t, seconds), seconds + 1) for t in tokens),
                         return_exceptions=True)
asyncio.run(main(sys.argv[1], float(sys.argv[2])))
"""


async def round_and_stall(n_workers: int, n_jobs: int, tmp: Path, listeners: int) -> None:
    async with bench_market(tmp, f"round-{n_workers}") as bm, contextlib.AsyncExitStack() as stack:
        settings = bm.settings
        url = bm.url
        ledger = bm.ledger
        live = LiveStore.from_url(url)
        stack.push_async_callback(live.aclose)
        solver = Solver()
        stack.callback(solver.close)
        await solver.warm()
        ctx = Context(settings=settings, ledger=ledger, live=live)
        now = time.time()
        sr = synthetic_round(n_workers, n_jobs, seed=1, now=now)
        ids = await seed(ledger, sr, now)
        await rebuild_market(ctx, MARKET)
        token = await live.lease(MARKET, "", "bench", 120,
                                 fresh=lambda: lease_tokens.next_token(ledger, MARKET))
        assert token is not None
        port = 18000 + n_workers % 1000
        bm.serve(port, dispatch=False)
        ws_url = f"ws://127.0.0.1:{port}/ws"
        tokens = [await session(ledger, "worker", w) for w in ids[:listeners]]
        seconds = 6.0
        listen = subprocess.Popen([sys.executable, "-c", LISTENERS, ws_url, str(seconds)],
                                  stdin=subprocess.PIPE)
        assert listen.stdin is not None
        listen.stdin.write(json.dumps(tokens).encode())
        listen.stdin.close()
        pinger = subprocess.Popen([sys.executable, "-c", PINGER,
                                   f"http://127.0.0.1:{port}/healthz", str(seconds)],
                                  stdout=subprocess.PIPE)
        await asyncio.sleep(2.0)  # baseline pings, listeners connected
        t0 = time.monotonic()
        figures = await run_round(ctx, ctx.market(MARKET), token, solver)
        t1 = time.monotonic()
        out, _ = pinger.communicate(timeout=60)
        listen.wait(60)
        rtts = json.loads(out)
        during = [rtt for start, rtt in rtts if t0 - 0.05 <= start <= t1 + 2.0]
        base = statistics.median(rtt for _, rtt in rtts)
        p = {"workers": n_workers, "jobs": n_jobs, "pairs": figures.pairs,
             "offers": figures.offers, "sockets": listeners + 1}
        emit("spine.round.snapshot", figures.snapshot_ms, "ms", **p)
        emit("spine.round.candidates", figures.candidates_ms, "ms", **p)
        emit("spine.round.solve", figures.solve_ms, "ms", **p)
        emit("spine.round.plan_in_solver_process", figures.plan_ms, "ms", **p)
        emit("spine.round.offers_written", figures.write_ms, "ms", **p)
        emit("spine.round.total", figures.total_ms, "ms", **p)
        emit("spine.round.candidates_solve_write", figures.candidates_ms + figures.solve_ms
             + figures.write_ms, "ms", **p)
        emit("spine.web_stall_ms", (max(during) - base) * 1000 if during else float("nan"), "ms",
             baseline_rtt_ms=round(base * 1000, 2), pings=len(during), **p)

        # Steady state: the pools stay full, 100 workers decline, the next round re-offers.
        pending = await ledger.all("SELECT id FROM offers WHERE state = 'pending' LIMIT 100")
        for row in pending:
            await offer_service.close(ctx, row["id"], OfferState.DECLINED)
        steady = await run_round(ctx, ctx.market(MARKET), token, solver)
        q = {"workers": steady.workers, "jobs": steady.jobs, "pairs": steady.pairs,
             "offers": steady.offers}
        emit("spine.steady_round.candidates_solve_write", steady.candidates_ms
             + steady.solve_ms + steady.write_ms, "ms", **q)
        emit("spine.steady_round.total", steady.total_ms, "ms", **q)



async def post_to_socket(tmp: Path, waiting: int, posts: int) -> None:
    async with bench_market(tmp, "latency") as bm:
        ledger = bm.ledger
        now = time.time()
        sr = synthetic_round(waiting, 1, seed=2, now=now)
        ids = await seed(ledger, sr, now)
        watcher = ids[0]
        # Only the watched worker cares for the sick: every caregiver job is hers.
        async with ledger.transaction() as tx:
            await tx.execute("UPDATE workers SET skills = '[\"caregiver\"]', min_wage_fen = 0"
                             " WHERE id = ?", (watcher,))
            await tx.execute("UPDATE jobs SET state = 'cancelled'")
            w = await tx.one("SELECT lat, lon FROM workers WHERE id = ?", (watcher,))
        assert w is not None
        worker_token = await session(ledger, "worker", watcher)
        employer_id = (await ledger.one("SELECT id FROM employers LIMIT 1"))["id"]  # type: ignore[index]
        employer_token = await session(ledger, "employer", employer_id)
        port = 18999
        bm.serve(port, dispatch=True)
        for _ in range(100):  # the dispatcher holds the lease
            if httpx.get(f"http://127.0.0.1:{port}/readyz").json()["checks"]["dispatch"][MARKET]:
                break
            await asyncio.sleep(0.1)
        latencies = []
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws") as ws, httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}/api/v1",
            headers={"Authorization": f"Bearer {employer_token}"}) as http:
            await ws.send(json.dumps({"type": "auth", "token": worker_token}))
            await ws.recv()
            for n in range(posts):
                start = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() + 3600))
                body = {"title": "陪护", "skills": ["caregiver"], "headcount": 1,
                        "wage": {"amount": 300, "unit": "day"}, "start_at": start,
                        "duration_hours": 8, "lat": w["lat"], "lon": w["lon"],
                        "address": f"狮岭镇 {n}"}
                t0 = time.perf_counter()
                r = await http.post(f"/markets/{MARKET}/jobs", json=body)
                assert r.status_code == 201, r.text
                while True:
                    msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if msg["type"] == "offer":
                        break
                latencies.append((time.perf_counter() - t0) * 1000)
                # Over HTTP: thirty declines in a few seconds would trip the socket's own
                # per-client rate limit, as they should.
                worker_http = {"Authorization": f"Bearer {worker_token}"}
                r = await http.post(f"/offers/{msg['offer_id']}/decline", headers=worker_http)
                assert r.status_code == 200, r.text
                while json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] != "offer_closed":
                    pass
                await asyncio.sleep(0.3)
        emit("spine.post_to_socket_ms", statistics.median(latencies), "ms",
             stat="median", p90=round(float(np.percentile(latencies, 90)), 1),
             posts=posts, workers_waiting=waiting)



async def suspend_to_sockets(tmp: Path, n_jobs: int, n_workers: int) -> None:
    """One employer's ``n_jobs`` open jobs, offered to ``n_workers`` waiting workers, each
    watching on a socket; then the manager suspends the employer."""
    async with bench_market(tmp, "suspend") as bm:
        settings = bm.settings
        ledger = bm.ledger
        now = time.time()
        sr = synthetic_round(n_workers, n_jobs, seed=3, now=now)
        ids = await seed(ledger, sr, now)
        employer_id = sr.jobs.employer_ids[0]
        async with ledger.transaction() as tx:
            # Every job the suspended employer's, and every worker fit for all of them.
            await tx.execute("UPDATE jobs SET employer_id = ?, skills = '[\"loading\"]',"
                             " headcount = 3", (employer_id,))
            await tx.execute("UPDATE workers SET skills = '[\"loading\"]', min_wage_fen = 0")
        manager_id = await auth.add_manager(ledger, settings, "bench", "correct-horse-battery",
                                            [MARKET])
        manager_token = await session(ledger, "manager", manager_id)
        tokens = [await session(ledger, "worker", w) for w in ids]
        port = 18998
        bm.serve(port, dispatch=True)
        for _ in range(600):  # until the first rounds have offered what they can
            row = await ledger.one("SELECT COUNT(*) FROM offers WHERE state = 'pending'")
            if row is not None and row[0] >= min(n_workers, 3 * n_jobs) * 0.9:
                break
            await asyncio.sleep(0.1)
        offered = [r["worker_id"] for r in await ledger.all(
            "SELECT worker_id FROM offers WHERE state = 'pending'")]
        by_worker = dict(zip(ids, tokens, strict=True))
        sockets = []
        for w in offered:
            ws = await websockets.connect(f"ws://127.0.0.1:{port}/ws")
            await ws.send(json.dumps({"type": "auth", "token": by_worker[w]}))
            assert json.loads(await ws.recv())["type"] == "ready"
            sockets.append(ws)

        async def closed(ws: Any) -> float:
            while True:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if msg["type"] == "offer_closed" and msg.get("reason") == "withdrawn":
                    return time.perf_counter()

        waiting = [asyncio.create_task(closed(ws)) for ws in sockets]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=60,
                                     headers={"Authorization": f"Bearer {manager_token}"}) as c:
            t0 = time.perf_counter()
            r = await c.post(f"/employers/{employer_id}/suspend", json={"note": "bench"})
            t_answer = time.perf_counter()
            assert r.status_code == 200, r.text
        arrivals = await asyncio.gather(*waiting)
        for ws in sockets:
            await ws.close()
        after = [(t - t0) * 1000 for t in arrivals]
        p = {"jobs": n_jobs, "pending_offers_watched": len(sockets),
             "suspend_request_ms": round((t_answer - t0) * 1000, 1),
             "median_ms": round(statistics.median(after), 1)}
        emit("trust.suspend_to_sockets_ms", max(after), "ms", stat="last socket", **p)



def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000x200,10000x2000")
    parser.add_argument("--posts", type=int, default=30)
    parser.add_argument("--suspend", default="100x300",
                        help="JOBSxWORKERS: the suspended employer's jobs and the workers "
                             "holding its offers")
    parser.add_argument("--listeners", type=int, default=300,
                        help="worker sockets held open on the web process during the round")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="gm-bench-") as tmp:
        for size in args.sizes.split(","):
            nw, nj = (int(x) for x in size.lower().split("x"))
            asyncio.run(round_and_stall(nw, nj, Path(tmp), args.listeners))
        asyncio.run(post_to_socket(Path(tmp), 1000, args.posts))
        nj, nw = (int(x) for x in args.suspend.lower().split("x"))
        asyncio.run(suspend_to_sockets(Path(tmp), nj, nw))
    return 0


if __name__ == "__main__":
    sys.exit(main())
