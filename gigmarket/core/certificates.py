"""Certificates (特种作业操作证 and the like, SPEC 11.2): what a worker declares, and which
ones let them take a skill that needs one.

A declared certificate is ``pending`` until a manager of the worker's market has seen the card
and verifies it, or rejects it with a note the worker reads. Only a verified certificate whose
``expires_on`` day has not ended satisfies a skill with ``certificate_required``. Changing the
number or the expiry date of a certificate puts it back to ``pending``: the manager saw a
different card.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from gigmarket.core.errors import ValidationError

#: A card number as printed: letters, digits and the separators seen on real cards.
_NUMBER: Final = re.compile(r"[0-9A-Za-z][0-9A-Za-z\-/ ]{2,39}")
_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: More certificates than skills a worker can hold makes no sense.
MAX_CERTIFICATES: Final = 12


class CertificateState(enum.StrEnum):
    #: Declared; a manager has not acted yet.
    PENDING = "pending"
    #: A manager saw the card: it satisfies its skill until it expires.
    VERIFIED = "verified"
    #: A manager refused it, with a note the worker reads.
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Declared:
    """One certificate as a worker declares it."""

    skill: str
    number: str
    expires_on: date


@dataclass(frozen=True, slots=True)
class Held:
    """One certificate as the ledger holds it."""

    skill: str
    number: str
    expires_on: date
    state: CertificateState


def _refuse(message: str, code: str, field: str) -> ValidationError:
    return ValidationError(message, code=code, field=field)


def parse_declared(value: object, *, skill_codes: Iterable[str], today: date,
                   field: str = "certificates") -> tuple[Declared, ...]:
    """``[{"skill", "number", "expires_on"}, ...]``: each a known skill once, a card number
    of sane length, a real date not already past."""
    if not isinstance(value, list):
        raise _refuse(f"{field} must be a list", "bad_type", field)
    if len(value) > MAX_CERTIFICATES:
        raise _refuse(f"{field} may hold at most {MAX_CERTIFICATES}", "too_many", field)
    known = set(skill_codes)
    out: list[Declared] = []
    for i, item in enumerate(value):
        at = f"{field}[{i}]"
        if not isinstance(item, dict):
            raise _refuse(f"{at} must be an object", "bad_type", at)
        extra = sorted(set(item) - {"skill", "number", "expires_on"})
        if extra:
            raise _refuse(f"{at}.{extra[0]} is not a known field", "unknown_field",
                          f"{at}.{extra[0]}")
        for key in ("skill", "number", "expires_on"):
            if not isinstance(item.get(key), str):
                raise _refuse(f"{at}.{key} is required (a string)",
                              "required" if item.get(key) is None else "bad_type", f"{at}.{key}")
        skill = item["skill"]
        if skill not in known:
            raise _refuse(f"{at}.skill is not a known skill: {skill!r}", "unknown_skill",
                          f"{at}.skill")
        if any(d.skill == skill for d in out):
            raise _refuse(f"{at}.skill repeats {skill!r}", "duplicate", f"{at}.skill")
        number = item["number"].strip()
        if not number:
            raise _refuse(f"{at}.number is required", "required", f"{at}.number")
        if not _NUMBER.fullmatch(number):
            raise _refuse(f"{at}.number must be 3 to 40 letters or digits as on the card",
                          "bad_certificate_number", f"{at}.number")
        raw = item["expires_on"]
        try:
            if not _DATE.fullmatch(raw):
                raise ValueError(raw)
            expires_on = date.fromisoformat(raw)
        except ValueError:
            raise _refuse(f"{at}.expires_on must be a date YYYY-MM-DD", "bad_date",
                          f"{at}.expires_on") from None
        if expires_on < today:
            raise _refuse(f"{at}.expires_on is already past", "certificate_expired",
                          f"{at}.expires_on")
        out.append(Declared(skill, number, expires_on))
    return tuple(out)


def needs_review(declared: Declared, before: Held | None) -> bool:
    """Whether a declaration must (again) wait for a manager: new, or another card."""
    return (before is None or before.number != declared.number
            or before.expires_on != declared.expires_on)


def valid_until(expires_on: date, tz: ZoneInfo) -> float:
    """The instant a certificate stops counting: the end of its ``expires_on`` day, locally."""
    end = datetime.combine(expires_on + timedelta(days=1), time(0), tz)
    return end.timestamp()


def qualifying(held: Iterable[Held], tz: ZoneInfo) -> dict[str, float]:
    """Skill -> until when, for the verified certificates (the live record keeps the instant
    so that a round judges expiry by its own clock, not the check-in's)."""
    return {h.skill: valid_until(h.expires_on, tz) for h in held
            if h.state is CertificateState.VERIFIED}


def certified_at(until: Mapping[str, float], now: float) -> list[str]:
    """The skills whose qualifying certificate still holds at ``now``."""
    return [skill for skill, end in until.items() if now < end]


def lacking(required: Iterable[str], until: Mapping[str, float], now: float) -> list[str]:
    """The required skills no certificate in ``until`` covers at ``now``."""
    held = set(certified_at(until, now))
    return [skill for skill in required if skill not in held]
