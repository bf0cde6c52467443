"""A throwaway 3-node Redis Cluster of Debian's ``redis-server`` (7.0) on free ports in a temp
dir, for the cluster tests and for the end-to-end suite run with ``GIGMARKET_TEST_REDIS=cluster``.

Synchronous like :class:`~gigmarket.store.embedded_redis.EmbeddedRedis`: a session fixture starts
it before any event loop exists. The nodes listen on 127.0.0.1 only and die with the process that
started them (``PR_SET_PDEATHSIG``), so a killed test run leaves no cluster behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import random
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

import redis

#: A node's cluster bus listens on its port + 10000 (Redis' fixed offset).
BUS_OFFSET = 10000
NODES = 3


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_cluster_ports(n: int) -> list[int]:
    """``n`` ports each free together with its bus port (below the ephemeral range, so that
    +10000 stays a valid port)."""
    ports: list[int] = []
    while len(ports) < n:
        port = random.randrange(20000, 30000)
        if port not in ports and _port_free(port) and _port_free(port + BUS_OFFSET):
            ports.append(port)
    return ports


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class ThrowawayCluster:
    def __init__(self, root: Path, binary: str = "redis-server", nodes: int = NODES) -> None:
        self.root = root
        self.binary = shutil.which(binary) or binary
        self.ports = free_cluster_ports(nodes)
        self.procs: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        """Any node names the cluster (SPEC 11.6); the first one."""
        return f"redis://127.0.0.1:{self.ports[0]}"

    def start(self, timeout_s: float = 30) -> str:
        for port in self.ports:
            node_dir = self.root / str(port)
            node_dir.mkdir(parents=True, exist_ok=True)
            cmd = [self.binary, "--port", str(port), "--bind", "127.0.0.1",
                   "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                   "--cluster-node-timeout", "2000", "--dir", str(node_dir),
                   "--save", "", "--appendonly", "no", "--daemonize", "no",
                   "--logfile", str(node_dir / "redis.log")]
            self.procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                               stderr=subprocess.DEVNULL,
                                               start_new_session=True,
                                               preexec_fn=_die_with_parent))
        try:
            for port in self.ports:
                self._wait(lambda p=port: redis.Redis(port=p, socket_timeout=1).ping(),
                           timeout_s)
            subprocess.run(
                ["redis-cli", "--cluster", "create",
                 *[f"127.0.0.1:{p}" for p in self.ports],
                 "--cluster-replicas", "0", "--cluster-yes"],
                check=True, capture_output=True, timeout=timeout_s)
            for port in self.ports:
                self._wait(lambda p=port: self._state_ok(p), timeout_s)
        except BaseException:
            self.stop()
            raise
        return self.url

    @staticmethod
    def _state_ok(port: int) -> bool:
        with redis.Redis(port=port, socket_timeout=1, decode_responses=True) as r:
            info = r.cluster("info")
        return bool(info.get("cluster_state") == "ok")

    @staticmethod
    def _wait(check: object, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                if check():  # type: ignore[operator]
                    return
            except redis.RedisError as e:
                last = e
            time.sleep(0.05)
        raise RuntimeError(f"redis cluster node not ready in {timeout_s}s ({last!r})")

    def flush(self) -> None:
        """Empty every node (tests start clean); only our own nodes, by their ports."""
        for port in self.ports:
            with redis.Redis(port=port, socket_timeout=2) as r:
                r.flushall()

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
        self.procs.clear()

    def __enter__(self) -> ThrowawayCluster:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
