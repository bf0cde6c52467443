"""A throwaway PostgreSQL for the tests (issue 11): Debian's server binaries, a cluster in a temp
dir, reachable only on a private unix socket (``listen_addresses=''``, no TCP port), never the
machine's own PostgreSQL. It starts in about 3 s.

``initdb`` refuses to run as root, so when the tests run as root the cluster belongs to the
``postgres`` system user (``runuser``); otherwise to whoever runs the tests. Clients connect as
the database user ``postgres`` with trust authentication, which only the socket's directory
permissions guard: enough for a cluster that lives for one test session.

Durability settings are off (``fsync``, ``synchronous_commit``) unless ``durable``: nothing
in the tests crashes the server itself, and they measure no speed (``bench/commits.py`` does,
durably).

``GIGMARKET_TEST_LEDGER=postgresql`` makes every end-to-end server (``tests/e2e/server.py``)
use its own fresh database on the one shared cluster (:func:`ledger_url_for`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg

from gigmarket.store import dialect

#: The switch that puts the end-to-end servers on PostgreSQL.
SWITCH = "GIGMARKET_TEST_LEDGER"


def wanted() -> bool:
    """Whether this test session runs its servers on PostgreSQL."""
    return os.environ.get(SWITCH, "sqlite").strip().lower() in {"postgresql", "postgres", "pg"}


def bin_dir() -> Path | None:
    """Debian's newest installed server binaries, or ``None``."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit()
                   else 0)
    return found[-1].parent if found else None


class ThrowawayPostgres:
    def __init__(self, *, durable: bool = False) -> None:
        #: fsync and synchronous commits on (benchmarks of durable commits); off for tests.
        self.durable = durable
        binaries = bin_dir()
        if binaries is None:
            raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql"
                               " (Debian: apt-get install postgresql)")
        self.bin = binaries
        self.root = Path(tempfile.mkdtemp(prefix="gm-pg-"))
        self.socket_dir = self.root
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._as: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]
        self._databases: set[str] = set()
        self.running = False

    def _run(self, *cmd: str) -> None:
        subprocess.run([*self._as, *cmd], check=True, capture_output=True, cwd=self.root)

    def start(self) -> ThrowawayPostgres:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                  "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        return self.resume()

    def pause(self) -> None:
        """Stop the server and keep its data (a database host going down)."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        self.running = False

    def resume(self) -> ThrowawayPostgres:
        """Start the server on its data dir (first start, or back after :meth:`pause`)."""
        options = " ".join([
            "-c listen_addresses=''", f"-c unix_socket_directories={self.socket_dir}",
            "-c max_connections=400", "-c shared_buffers=64MB",
            *([] if self.durable else ["-c fsync=off", "-c synchronous_commit=off",
                                       "-c full_page_writes=off"]),
        ])
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w",
                  "-t", "60", "-o", options, "start")
        self.running = True
        return self

    def stop(self) -> None:
        if self.running:
            with contextlib.suppress(subprocess.CalledProcessError):
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w",
                          "stop")
            self.running = False
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> ThrowawayPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def url(self, database: str = "postgres") -> str:
        """A libpq URL for ``database`` on the private socket."""
        return f"postgresql://postgres@/{database}?host={self.socket_dir}"

    def create_database(self, name: str) -> str:
        """A new empty database (once per name); its URL."""
        if name not in self._databases:
            subprocess.run([str(self.bin / "createdb"), "-h", str(self.socket_dir),
                            "-U", "postgres", name], check=True, capture_output=True)
            self._databases.add(name)
        return self.url(name)

    def dump(self, url: str) -> bytes:
        """Everything the database at ``url`` holds, as ``pg_dump`` writes it (for checks that
        a secret is nowhere in the ledger at rest)."""
        name = url.split("/")[3].split("?")[0]
        return subprocess.run([str(self.bin / "pg_dump"), "-h", str(self.socket_dir),
                               "-U", "postgres", name], check=True, capture_output=True).stdout

    def fresh_database(self, hint: str) -> str:
        """A new database named after ``hint`` (made unique); its URL."""
        digest = hashlib.sha1(f"{hint}:{len(self._databases)}".encode()).hexdigest()[:16]
        return self.create_database(f"gm_{digest}")


_shared: ThrowawayPostgres | None = None


def shared() -> ThrowawayPostgres:
    """The session's one cluster, started on first use; :func:`stop_shared` ends it."""
    global _shared
    if _shared is None:
        _shared = ThrowawayPostgres().start()
    return _shared


def stop_shared() -> None:
    global _shared
    if _shared is not None:
        _shared.stop()
        _shared = None


def ledger_url_for(data_dir: Path) -> str:
    """The database of the server(s) on ``data_dir``: processes that share a data dir (a second
    web process, a restart after ``kill -9``) share the database, as they share the file."""
    name = "gm_" + hashlib.sha1(str(data_dir.resolve()).encode()).hexdigest()[:16]
    return shared().create_database(name)


@contextlib.contextmanager
def session_cluster() -> Iterator[ThrowawayPostgres]:
    try:
        yield shared()
    finally:
        stop_shared()


class Rows(list[tuple[Any, ...]]):
    """What :meth:`SyncLedger.execute` returns: rows as tuples, and sqlite3's cursor reads."""

    def fetchone(self) -> tuple[Any, ...] | None:
        return self[0] if self else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self)


class SyncLedger:
    """A PostgreSQL ledger seen as a ``sqlite3.Connection`` is by the end-to-end tests'
    checks (``execute(sql, params).fetchone()``, ``with db:``, ``commit()``, ``close()``), so
    each check is written once, in SQLite's dialect, and runs on both backends.

    Each statement opens its own connection, commits and closes it, on a thread of its own
    (the driver is async, and the callers are often inside a running loop already): nothing
    is left open whether or not a test closes what it opened."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def _fetch(self, sql: str, params: Sequence[Any]) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.url)
        try:
            rows: list[asyncpg.Record] = await conn.fetch(dialect.postgres(sql), *params)
            return rows
        finally:
            await conn.close()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        with ThreadPoolExecutor(1) as thread:
            rows = thread.submit(asyncio.run, self._fetch(sql, params)).result()
        return Rows(tuple(r) for r in rows)

    async def _fetch_many(self, sql: str, rows: list[Sequence[Any]]) -> None:
        conn = await asyncpg.connect(self.url)
        try:
            await conn.executemany(dialect.postgres(sql), rows)
        finally:
            await conn.close()

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with ThreadPoolExecutor(1) as thread:
            thread.submit(asyncio.run, self._fetch_many(sql, list(rows))).result()

    def commit(self) -> None:
        """Each statement has committed already."""

    def close(self) -> None:
        """Nothing stays open between statements."""

    def __enter__(self) -> SyncLedger:
        return self

    def __exit__(self, *exc: object) -> None:
        pass
