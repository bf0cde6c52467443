"""Dispatchers share the markets (issue 11, SPEC 11.6), as real processes on the throwaway
Redis Cluster: two ``gigmarket dispatch`` split six markets three and three; after ``kill -9``
of one the other takes all six within 15 s; a third one joining takes its share. ``/readyz``
shows holder and token per market, and no market's token ever repeats."""

from __future__ import annotations

import secrets
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.cluster.markets import held_by, holders, start_dispatcher, write_markets
from tests.cluster.redis_cluster import ThrowawayCluster
from tests.e2e.server import ServerProcess

#: SPEC 11.6: a dead dispatcher's markets are taken over within this.
TAKEOVER_S = 15.0


def wait_until(check: Callable[[], Any], timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s} s: {what}")
        time.sleep(0.2)


def test_dispatchers_split_the_markets_and_take_over(
        redis_cluster: ThrowawayCluster, tmp_path: Path) -> None:
    redis_cluster.flush()
    config = tmp_path / "config"
    markets = write_markets(config, 6)
    env = {"REDIS_URL": redis_cluster.url, "GIGMARKET_REDIS_CLUSTER": "1",
           "GIGMARKET_CONFIG": str(config), "GIGMARKET_SECRET_KEY": secrets.token_hex(32)}
    web = ServerProcess(tmp_path / "data", env=env, args=("--no-dispatch",))
    (tmp_path / "data").mkdir()
    procs: list[subprocess.Popen[bytes]] = []
    tokens: dict[str, list[int]] = {m: [] for m in markets}

    def view() -> dict[str, dict[str, Any] | None]:
        seen = holders(web.base_url)
        for market_id, lease in seen.items():
            if lease is not None and (not tokens[market_id]
                                      or tokens[market_id][-1] != lease["token"]):
                tokens[market_id].append(int(lease["token"]))
        return seen

    def split_as(sizes: list[int]) -> Callable[[], dict[int, list[str]] | None]:
        def check() -> dict[int, list[str]] | None:
            seen = view()
            by = held_by(seen)
            if all(seen.values()) and sorted(len(v) for v in by.values()) == sizes:
                return by
            return None
        return check

    try:
        first = start_dispatcher(web.env, tmp_path / "d1.log")
        second = start_dispatcher(web.env, tmp_path / "d2.log")
        procs += [first, second]
        web.start()  # ready once every market has a holder
        by = wait_until(split_as([3, 3]), 30, "two dispatchers hold three markets each")
        assert set(by) == {first.pid, second.pid}
        orphaned = by[first.pid]

        first.send_signal(signal.SIGKILL)
        first.wait(10)
        by = wait_until(split_as([6]), TAKEOVER_S, "the survivor holds all six")
        assert set(by) == {second.pid}

        third = start_dispatcher(web.env, tmp_path / "d3.log")
        procs.append(third)
        by = wait_until(split_as([3, 3]), 30, "the newcomer takes its share")
        assert set(by) == {second.pid, third.pid}
    finally:
        web.stop()
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

    # Each take-over numbered anew by the ledger: no market's token ever came back.
    for market_id, seen in tokens.items():
        assert seen == sorted(set(seen)), (market_id, seen)
    for market_id in orphaned:
        assert len(tokens[market_id]) >= 2, (market_id, tokens[market_id])  # changed hands
    for log in ("d2.log", "d3.log"):
        assert "Traceback" not in (tmp_path / log).read_text(), log
