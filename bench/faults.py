"""Fault figures (issue 8), as JSON lines: a real ``gigmarket serve`` (embedded Redis, SQLite
ledger, dispatcher and solver processes) under steady traffic from real websocket clients, hit
by one fault after another: the dispatcher, the solver or the embedded Redis killed with
SIGKILL, FLUSHALL, and every pub/sub connection dropped (CLIENT KILL TYPE pubsub), each at a
seeded random moment.

Per fault kind:

- ``faults.<kind>.first_offer_s``: from the fault to the first offer created after it, as the
  ledger records it (target <= 10 s), median and max;
- ``faults.<kind>.readyz_503_s``: from the fault to the first ``/readyz`` 503 (target <= 5 s;
  only the faults that stop dispatch: the dispatcher and Redis), polled every 50 ms;
- ``faults.<kind>.readyz_200_s``: from the dispatcher being back (its first new offer) to
  ``/readyz`` 200 again (target <= 5 s; 0 when /readyz was 200 first);

and over the whole run ``faults.acknowledged_writes_lost`` and ``faults.invariant_violations``
(target 0 over >= 100 rounds), checked against the ledger, and the machine's load average.

    python bench/faults.py [--rounds 10] [--seed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.conftest import write_config
from tests.e2e.faults import (
    KINDS,
    Market,
    Readiness,
    inject,
    offers_since,
    solver_pid,
    violations,
    wait_until,
)
from tests.e2e.server import ServerProcess

#: Faults after which no market has a dispatcher for a while: /readyz must say so.
STOPS_DISPATCH = ("dispatcher", "redis")


def line(name: str, value: float, unit: str, **params: Any) -> None:
    print(json.dumps({"name": name, "value": round(value, 3), "unit": unit, "params": params},
                     ensure_ascii=False), flush=True)


def first_offer_after(server: ServerProcess, wall: float) -> float | None:
    import sqlite3

    db = sqlite3.connect(server.data_dir / "ledger.sqlite3", timeout=30)
    try:
        row = db.execute("SELECT MIN(created_at) FROM offers WHERE created_at > ?",
                         (wall,)).fetchone()
    finally:
        db.close()
    return None if row[0] is None else float(row[0])


def waiting_workers(server: ServerProcess) -> int:
    """Workers in the pool (waiting or holding an offer), from the ledger."""
    import sqlite3

    db = sqlite3.connect(server.data_dir / "ledger.sqlite3", timeout=30)
    try:
        row = db.execute("SELECT COUNT(*) FROM workers WHERE state IN ('available', 'offered')"
                         ).fetchone()
    finally:
        db.close()
    return int(row[0])


async def run(rounds: int, seed: int, workdir: Path) -> int:
    config = write_config(workdir / "config", {"offer_timeout_s": 5, "batch_interval_s": 1})
    server = ServerProcess(workdir / "data", env={"GIGMARKET_CONFIG": str(config)})
    server.start()
    rng = random.Random(seed)
    figures: dict[str, dict[str, list[float]]] = {k: {"first_offer_s": [], "readyz_503_s": [],
                                                      "readyz_200_s": []} for k in KINDS}
    try:
        server.cli("manager", "add", "--username", "boss", "--market", "shiling",
                   "--password", "correct-horse")
        market = await Market(server, seed=seed, post_every_s=1.0,
                              accept_p=0.05).open(n_workers=8)
        ready = Readiness(server.base_url).start()
        market.start()
        await wait_until(lambda: offers_since(server, 0) >= 1, "offers before the first fault")
        for n in range(rounds):
            kind = KINDS[n % len(KINDS)]
            for _ in range(2):  # accepted workers leave the pool; keep it stocked
                await market.add_worker()
            # Settled after the last fault: every process up again and /readyz 200.
            await wait_until(lambda: solver_pid(server) is not None
                             and ready.changes[-1][1] == 200, "settled", 120)
            await asyncio.sleep(rng.uniform(0.5, 2.5))  # the random moment
            # Someone to offer to: no job here ever ends, so every worker who accepts leaves
            # the pool for good, and a pool emptied before the fault would read as a stall.
            while waiting_workers(server) < 2:
                await market.add_worker()
            wall, t_fault = inject(server, kind)
            await wait_until(lambda w=wall: first_offer_after(server, w) is not None,
                             f"an offer after {kind}", 120)
            offered = first_offer_after(server, wall)
            assert offered is not None
            back = t_fault + (offered - wall)  # the offer's time on the monotonic clock
            figures[kind]["first_offer_s"].append(offered - wall)
            await wait_until(lambda: ready.changes[-1][1] == 200, "/readyz 200 again", 120)
            if kind in STOPS_DISPATCH:
                down = ready.not_ready_after(t_fault)
                figures[kind]["readyz_503_s"].append(
                    (down - t_fault) if down is not None else float("nan"))
                up = ready.changes[-1][0]  # the last turn to 200
                figures[kind]["readyz_200_s"].append(max(0.0, up - back))
            print(json.dumps({"round": n, "kind": kind, "first_offer_s":
                              round(offered - wall, 3)}), file=sys.stderr, flush=True)
        await market.close()
        await ready.stop()
        found = violations(server, market)
        lost = [v for v in found if v.startswith("acknowledged")]
        for kind, series in figures.items():
            for name, values in series.items():
                values = [v for v in values if v == v]  # NaN: no 503 seen
                if values:
                    line(f"faults.{kind}.{name}", statistics.median(values), "s",
                         stat="median", n=len(values))
                    line(f"faults.{kind}.{name}", max(values), "s", stat="max", n=len(values))
            missed = sum(1 for v in series["readyz_503_s"] if v != v)
            if kind in STOPS_DISPATCH:
                line(f"faults.{kind}.readyz_503_missed", missed, "rounds")
        line("faults.acknowledged_writes_lost", len(lost), "writes", rounds=rounds,
             posts=len(market.posted), accepts=len(market.accepted))
        line("faults.invariant_violations", len(found) - len(lost), "violations", rounds=rounds)
        line("faults.load_average_1m", os.getloadavg()[0], "load", cpus=os.cpu_count())
        for v in found:
            print(v, file=sys.stderr)
        return 1 if found else 0
    except BaseException:
        print("\n".join(x for x in server.log_tail(2000).splitlines()
                        if "uvicorn.access" not in x)[-6000:], file=sys.stderr)
        raise
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10, help="faults in all (default 10)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="work in this (new) directory and keep it")
    args = parser.parse_args()
    if args.keep is not None:
        args.keep.mkdir(parents=True)
        return asyncio.run(run(args.rounds, args.seed, args.keep))
    with tempfile.TemporaryDirectory(prefix="gm-faults-") as tmp:
        return asyncio.run(run(args.rounds, args.seed, Path(tmp)))


if __name__ == "__main__":
    raise SystemExit(main())
