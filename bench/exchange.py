"""Figures of the provincial exchange, as JSON lines.

- ``exchange.change_cost_us``: what the feed triggers add to a job change that the feed shows
  (a hire: ``accepted`` + 1), per change, committed in batches as a round commits: the same
  updates timed on the same ledger with and without the triggers;
- ``exchange.pending_cost_us``: the same for a change the feed ignores (``pending``, which
  every round moves): the triggers' ``WHEN`` clause alone;
- ``exchange.page_ms``: one 500-item page of the jobs feed as a platform reads it (rows to
  JSON-ready items), over a ledger holding ``--changes`` changes, median of repeats.

    python bench/exchange.py [--jobs 2000] [--changes 50000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gigmarket.store import exchange  # noqa: E402
from gigmarket.store.ledger import Ledger  # noqa: E402

JOB = ("INSERT INTO jobs (id, employer_id, market_id, title, skills, headcount, wage_fen,"
       " wage_unit, start_at, duration_hours, lat, lon, address, state, created_at, updated_at)"
       " VALUES (?, 'e1', 'shiling', '搬货', '[\"loading\"]', 50, 30000, 'day', 100, 8, 23.4,"
       " 113.1, '狮岭镇阳光路1号仓库', 'open', 1, 1)")
TRIGGERS = ("exchange_job_inserted", "exchange_job_updated")


def emit(name: str, value: float, unit: str, **params: object) -> None:
    print(json.dumps({"name": name, "value": round(value, 2), "unit": unit, "params": params}))


async def timed_updates(ledger: Ledger, ids: list[str], sql: str) -> float:
    """Seconds to run ``sql`` once per job, in one transaction (one fsync, so the figure is
    the statements' cost, not the disk's)."""
    start = time.perf_counter()
    async with ledger.transaction() as tx:
        await tx.executemany(sql, [(j,) for j in ids])
    return time.perf_counter() - start


async def main(jobs: int, changes: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ledger = await Ledger.open(Path(tmp) / "ledger.sqlite3")
        try:
            async with ledger.transaction() as tx:
                await tx.execute("INSERT INTO employers (id, org_name, credit_code, created_at,"
                                 " updated_at) VALUES ('e1', '某厂', '91440114MA5D8K3P7N', 1, 1)")
                await tx.executemany(JOB, [(f"j{i}",) for i in range(jobs)])
            ids = [f"j{i}" for i in range(jobs)]
            hire = ("UPDATE jobs SET accepted = (accepted + 1) % 40,"
                    " updated_at = updated_at + 1 WHERE id = ?")
            offer = "UPDATE jobs SET pending = 1 - pending WHERE id = ?"
            saved = {r["name"]: r["sql"] for r in await ledger.all(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")}
            timings: dict[tuple[str, bool], list[float]] = {}
            # Alternated and repeated: the machine's other load moves both sides alike.
            for _ in range(5):
                for triggers in (True, False):
                    async with ledger.transaction() as tx:
                        for name in TRIGGERS:
                            await tx.execute(f"DROP TRIGGER IF EXISTS {name}")
                            if triggers:
                                await tx.execute(saved[name])
                    for kind, sql in (("hire", hire), ("pending", offer)):
                        timings.setdefault((kind, triggers), []).append(
                            await timed_updates(ledger, ids, sql) / jobs * 1e6)
            for kind in ("hire", "pending"):
                with_us = statistics.median(timings[(kind, True)])
                without_us = statistics.median(timings[(kind, False)])
                name = "exchange.change_cost_us" if kind == "hire" else "exchange.pending_cost_us"
                emit(name, with_us - without_us, "us", jobs=jobs, repeats=5,
                     with_us=round(with_us, 1), without_us=round(without_us, 1))

            async with ledger.transaction() as tx:
                for name in TRIGGERS:
                    await tx.execute(saved[name])
            rounds = max(1, changes // jobs)
            for _ in range(rounds):
                await timed_updates(ledger, ids, hire)
            total = await ledger.one("SELECT COUNT(*) FROM exchange_job_changes")
            assert total is not None
            times = []
            for k in range(9):
                after = (k * 997) % max(1, int(total[0]) - 500)
                start = time.perf_counter()
                rows = await exchange.job_changes(ledger, after, 500)
                _ = [dict(r) for r in rows]
                times.append((time.perf_counter() - start) * 1000)
            emit("exchange.page_ms", statistics.median(times), "ms", items=500,
                 changes=int(total[0]))
        finally:
            await ledger.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--changes", type=int, default=50000)
    args = parser.parse_args()
    asyncio.run(main(args.jobs, args.changes))
