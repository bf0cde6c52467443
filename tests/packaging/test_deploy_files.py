"""The files that run gigmarket elsewhere (compose.yaml, the Procfile, the Dockerfile) still
fit the code: Docker is not on every machine that runs the tests, so they would rot unseen."""

from __future__ import annotations

import fnmatch
import re
import shlex
import tomllib
from pathlib import Path

import yaml

from gigmarket.cli import build_parser

REPO = Path(__file__).resolve().parents[2]


def test_every_compose_and_procfile_command_is_one_gigmarket_accepts() -> None:
    """Each gigmarket service of compose.yaml and each Procfile line parses with the CLI's own
    parser; both run web processes without a dispatcher of their own and one dispatcher."""
    compose = yaml.safe_load((REPO / "compose.yaml").read_text())
    # The default profile; the "province" one (PostgreSQL, Redis Cluster) is checked below.
    ours = {name: s["command"] for name, s in compose["services"].items()
            if "build" in s and not s.get("profiles")}
    province = {name: build_parser().parse_args(s["command"])
                for name, s in compose["services"].items()
                if "build" in s and "province" in s.get("profiles", ())}
    # Dispatchers share the markets there (issue 11): two of them, beside two web processes.
    assert sorted(a.command for a in province.values()) == ["dispatch", "dispatch", "serve",
                                                             "serve"]
    assert all(a.no_dispatch for a in province.values() if a.command == "serve")
    procfile = {
        name: shlex.split(line.replace("$PORT", "8000"))[1:]  # drop the leading "gigmarket"
        for name, line in re.findall(r"(?m)^(\w+):\s*(.+)$", (REPO / "Procfile").read_text())
    }
    for source, commands in (("compose.yaml", ours), ("Procfile", procfile)):
        parsed = {name: build_parser().parse_args(argv) for name, argv in commands.items()}
        web = [a for a in parsed.values() if a.command == "serve"]
        assert web and all(a.no_dispatch for a in web), source
        assert [a.command for a in parsed.values()].count("dispatch") == 1, source
    assert len([a for a in ours.values() if a[0] == "serve"]) == 2
    assert compose["services"]["redis"]["image"].startswith("redis:")


def test_the_docker_build_copies_everything_the_wheel_is_built_from() -> None:
    """The Dockerfile copies pyproject.toml, the readme and licence it names, the package and
    every directory mapped into it (static/, config/), and .dockerignore keeps none of them
    out of the build context."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    needed = {"pyproject.toml", project["project"]["readme"], "LICENSE", "gigmarket",
              *project["tool"]["setuptools"]["package-dir"].values()}
    copied = {part for line in re.findall(r"(?m)^COPY (?!--from)(.+)$",
                                          (REPO / "Dockerfile").read_text())
              for part in line.split()[:-1]}
    assert sorted(needed - copied) == []
    ignored = [p.strip() for p in (REPO / ".dockerignore").read_text().splitlines()
               if p.strip() and not p.startswith("#")]
    assert [(n, p) for n in needed for p in ignored if fnmatch.fnmatch(n, p)] == []
