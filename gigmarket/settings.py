"""The only reader of the environment and of ``config/``.

Everything configurable arrives here once, is checked, and is passed down as values. Nothing else
in the package calls ``os.environ`` or opens a config file.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from gigmarket.core.market import Market, Skill, parse_market, parse_skills

#: The repository's config/ when running from a checkout; overridable for installs.
_DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    config_dir: Path
    #: ``None`` means: start the embedded Redis under ``data_dir``.
    redis_url: str | None
    #: SQLite ledger file.
    ledger_path: Path
    dev: bool
    #: 32-byte key for ID-card numbers at rest (AES-GCM) and their blind index.
    secret_key: bytes
    #: Extra websocket/browser origins allowed besides the server's own.
    allowed_origins: tuple[str, ...]
    skills: dict[str, Skill]
    markets: dict[str, Market]
    #: Provincial exchange token (``None``: exchange disabled).
    exchange_token: str | None = None
    #: Websocket messages kept per recipient for ``resume``; older ones need a snapshot.
    history_per_recipient: int = 500
    #: Seconds a sign-in token lives.
    token_ttl_s: int = 30 * 24 * 3600
    extra: dict[str, str] = field(default_factory=dict)


def default_config_dir() -> Path:
    """The shipped ``config/`` (markets and skills), when nothing else is configured."""
    return _DEFAULT_CONFIG


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


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
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


def load(*, dev: bool | None = None) -> Settings:
    data_dir = Path(os.environ.get("GIGMARKET_DATA", "./data")).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    config_dir = Path(os.environ.get("GIGMARKET_CONFIG", str(_DEFAULT_CONFIG))).resolve()
    skills, markets = load_catalogue(config_dir)
    ledger = os.environ.get("GIGMARKET_LEDGER", "")
    if ledger and not ledger.startswith("sqlite:///"):
        raise RuntimeError("GIGMARKET_LEDGER: only sqlite:///path is supported so far")
    ledger_path = Path(ledger.removeprefix("sqlite:///")) if ledger else data_dir / "ledger.sqlite3"
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
        exchange_token=os.environ.get("GIGMARKET_EXCHANGE_TOKEN") or None,
    )
