"""``gigmarket exchange``: mistakes are named, and the secret exists only in what ``add``
printed (the ledger holds it sealed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.server import REPO


def gigmarket(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    return subprocess.run([sys.executable, "-m", "gigmarket.cli", "exchange", *args],
                          env={**env, "GIGMARKET_DATA": str(data)}, capture_output=True,
                          text=True, cwd=REPO, timeout=120)


def test_exchange_commands_refuse_mistakes_by_name_and_never_store_the_secret_plain(
    tmp_path: Path,
) -> None:
    """A bad id, a taken id, a malformed SM4 key, an unknown platform: exit 2 and a message
    naming the value; the ledger files do not contain the secret in any form."""
    added = gigmarket(tmp_path, "add", "--platform", "gd-province")
    assert added.returncode == 0, added.stderr
    secret = added.stdout.strip()
    assert len(secret) == 64 and set(secret) <= set("0123456789abcdef")
    assert "shown this once" in added.stderr

    for args, field in [(("add", "--platform", "GD Province"), "(platform)"),
                        (("add", "--platform", "gd-province"), "(platform)"),
                        (("add", "--platform", "hb", "--sm4-key", "zz"), "(sm4_key)"),
                        (("set-key", "--platform", "gd-province", "--sm4-key", "00" * 15),
                         "(sm4_key)"),
                        (("revoke", "--platform", "nobody"), "(platform)"),
                        (("set-key", "--platform", "nobody"), "(platform)")]:
        r = gigmarket(tmp_path, *args)
        assert r.returncode == 2 and field in r.stderr and "Traceback" not in r.stderr, (args, r)

    assert gigmarket(tmp_path, "set-key", "--platform", "gd-province", "--sm4-key",
                     "00" * 16).returncode == 0
    listing = gigmarket(tmp_path, "list").stdout
    assert listing.splitlines()[1].split("\t")[4] == "yes"
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("ledger.sqlite3*"))
    assert secret.encode() not in stored and bytes.fromhex(secret) not in stored
