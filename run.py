#!/usr/bin/env python3
"""The two front-door commands, on a machine with nothing but Python 3.11+.

    python3 run.py serve [gigmarket serve options]   # e.g. --dev --demo
    python3 run.py test  [pytest options]

Each makes ``.venv`` on first use (and re-installs when ``pyproject.toml`` changes), then runs
the command inside it. Nothing else is installed on the machine.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".gigmarket-installed"


def ensure_env() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - run.py must explain itself on old Pythons
        sys.exit(f"gigmarket needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == want:
        return
    if not (BIN / "python").exists():
        print("creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("installing gigmarket and its test tools into .venv …", flush=True)
    subprocess.run([str(BIN / "python"), "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
                   check=True)
    subprocess.run([str(BIN / "python"), "-m", "pip", "install", "--quiet", "-e", ".[test]"],
                   check=True, cwd=ROOT)
    STAMP.write_text(want)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"serve", "test"}:
        print(__doc__)
        return 2
    ensure_env()
    os.chdir(ROOT)
    if argv[0] == "serve":
        cmd = [str(BIN / "gigmarket"), "serve", *argv[1:]]
    else:
        cmd = [str(BIN / "python"), "-m", "pytest", *argv[1:]]
    os.execv(cmd[0], cmd)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
