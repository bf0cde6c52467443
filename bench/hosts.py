"""Several dispatchers sharing many markets on this machine (issue 11), as JSON lines.

Two ``gigmarket dispatch`` processes share 60 markets on one Redis (the embedded one, or a
throwaway 3-node cluster with ``--cluster``) and one SQLite ledger. Each market is seeded with
waiting workers, then jobs are posted across the markets for ``--seconds``; every post kicks a
round in its market. Printed:

- ``hosts.round_ms``: per market, the rounds' duration (the ledger's ``rounds.total_ms``: pools
  read, solve, gates, ledger write), p50 and p95, beside its floor from the same rounds: the
  OR-Tools solve alone (``rounds.solve_ms``);
- ``hosts.round_ms_all``: the same over every market, with two more floors measured in the same
  run before the dispatchers start: a durable one-row ledger commit and a Redis round trip;
- ``hosts.lease_balance``: markets held per dispatcher, against ceil(M / N), with the tokens;
- ``hosts.load_average``: the 1-minute load average at the end, and the CPUs.

    python bench/hosts.py [--markets 60] [--dispatchers 2] [--workers 20] [--seconds 30]
                          [--cluster]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gigmarket import settings as settings_module  # noqa: E402
from gigmarket.core.model import Role  # noqa: E402
from gigmarket.credentials import token_hash  # noqa: E402
from gigmarket.demo import _account  # noqa: E402
from gigmarket.services import jobs, workers  # noqa: E402
from gigmarket.services.context import Context, Principal  # noqa: E402
from gigmarket.store.embedded_redis import EmbeddedRedis  # noqa: E402
from gigmarket.store.ledger import Ledger  # noqa: E402
from gigmarket.store.live import LiveStore  # noqa: E402


def line(name: str, **fields: Any) -> None:
    print(json.dumps({"name": name, **fields}, ensure_ascii=False), flush=True)


def write_markets(dest: Path, count: int) -> list[str]:
    """The shipped config with ``count`` markets: copies of shiling (same ground, ids m01…)."""
    shutil.copytree(ROOT / "config", dest)
    source = (dest / "markets" / "shiling.toml").read_text()
    (dest / "markets" / "shiling.toml").unlink()
    ids = [f"m{i:02d}" for i in range(1, count + 1)]
    for market_id in ids:
        (dest / "markets" / f"{market_id}.toml").write_text(
            source.replace('id = "shiling"', f'id = "{market_id}"', 1))
    return ids


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1) if ordered else 0.0


def job_body(rng: random.Random, lat: float, lon: float) -> dict[str, Any]:
    start = time.time() + 3600
    return {
        "title": "仓库搬货", "skills": ["loading"], "headcount": rng.randint(1, 3),
        "wage": {"amount": 300, "unit": "day"},
        "start_at": time.strftime("%Y-%m-%dT%H:%M:00+08:00", time.gmtime(start + 8 * 3600)),
        "duration_hours": 8, "lat": lat + rng.uniform(-0.01, 0.01),
        "lon": lon + rng.uniform(-0.01, 0.01), "address": "狮岭镇阳光路1号仓库",
    }


async def seed(ctx: Context, markets: list[str], per_market: int) -> dict[str, Principal]:
    """Waiting workers in every market, and one verified employer per market."""
    bosses: dict[str, Principal] = {}
    for n, market_id in enumerate(markets):
        market = ctx.market(market_id)
        for i in range(per_market):
            uid = await _account(ctx, Role.WORKER, f"172{n:03d}{i:05d}")
            p = Principal(Role.WORKER, uid, token_hash(f"bench:{uid}"))
            await workers.put_profile(ctx, p, {"name": "基准", "skills": ["loading"],
                                               "min_wage": {"amount": 150, "unit": "day"}})
            station = market.stations[0]
            await workers.checkin(ctx, p, market_id, {"lat": station.lat, "lon": station.lon})
        uid = await _account(ctx, Role.EMPLOYER, f"173{n:08d}")
        boss = Principal(Role.EMPLOYER, uid, token_hash(f"bench:{uid}"))
        await jobs.put_employer_profile(ctx, boss, {
            "name": "基准老板", "org_name": f"基准工厂{n}", "credit_code": _credit(n)})
        async with ctx.ledger.transaction() as tx:
            await tx.execute("UPDATE employers SET verified = 1 WHERE id = ?", (uid,))
        bosses[market_id] = boss
    return bosses


def _credit(n: int) -> str:
    from gigmarket.demo import _credit_code
    return _credit_code(n + 100)


async def measure_floors(ledger: Ledger, live: LiveStore, n: int = 50) -> dict[str, float]:
    """What any round costs at least, measured now on the same machine: one durable one-row
    ledger commit, and one Redis round trip (a round makes one commit and a few dozen trips)."""
    commits, pings = [], []
    async with ledger.transaction() as tx:
        await tx.execute("CREATE TABLE IF NOT EXISTS bench_floor (at REAL)")
    for _ in range(n):
        t0 = time.perf_counter()
        async with ledger.transaction() as tx:
            await tx.execute("INSERT INTO bench_floor (at) VALUES (?)", (time.time(),))
        t1 = time.perf_counter()
        await live.redis.ping()
        t2 = time.perf_counter()
        commits.append((t1 - t0) * 1000)
        pings.append((t2 - t1) * 1000)
    return {"commit_ms_p50": pct(commits, 0.5), "redis_rtt_ms_p50": pct(pings, 0.5)}


async def run(args: argparse.Namespace, root: Path) -> None:
    markets = write_markets(root / "config", args.markets)
    data = root / "data"
    data.mkdir()
    cluster = None
    redis = None
    if args.cluster:
        from tests.cluster.redis_cluster import ThrowawayCluster
        cluster = ThrowawayCluster(root / "cluster")
        url = cluster.start()
    else:
        redis = EmbeddedRedis(root / "redis")
        url = redis.start()
    env = {**os.environ, "GIGMARKET_DATA": str(data), "GIGMARKET_CONFIG": str(root / "config"),
           "REDIS_URL": url, "GIGMARKET_SECRET_KEY": secrets.token_hex(32),
           "GIGMARKET_REDIS_CLUSTER": "1" if args.cluster else ""}
    os.environ.update({k: env[k] for k in ("GIGMARKET_DATA", "GIGMARKET_CONFIG",
                                           "GIGMARKET_SECRET_KEY", "GIGMARKET_REDIS_CLUSTER")})
    settings = settings_module.load(dev=True)
    ledger = await Ledger.open(settings.ledger_path)
    live = LiveStore.from_url(url, cluster=args.cluster)
    ctx = Context(settings=settings, ledger=ledger, live=live)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        t0 = time.perf_counter()
        bosses = await seed(ctx, markets, args.workers)
        line("hosts.seeded", markets=len(markets), workers=len(markets) * args.workers,
             seconds=round(time.perf_counter() - t0, 1))
        floors = await measure_floors(ledger, live)
        for i in range(args.dispatchers):
            log = (root / f"dispatch{i}.log").open("wb")
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "gigmarket.cli", "dispatch"], env=env, cwd=ROOT,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        share = -(-len(markets) // args.dispatchers)
        deadline = time.monotonic() + 120
        while True:  # every market held, and none over its share
            held = {m: await live.lease_holder(m) for m in markets}
            counts: dict[str, int] = {}
            for h in held.values():
                if h is not None:
                    counts[h[0]] = counts.get(h[0], 0) + 1
            if all(held.values()) and max(counts.values()) <= share:
                break
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        started = time.time()
        rng = random.Random(11)
        posts = 0
        end = time.monotonic() + args.seconds
        while time.monotonic() < end:
            market_id = rng.choice(markets)
            station = ctx.market(market_id).stations[0]
            await jobs.post_job(ctx, bosses[market_id], market_id,
                                job_body(rng, station.lat, station.lon), None)
            posts += 1
            await asyncio.sleep(1 / args.posts_per_s)
        await asyncio.sleep(3)  # the last kicks' rounds
        held = {m: await live.lease_holder(m) for m in markets}
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        await live.aclose()
        await ledger.aclose()
        if redis is not None:
            redis.stop()
        if cluster is not None:
            cluster.stop()

    db = sqlite3.connect(settings.ledger_path)
    rows = db.execute("SELECT market_id, total_ms, solve_ms, offers FROM rounds WHERE at >= ?",
                      (started,)).fetchall()
    db.close()
    by_market: dict[str, list[tuple[float, float, int]]] = {}
    for market_id, total, solve, offers in rows:
        by_market.setdefault(market_id, []).append((total, solve, offers))
    for market_id in markets:
        rounds = by_market.get(market_id, [])
        h = held.get(market_id)
        line("hosts.round_ms", market=market_id, rounds=len(rounds),
             p50=pct([r[0] for r in rounds], 0.5), p95=pct([r[0] for r in rounds], 0.95),
             floor_solve_ms_p50=pct([r[1] for r in rounds], 0.5),
             offers=sum(r[2] for r in rounds), holder=h[0] if h else None,
             token=h[1] if h else None)
    totals = [float(r[1]) for r in rows]
    line("hosts.round_ms_all", unit="ms", rounds=len(rows), posts=posts,
         seconds=args.seconds, p50=pct(totals, 0.5), p95=pct(totals, 0.95),
         p99=pct(totals, 0.99), max=round(max(totals), 1) if totals else 0.0,
         floor_solve_ms_p50=pct([float(r[2]) for r in rows], 0.5), **floors,
         mean=round(statistics.fmean(totals), 1) if totals else 0.0)
    counts = {}
    for h in held.values():
        if h is not None:
            counts[h[0]] = counts.get(h[0], 0) + 1
    line("hosts.lease_balance", markets=len(markets), dispatchers=args.dispatchers,
         ceil_m_over_n=-(-len(markets) // args.dispatchers), held=counts,
         unheld=sum(1 for h in held.values() if h is None))
    line("hosts.load_average", load_1m=round(os.getloadavg()[0], 2), cpus=os.cpu_count())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--markets", type=int, default=60)
    parser.add_argument("--dispatchers", type=int, default=2)
    parser.add_argument("--workers", type=int, default=20, help="waiting workers per market")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--posts-per-s", type=float, default=4)
    parser.add_argument("--cluster", action="store_true",
                        help="a throwaway 3-node Redis Cluster instead of one Redis")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gm-hosts-") as tmp:
        asyncio.run(run(args, Path(tmp)))


if __name__ == "__main__":
    main()
