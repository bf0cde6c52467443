"""The only reader of the environment and of ``config/``.

Everything configurable arrives here once, is checked, and is passed down as values. Nothing else
in the package calls ``os.environ`` or opens a config file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from gigmarket.core.market import Market, Skill, parse_market, parse_skills

_PACKAGE = Path(__file__).resolve().parent


def shipped(name: str) -> Path:
    """The shipped ``static/`` or ``config/``: inside the package in an installed wheel, at the
    top of the repository in a checkout (editable install or none). The one place that knows."""
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise RuntimeError(f"gigmarket's {name}/ is missing from {_PACKAGE} and {_PACKAGE.parent}")


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    config_dir: Path
    #: ``None`` means: start the embedded Redis under ``data_dir``.
    redis_url: str | None
    #: Where the ledger is: the SQLite file (the embedded default), or a ``postgresql://`` URL
    #: (SPEC 11.6). ``Ledger.open`` takes either.
    ledger_path: Path | str
    dev: bool
    #: 32-byte key for ID-card numbers at rest (AES-GCM) and their blind index.
    secret_key: bytes
    #: Extra websocket/browser origins allowed besides the server's own.
    allowed_origins: tuple[str, ...]
    skills: dict[str, Skill]
    markets: dict[str, Market]
    #: Websocket messages kept per recipient for ``resume``; older ones need a snapshot.
    history_per_recipient: int = 500
    #: Seconds a sign-in token lives.
    token_ttl_s: int = 30 * 24 * 3600
    #: permessage-deflate on websockets: off by default, as each compressed socket holds its
    #: own zlib state (~50 KiB) while our messages are a few hundred bytes (issue 13).
    ws_deflate: bool = False
    extra: dict[str, str] = field(default_factory=dict)
    #: ``redis_url`` names any node of a Redis Cluster (SPEC 11.6, ``GIGMARKET_REDIS_CLUSTER``).
    redis_cluster: bool = False


def default_config_dir() -> Path:
    """The shipped ``config/`` (markets and skills), when nothing else is configured."""
    return shipped("config")


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def config_dir_from_env() -> Path:
    """``GIGMARKET_CONFIG`` if set (it replaces the shipped config/ for every command), else the
    shipped one."""
    env = os.environ.get("GIGMARKET_CONFIG")
    return Path(env).resolve() if env else default_config_dir()


def load_catalogue(config_dir: Path) -> tuple[dict[str, Skill], dict[str, Market]]:
    with (config_dir / "skills.toml").open("rb") as f:
        skills = parse_skills(tomllib.load(f))
    markets: dict[str, Market] = {}
    for path in sorted((config_dir / "markets").glob("*.toml")):
        with path.open("rb") as f:
            market = parse_market(tomllib.load(f), skills)
        markets[market.id] = market
    if not markets:
        raise RuntimeError(f"no markets in {config_dir / 'markets'}")
    return skills, markets


def _secret_key(data_dir: Path) -> bytes:
    """The key from ``GIGMARKET_SECRET_KEY`` (hex), else one generated once into the data dir.

    Losing the generated file makes stored ID-card numbers unreadable, which is why production
    sets the variable from a secret store instead.
    """
    env = os.environ.get("GIGMARKET_SECRET_KEY")
    if env:
        key = bytes.fromhex(env)
        if len(key) != 32:
            raise RuntimeError("GIGMARKET_SECRET_KEY must be 64 hex characters (32 bytes)")
        return key
    path = data_dir / "secret.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        _create_once(path, secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


def _create_once(path: Path, text: str) -> None:
    """Make ``path`` hold ``text``, whole, unless it exists already.

    Processes sharing a fresh data directory (web processes and a dispatcher started together)
    race to generate the key: none may read another's half-written file, fail because another
    won, or replace a key already in use. Written aside and hard-linked into place, the file
    appears complete or not at all, and ``link`` refuses to replace, so the first one wins.
    """
    fd, aside = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(aside, path)
    finally:
        os.unlink(aside)


#: What ``GIGMARKET_LEDGER`` may name: ``sqlite:///PATH`` or any libpq URL.
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def ledger_from_env(data_dir: Path) -> Path | str:
    """``GIGMARKET_LEDGER``: a SQLite file (``sqlite:///PATH``; unset: ``ledger.sqlite3`` in the
    data dir) or PostgreSQL (``postgresql://USER@/DB?host=SOCKET_DIR``, any libpq URL)."""
    ledger = os.environ.get("GIGMARKET_LEDGER", "").strip()
    if not ledger:
        return data_dir / "ledger.sqlite3"
    if ledger.startswith("sqlite:///") and len(ledger) > len("sqlite:///"):
        return Path(ledger.removeprefix("sqlite:///"))
    if ledger.startswith(POSTGRES_SCHEMES):
        return ledger
    raise RuntimeError("GIGMARKET_LEDGER must be sqlite:///PATH or a postgresql:// URL")


def load(*, dev: bool | None = None) -> Settings:
    data_dir = Path(os.environ.get("GIGMARKET_DATA", "./data")).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    config_dir = config_dir_from_env()
    skills, markets = load_catalogue(config_dir)
    ledger_path = ledger_from_env(data_dir)
    if _env_flag("GIGMARKET_REDIS_CLUSTER") and not os.environ.get("REDIS_URL"):
        # The embedded Redis is one server, never a cluster: say so rather than fail later.
        raise RuntimeError("GIGMARKET_REDIS_CLUSTER=1 needs REDIS_URL naming a node of the cluster")
    origins = tuple(
        o.strip() for o in os.environ.get("GIGMARKET_ALLOWED_ORIGINS", "").split(",") if o.strip()
    )
    return Settings(
        data_dir=data_dir,
        config_dir=config_dir,
        redis_url=os.environ.get("REDIS_URL") or None,
        ledger_path=ledger_path,
        dev=_env_flag("GIGMARKET_DEV") or os.environ.get("GIGMARKET_ENV") == "dev"
        if dev is None
        else dev,
        secret_key=_secret_key(data_dir),
        allowed_origins=origins,
        skills=skills,
        markets=markets,
        history_per_recipient=int(os.environ.get("GIGMARKET_REPLAY_WINDOW", "500")),
        redis_cluster=_env_flag("GIGMARKET_REDIS_CLUSTER"),
        ws_deflate=_env_flag("GIGMARKET_WS_DEFLATE"),
    )
