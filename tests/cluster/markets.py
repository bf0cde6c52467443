"""Many markets, and dispatcher processes sharing them: shared by the sharing test and
``bench/hosts.py``."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.server import REPO


def write_markets(dest: Path, count: int) -> list[str]:
    """The shipped config with ``count`` markets (copies of shiling: same ground, ids m01…)."""
    shutil.copytree(REPO / "config", dest)
    source = (dest / "markets" / "shiling.toml").read_text()
    (dest / "markets" / "shiling.toml").unlink()
    ids = [f"m{i:02d}" for i in range(1, count + 1)]
    for market_id in ids:
        (dest / "markets" / f"{market_id}.toml").write_text(
            source.replace('id = "shiling"', f'id = "{market_id}"', 1))
    return ids


def start_dispatcher(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``gigmarket dispatch`` as production runs it, beside the web processes."""
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "gigmarket.cli", "dispatch"], env=env,
                                cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def holders(base_url: str) -> dict[str, dict[str, Any] | None]:
    """``/readyz``'s view: market -> {"holder": "HOST:PID", "token": N} or None."""
    body = httpx.get(f"{base_url}/readyz", timeout=10).json()
    return dict(body["checks"]["dispatch"])


def held_by(view: dict[str, dict[str, Any] | None]) -> dict[int, list[str]]:
    """The markets each dispatcher (by pid) holds."""
    out: dict[int, list[str]] = {}
    for market_id, lease in sorted(view.items()):
        if lease is not None:
            out.setdefault(int(str(lease["holder"]).rsplit(":", 1)[1]), []).append(market_id)
    return out
