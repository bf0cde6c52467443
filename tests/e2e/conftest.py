"""End-to-end fixtures: a real server per test on a free port, with a config that has a second
market so that cross-market refusals can be tested."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.redis_cluster import ThrowawayCluster
from tests.e2e.server import HOSTS, REPO, ServerProcess


def write_config(dest: Path, rules: dict[str, Any]) -> Path:
    """The shipped config, with ``rules`` overridden for shiling and a second market."""
    shutil.copytree(REPO / "config", dest)
    path = dest / "markets" / "shiling.toml"
    text = path.read_text()
    for key, value in rules.items():
        literal = str(value).lower() if isinstance(value, bool) else repr(value)
        text, n = re.subn(rf"(?m)^{key}\s*=.*$", f"{key} = {literal}", text)
        if n == 0:
            text = text.replace("[rules]\n", f"[rules]\n{key} = {literal}\n", 1)
    path.write_text(text)
    table = tomllib.loads(text)
    # Same ground, another id: enough for "a manager of another market gets 403".
    other = text.replace(f'id = "{table["id"]}"', 'id = "huashan"', 1)
    other = other.replace(f'name = "{table["name"]}"', 'name = "花山镇零工市场"', 1)
    (dest / "markets" / "huashan.toml").write_text(other)
    return dest


#: ``GIGMARKET_TEST_REDIS=cluster``: the servers use a throwaway 3-node Redis Cluster (issue 11)
#: instead of their embedded Redis.
ON_CLUSTER = os.environ.get("GIGMARKET_TEST_REDIS") == "cluster"
#: Tests that stop, flush or cut the embedded Redis itself: nothing to do that to on a cluster.
EMBEDDED_ONLY = (
    "test_faults.py::test_a_killed_embedded_redis",
    "test_faults.py::test_writes_while_redis_is_down",
    "test_faults.py::test_flushall_is_detected",
    "test_faults.py::test_dropped_subscriptions",
    # Starts its second web process on the embedded Redis's socket by name.
    "test_faults.py::test_a_killed_web_process_loses_no_acknowledged_write",
    "test_idempotency_and_rebuild.py::test_the_live_pools_are_rebuilt",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not ON_CLUSTER:
        return
    skip = pytest.mark.skip(reason="acts on the embedded Redis; the servers use the cluster")
    for item in items:
        if any(name in item.nodeid for name in EMBEDDED_ONLY):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def shared_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThrowawayCluster | None]:
    if not ON_CLUSTER:
        yield None
        return
    with ThrowawayCluster(tmp_path_factory.mktemp("cluster")) as cluster:
        yield cluster


@pytest.fixture
def make_server(tmp_path: Path, shared_redis: ThrowawayCluster | None,
                ) -> Iterator[Callable[..., ServerProcess]]:
    started: list[ServerProcess] = []

    def make(**rules: Any) -> ServerProcess:
        config = write_config(tmp_path / f"config{len(started)}", rules)
        env = {"GIGMARKET_CONFIG": str(config)}
        if shared_redis is not None and not started:
            shared_redis.flush()  # each test starts on an empty cluster, like a fresh embedded one
        if shared_redis is not None:
            env |= {"REDIS_URL": shared_redis.url, "GIGMARKET_REDIS_CLUSTER": "1"}
        srv = ServerProcess(tmp_path / "data", env=env, hosts=HOSTS)
        srv.start()
        srv.cli("manager", "add", "--username", "boss", "--market", "shiling",
                "--password", "correct-horse")
        srv.cli("manager", "add", "--username", "other", "--market", "huashan",
                "--password", "correct-horse")
        started.append(srv)
        return srv

    try:
        yield make
    finally:
        for srv in started:
            srv.stop()
    # A server that logged a traceback failed somewhere, even if the test's checks passed.
    for srv in started:
        for path in srv.log_paths:
            log = path.read_text(errors="replace")
            assert "Traceback" not in log, f"{path.name} logged an error:\n{log[-6000:]}"
    for srv in started:
        assert_manager_actions_audited(srv)


#: Events a manager's action causes after it, in their own transactions (a suspension
#: withdraws the employer's jobs and offers): the action before them carries the audit row.
CONSEQUENCES = ("offer.withdrawn", "job.cancelled")


def assert_manager_actions_audited(srv: ServerProcess) -> None:
    """Every event a manager caused in a market has its audit row: same manager, same market,
    same transaction (so the same time), whichever test produced it (issue 9)."""
    if not srv.has_ledger():
        return
    with contextlib.closing(srv.ledger()) as db:
        acted = db.execute(
            "SELECT e.type, e.market_id, e.actor, e.at FROM events e"
            " JOIN managers m ON m.id = e.actor WHERE e.market_id IS NOT NULL").fetchall()
        audited = set(db.execute("SELECT manager_id, market_id, at FROM audit_log").fetchall())

    def audited_before(actor: str, market: str, at: float) -> bool:
        return any(a == actor and m == market and t <= at for a, m, t in audited)

    missing = [(type_, market, actor) for type_, market, actor, at in acted
               if (actor, market, at) not in audited
               and not (type_ in CONSEQUENCES and audited_before(actor, market, at))]
    assert not missing, f"manager actions without an audit row: {missing}"


@pytest.fixture
def server(make_server: Callable[..., ServerProcess]) -> ServerProcess:
    return make_server()
