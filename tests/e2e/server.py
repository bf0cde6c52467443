"""A real gigmarket server in a subprocess (uvicorn, embedded Redis, SQLite), for end-to-end
tests. Modelled on uvicorn's own ``tests/utils.py::run_server``, but out of process so a test
can ``kill -9`` it."""

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

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    def __init__(self, data_dir: Path, *, port: int | None = None, dev: bool = True,
                 env: dict[str, str] | None = None, args: tuple[str, ...] = ()) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.dev = dev
        self.args = args
        # Never the machine's own Redis: the embedded one, unless a test names one.
        inherited = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        self.env = {**inherited, "GIGMARKET_DATA": str(data_dir), **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / "server.log"

    def ledger(self) -> sqlite3.Connection:
        """The server's ledger, opened beside it, to check what the API said against the record."""
        return sqlite3.connect(self.data_dir / "ledger.sqlite3")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api(self) -> str:
        return f"{self.base_url}/api/v1"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

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
                    return self
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server not ready in {timeout_s}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None

    def kill(self) -> None:
        """``kill -9`` the server (its children die with it: PDEATHSIG)."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None
