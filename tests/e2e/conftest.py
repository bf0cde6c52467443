"""End-to-end fixtures: a real server per test on a free port, with a config that has a second
market so that cross-market refusals can be tested."""

from __future__ import annotations

import re
import shutil
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.server import REPO, ServerProcess


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


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    started: list[ServerProcess] = []

    def make(**rules: Any) -> ServerProcess:
        config = write_config(tmp_path / f"config{len(started)}", rules)
        srv = ServerProcess(tmp_path / "data", env={"GIGMARKET_CONFIG": str(config)})
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
        log = srv.log_tail(100_000)
        assert "Traceback" not in log, f"the server logged an error:\n{log[-6000:]}"


@pytest.fixture
def server(make_server: Callable[..., ServerProcess]) -> ServerProcess:
    return make_server()
