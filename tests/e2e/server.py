"""A real gigmarket server in a subprocess (uvicorn, embedded Redis, SQLite), for end-to-end
tests. Modelled on uvicorn's own ``tests/utils.py::run_server``, but out of process so a test
can ``kill -9`` it.

With ``GIGMARKET_TEST_LEDGER=postgresql`` (``tests/pg.py``) its ledger is instead a database of
its own on the session's throwaway PostgreSQL, shared by every process on the same data dir.

With ``GIGMARKET_TEST_HOSTS=2`` a server made by the ``make_server`` fixture is a small province
on several hosts (issue 11): ``serve`` (a web process and a dispatcher), a second web process
that holds every test's websockets (so each message crosses the per-market fan-out), and a
second ``gigmarket dispatch`` that shares the markets. They start, stop and die together."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests import pg

REPO = Path(__file__).resolve().parents[2]
#: Servers of several hosts: see the module's docstring.
HOSTS = os.environ.get("GIGMARKET_TEST_HOSTS") == "2"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    def __init__(self, data_dir: Path, *, port: int | None = None, dev: bool = True,
                 env: dict[str, str] | None = None, args: tuple[str, ...] = (),
                 hosts: bool = False) -> None:
        self.data_dir = data_dir
        self.hosts = hosts
        #: With ``hosts``: the second web process and the second dispatcher, while running.
        self.sibling: ServerProcess | None = None
        #: The sibling's port, kept across restarts: a test that saved ``ws_url`` before a
        #: kill -9 reconnects to the same address, as clients of a restarted host would.
        self._sibling_port: int | None = None
        self.dispatcher: subprocess.Popen[bytes] | None = None
        self.port = port or free_port()
        self.dev = dev
        self.args = args
        # Never the machine's own Redis: the embedded one, unless a test names one.
        inherited = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        self.env = {**inherited, "GIGMARKET_DATA": str(data_dir), **(env or {})}
        if pg.wanted() and "GIGMARKET_LEDGER" not in (env or {}):
            self.env["GIGMARKET_LEDGER"] = pg.ledger_url_for(data_dir)
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / "server.log"

    @property
    def postgres_url(self) -> str | None:
        url = self.env.get("GIGMARKET_LEDGER", "")
        return url if url.startswith(("postgresql://", "postgres://")) else None

    def ledger(self, timeout: float = 5) -> sqlite3.Connection | pg.SyncLedger:
        """The server's ledger, opened beside it, to check what the API said against the record
        (SQLite's dialect on either backend)."""
        if self.postgres_url:
            return pg.SyncLedger(self.postgres_url)
        return sqlite3.connect(self.data_dir / "ledger.sqlite3", timeout=timeout)

    def has_ledger(self) -> bool:
        return self.postgres_url is not None or (self.data_dir / "ledger.sqlite3").exists()

    def ledger_at_rest(self) -> bytes:
        """Every byte the ledger keeps: the SQLite file and its WAL, or a PostgreSQL dump."""
        if self.postgres_url:
            return pg.shared().dump(self.postgres_url)
        raw = (self.data_dir / "ledger.sqlite3").read_bytes()
        wal = self.data_dir / "ledger.sqlite3-wal"
        return raw + (wal.read_bytes() if wal.exists() else b"")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api(self) -> str:
        return f"{self.base_url}/api/v1"

    @property
    def ws_url(self) -> str:
        # Sockets on the second web process, requests on the first: every message a request
        # causes reaches its socket through Redis, as it would across hosts.
        if self.sibling is not None:
            return self.sibling.ws_url
        return self.own_ws_url

    @property
    def own_ws_url(self) -> str:
        """This process's own socket address, whichever holds the tests' sockets."""
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def log_paths(self) -> list[Path]:
        """Every log of this server's processes (its siblings' too, with ``hosts``)."""
        paths = [self.log_path]
        if self.hosts:
            paths += [self.data_dir / "web-2.log", self.data_dir / "dispatch-2.log"]
        return [p for p in paths if p.exists()]

    def shared_env(self) -> dict[str, str]:
        """What a second process of this server needs: its Redis (the embedded one's socket,
        or the throwaway cluster) and its config; the ledger follows the data dir."""
        sock = self.data_dir / "redis" / "redis.sock"
        # On the throwaway cluster (GIGMARKET_TEST_REDIS=cluster) both name the cluster.
        shared = {k: self.env[k] for k in ("REDIS_URL", "GIGMARKET_REDIS_CLUSTER")
                  if self.env.get(k)}
        return {"REDIS_URL": f"unix://{sock}", **shared,
                "GIGMARKET_CONFIG": self.env["GIGMARKET_CONFIG"]}

    def web_beside(self, log_name: str = "server-b.log", port: int | None = None,
                   ) -> ServerProcess:
        """A second, web-only process (started) on this one's data dir and embedded Redis, as a
        second web host of one market would run; the caller stops it."""
        other = ServerProcess(self.data_dir, env=self.shared_env(), args=("--no-dispatch",),
                              port=port)
        other.log_path = self.data_dir / log_name
        other.start()
        return other

    def _start_hosts(self, timeout_s: float) -> None:
        """The second web process and the second dispatcher; back once the two dispatchers
        hold the markets between them (ceil(M/N) each), so no test starts mid-hand-over."""
        env = {**self.env, **self.shared_env()}
        # Both start at once (each spends a second or two importing); the sibling's start()
        # waits for it to be ready while the dispatcher comes up beside it.
        with (self.data_dir / "dispatch-2.log").open("ab") as log:
            self.dispatcher = subprocess.Popen(
                [sys.executable, "-m", "gigmarket.cli", "dispatch"], env=env, stdout=log,
                stderr=subprocess.STDOUT, cwd=REPO, start_new_session=True)
        try:
            self.sibling = self.web_beside("web-2.log", port=self._sibling_port)
            self._sibling_port = self.sibling.port
        except BaseException:
            self.kill()  # the dispatcher too: nothing left running behind a failed start
            raise
        deadline = time.monotonic() + timeout_s
        holders: set[str] = set()
        while time.monotonic() < deadline:
            if self.dispatcher.poll() is not None:
                raise RuntimeError("the second dispatcher exited early:\n"
                                   + (self.data_dir / "dispatch-2.log").read_text()[-4000:])
            try:
                r = httpx.get(f"{self.base_url}/readyz", timeout=2)
                held = r.json()["checks"]["dispatch"].values()
                holders = {str(h["holder"]) for h in held if h}
                if r.status_code == 200 and len(holders) == 2:
                    return
            except (httpx.HTTPError, ValueError, KeyError, TypeError):
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"the two dispatchers did not share the markets in {timeout_s}s"
                           f" (holders: {sorted(holders)})")

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "gigmarket.cli", *args], env=self.env,
                              capture_output=True, text=True, check=True, cwd=REPO)

    def start(self, timeout_s: float = 60) -> ServerProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "gigmarket.cli", "serve", "--host", "127.0.0.1",
               "--port", str(self.port)]
        if self.dev:
            cmd.append("--dev")
        cmd += self.args
        with self.log_path.open("ab") as log:
            # The child holds its own copy of the descriptor; ours can close at once.
            self.proc = subprocess.Popen(cmd, env=self.env, stdout=log,
                                         stderr=subprocess.STDOUT, cwd=REPO,
                                         start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_tail()}")
            try:
                r = httpx.get(f"{self.base_url}/readyz", timeout=1)
                body = r.json()
                if r.status_code == 200 and all(body["checks"]["dispatch"].values()):
                    if self.hosts:
                        self._start_hosts(timeout_s)
                    return self
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            time.sleep(0.1)
        self.kill()  # not left running behind a failed start
        raise RuntimeError(f"server not ready in {timeout_s}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.sibling is not None:
            self.sibling.stop()
            self.sibling = None
        if self.dispatcher is not None:
            if self.dispatcher.poll() is None:
                self.dispatcher.send_signal(signal.SIGTERM)
                try:
                    self.dispatcher.wait(20)
                except subprocess.TimeoutExpired:
                    self.dispatcher.kill()
                    self.dispatcher.wait(10)
            self.dispatcher = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None

    def kill(self) -> None:
        """``kill -9`` the server (its children die with it: PDEATHSIG), and with ``hosts`` its
        siblings too: the whole deployment is lost at once."""
        if self.sibling is not None:
            self.sibling.kill()
            self.sibling = None
        if self.dispatcher is not None:
            self.dispatcher.kill()
            self.dispatcher.wait(10)
            self.dispatcher = None
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None
