"""Settings on a real filesystem: the generated secret key when several processes share one
fresh data directory (compose.yaml, the Procfile)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from gigmarket.settings import _secret_key, ledger_from_env


def start_together(data: Path, starters: int) -> tuple[list[bytes], list[BaseException]]:
    """``starters`` threads released at once, each reading the key of ``data`` as a process
    does when it starts: the keys they got and the errors they met."""
    gate = threading.Barrier(starters)
    keys: list[bytes] = []
    errors: list[BaseException] = []

    def start() -> None:
        gate.wait()
        try:
            keys.append(_secret_key(data))
        except Exception as e:  # collected: an exception in a thread would go unseen
            errors.append(e)

    threads = [threading.Thread(target=start) for _ in range(starters)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return keys, errors


def test_processes_starting_together_on_a_fresh_data_dir_agree_on_one_key(
    tmp_path: Path,
) -> None:
    """Sixteen starters released at once on each of twenty fresh data directories all get the
    same 32-byte key, none fails, and the only file left is secret.key, readable by its owner
    alone."""
    for n in range(20):
        data = tmp_path / f"data{n}"
        keys, errors = start_together(data, 16)
        assert errors == []
        assert len(keys) == 16 and len(set(keys)) == 1 and len(keys[0]) == 32
        assert [p.name for p in data.iterdir()] == ["secret.key"]
        assert (data / "secret.key").stat().st_mode & 0o777 == 0o600


def test_a_key_already_there_is_kept(tmp_path: Path) -> None:
    """A data directory that has its key keeps it: starting again never makes a new one."""
    (tmp_path / "secret.key").write_text("ab" * 32 + "\n")
    assert _secret_key(tmp_path) == bytes.fromhex("ab" * 32)


@pytest.mark.parametrize(("value", "expected"), [
    ("", "DATA/ledger.sqlite3"),
    ("sqlite:////srv/gm/ledger.sqlite3", "/srv/gm/ledger.sqlite3"),
    ("postgresql://gm@/gigmarket?host=/run/pg", "postgresql://gm@/gigmarket?host=/run/pg"),
    ("postgres://gm:pw@db.internal:5432/gigmarket", "postgres://gm:pw@db.internal:5432/gigmarket"),
])
def test_the_ledger_setting_names_a_file_or_a_postgresql_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str, expected: str,
) -> None:
    """GIGMARKET_LEDGER: unset is the SQLite file in the data dir; sqlite:/// a file; any
    libpq URL is PostgreSQL, passed on as it is (SPEC 11.6)."""
    monkeypatch.setenv("GIGMARKET_LEDGER", value)
    got = ledger_from_env(tmp_path)
    assert str(got) == expected.replace("DATA", str(tmp_path))
    assert isinstance(got, str) == expected.startswith("postgres")


@pytest.mark.parametrize("value", ["mysql://x@/y", "sqlite:///", "/plain/path.sqlite3"])
def test_a_ledger_setting_of_another_kind_is_refused_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str,
) -> None:
    """Anything else stops the start with the variable's name, not a traceback deep inside."""
    monkeypatch.setenv("GIGMARKET_LEDGER", value)
    with pytest.raises(RuntimeError, match="GIGMARKET_LEDGER"):
        ledger_from_env(tmp_path)
