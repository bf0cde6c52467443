"""The daily report and the ledger export over a month of a busy market.

    python bench/reports.py [--days 30] [--fills 1500] [--noise 20000]

Writes a synthetic month into a fresh SQLite ledger (per day: a check-in per worker, jobs,
``--fills`` placements and pay confirmations, and ``--noise`` offer events the report skips),
then prints JSON lines: how long the month's daily report takes and the Python memory it
peaks at, and the same for streaming the month's ledger CSV (bytes counted, not kept), e.g.::

    {"name": "report.daily_month", "value": 2.1, "unit": "s", "params": {...}}
    {"name": "report.daily_month_peak", "value": 12.5, "unit": "MiB", "params": {...}}

The export's peak should stay flat as ``--days`` grows (it streams a page at a time); the
report's peak grows with the distinct workers, jobs and disputes of the range only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gigmarket.core.reports import day_bounds
from gigmarket.services import ledger_export
from gigmarket.services import reports as report_service
from gigmarket.store.ledger import Ledger

TZ = ZoneInfo("Asia/Shanghai")


def month(days: int, fills: int, noise: int, seed: int) -> list[tuple[Any, ...]]:
    rng = random.Random(seed)
    rows: list[tuple[Any, ...]] = []
    first = date(2026, 10, 1)
    n = 0

    def ev(at: float, type_: str, actor: str, subject: str, payload: dict[str, Any]) -> None:
        nonlocal n
        n += 1
        rows.append((f"ev_{n}", at, "shiling", type_, actor, subject, json.dumps(payload)))

    for d in range(days):
        lo, _ = day_bounds([first + timedelta(days=d)], TZ)
        workers = [f"w{rng.randrange(fills * 3)}" for _ in range(fills * 2)]
        for w in workers:
            ev(lo + 6 * 3600 + rng.random() * 3600, "worker.checked_in", w, w, {})
        jobs = [f"j{d}_{k}" for k in range(fills // 5)]
        for j in jobs:
            ev(lo + 7 * 3600 + rng.random() * 3600, "job.posted", "e1", j,
               {"state": "open", "headcount": 5})
        for k in range(fills):
            at = lo + 8 * 3600 + rng.random() * 8 * 3600
            ev(at, "offer.accepted", workers[k], f"o{d}_{k}", {"job_id": jobs[k // 5]})
            ev(at + 9 * 3600, "assignment.paid", workers[k], f"a{d}_{k}",
               {"job_id": jobs[k // 5], "pay_fen": 20000})
        for k in range(noise):
            ev(lo + 8 * 3600 + rng.random() * 8 * 3600, "offer.created", "dispatcher",
               f"x{d}_{k}", {"job_id": jobs[k % len(jobs)], "worker_id": workers[k % len(workers)]})
    rows.sort(key=lambda r: r[1])
    return rows


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ledger = await Ledger.open(Path(tmp) / "ledger.sqlite3")
        try:
            rows = month(args.days, args.fills, args.noise, args.seed)
            async with ledger.transaction() as tx:
                await tx.executemany(
                    "INSERT INTO events (id, at, market_id, type, actor, subject, payload)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            del rows
            params = {"days": args.days, "fills_per_day": args.fills,
                      "noise_per_day": args.noise}
            first, last = date(2026, 10, 1), date(2026, 10, 1) + timedelta(days=args.days - 1)
            tracemalloc.start()
            t0 = time.perf_counter()
            report = await report_service.daily(ledger, "shiling", TZ, t0, first.isoformat(),
                                                last.isoformat())
            seconds = time.perf_counter() - t0
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            assert sum(r.slots_filled for r in report) == args.days * args.fills
            emit("report.daily_month", round(seconds, 3), "s", params)
            emit("report.daily_month_peak", round(peak / 2**20, 1), "MiB", params)

            lo, _ = day_bounds([first], TZ)
            _, hi = day_bounds([last], TZ)
            tracemalloc.start()
            t0 = time.perf_counter()
            size = 0
            async for chunk in ledger_export.rows(ledger, TZ, "shiling", lo, hi):
                size += len(chunk.encode())
            seconds = time.perf_counter() - t0
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            emit("export.ledger_month", round(seconds, 3), "s", params | {"bytes": size})
            emit("export.ledger_month_peak", round(peak / 2**20, 1), "MiB",
                 params | {"bytes": size})
        finally:
            await ledger.aclose()


def emit(name: str, value: float, unit: str, params: dict[str, Any]) -> None:
    print(json.dumps({"name": name, "value": value, "unit": unit, "params": params}))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--fills", type=int, default=1500)
    p.add_argument("--noise", type=int, default=20000)
    p.add_argument("--seed", type=int, default=1)
    asyncio.run(run(p.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
