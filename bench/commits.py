"""Durable posts per second through the ledger, against bare commits, as JSON lines.

A "post" is what a small change commits: an event row and a websocket message with its seq, in
one transaction, acknowledged only after COMMIT has returned (SPEC 4: durable before
acknowledged; SQLite runs ``synchronous=FULL``). ``--clients`` tasks post concurrently.

- ``commits.sqlite_posts_per_s``: through :class:`SqliteLedger`, at 1, 8 and 32 clients;
- ``commits.bare_sqlite_commits_per_s`` (the floor, measured in the same run on the same disk):
  plain ``sqlite3``, one thread, one INSERT and COMMIT each, same pragmas;
- ``commits.postgres_posts_per_s`` with ``--postgres``: the same posts through
  :class:`PostgresLedger` on a throwaway cluster with ``fsync`` and ``synchronous_commit`` on
  (PostgreSQL shares one WAL flush among concurrent commits: group commit).

Each line carries the 1-minute load average: this machine is shared, and a figure means little
without it.

    python bench/commits.py [--posts 400] [--clients 1,8,32] [--postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gigmarket.store.ledger import Ledger  # noqa: E402


def emit(name: str, value: float, unit: str, **params: object) -> None:
    print(json.dumps({"name": name, "value": round(value, 1), "unit": unit,
                      "load_average_1m": round(os.getloadavg()[0], 2),
                      "cpus": os.cpu_count(), "params": params}), flush=True)


def bare_commits_per_s(path: Path, count: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    start = time.perf_counter()
    for i in range(count):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (body) VALUES (?)", (f"post {i}",))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return count / elapsed


async def posts_per_s(ledger: Ledger, clients: int, posts: int, tag: str) -> float:
    each = max(1, posts // clients)

    async def client(c: int) -> None:
        for i in range(each):
            async with ledger.transaction() as tx:
                await tx.event("bench.posted", market_id="shiling", actor=f"e{c}",
                               subject=f"{tag}-{c}-{i}", payload={"i": i})
                await tx.message(f"employer:{tag}-{c}", {"type": "posted", "i": i})

    start = time.perf_counter()
    await asyncio.gather(*(client(c) for c in range(clients)))
    return each * clients / (time.perf_counter() - start)


async def main(posts: int, clients: list[int], postgres: bool) -> None:
    with tempfile.TemporaryDirectory(dir=ROOT) as tmp:  # on the project's disk, not tmpfs
        floor = bare_commits_per_s(Path(tmp) / "bare.sqlite3", posts)
        emit("commits.bare_sqlite_commits_per_s", floor, "commits/s", commits=posts)
        ledger = await Ledger.open(Path(tmp) / "ledger.sqlite3")
        try:
            for n in clients:
                rate = await posts_per_s(ledger, n, posts, f"s{n}")
                emit("commits.sqlite_posts_per_s", rate, "posts/s", clients=n, posts=posts,
                     floor_bare_commits_per_s=round(floor, 1))
        finally:
            await ledger.aclose()
    if postgres:
        from tests.pg import ThrowawayPostgres

        with ThrowawayPostgres(durable=True) as cluster:
            ledger = await Ledger.open(cluster.fresh_database("bench"))
            try:
                for n in clients:
                    rate = await posts_per_s(ledger, n, posts, f"p{n}")
                    emit("commits.postgres_posts_per_s", rate, "posts/s", clients=n,
                         posts=posts, floor_bare_commits_per_s=round(floor, 1))
            finally:
                await ledger.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=400)
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.posts, [int(c) for c in args.clients.split(",")], args.postgres))
