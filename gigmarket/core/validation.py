"""Input validation: JSON bodies in, typed drafts out, or a ValidationError naming the field.

Every refusal carries a stable snake_case ``code`` and the ``field`` to blame (dotted for nested
values, ``wage.amount``; indexed for lists, ``skills[2]``). Parsers check the body's keys first,
then each field in the order the SPEC lists them, so the error names the first bad field.

Codes: ``bad_body``, ``required``, ``unknown_field``, ``bad_type``, ``bad_phone``,
``bad_id_number``, ``bad_credit_code``, ``out_of_bounds``, ``out_of_range``,
``too_many_decimals``, ``unknown_unit``, ``below_wage_floor``, ``bad_time``, ``in_the_past``,
``too_far_ahead``, ``unknown_skill``, ``duplicate``, ``too_many``, ``too_long``, ``too_short``,
``bad_text``, ``bad_pin``, ``bad_code``, ``unknown_station``, ``mutually_exclusive``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from gigmarket.core.certificates import Declared, parse_declared
from gigmarket.core.errors import ValidationError
from gigmarket.core.market import Bounds, Market, Rules
from gigmarket.core.model import Money, WageUnit

#: A phone's clock and a "start now" preset both land a little before the server's now.
START_SKEW: Final = timedelta(minutes=5)
#: Instant jobs are for the coming days; a month out is a typo or a different kind of posting.
START_HORIZON: Final = timedelta(days=30)
MAX_HEADCOUNT: Final = 50
MAX_DURATION_HOURS: Final = 24
MAX_SKILLS: Final = 10
MAX_WAGE_FEN: Final = 1_000_000 * 100
EARLIEST_BIRTH: Final = date(1900, 1, 1)

_CENT: Final = Decimal("0.01")
_PHONE: Final = re.compile(r"1[3-9][0-9]{9}")
_PHONE_SEPARATORS: Final = re.compile(r"[ \-]")
_ID_NUMBER: Final = re.compile(r"[0-9]{17}[0-9X]")
_ID_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK: Final = "10X98765432"
_CREDIT_CHARSET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS: Final = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_AUTHORITIES: Final = "123456789ABCDEFGY"
_PIN: Final = re.compile(r"[0-9]{4,6}")
_OTP: Final = re.compile(r"[0-9]{6}")
#: Bidi overrides and isolates can make a posting display as something other than it says.
_BIDI_CONTROLS: Final = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _refuse(message: str, code: str, field: str | None) -> ValidationError:
    return ValidationError(message, code=code, field=field)


# --- primitives -------------------------------------------------------------------------------


def exact_fields(
    body: object, *, required: set[str], optional: set[str], field: str | None = None
) -> dict[str, Any]:
    """``body`` as a dict holding every ``required`` key and nothing beyond ``optional``.

    Unknown keys are reported before missing ones: a misspelt key (``titel``) is then named
    as itself rather than as the missing ``title``. ``field`` names a nested object, so its
    keys are reported dotted (``wage.amount``).
    """
    prefix = f"{field}." if field else ""
    if not isinstance(body, dict):
        where = field or "body"
        raise _refuse(
            f"{where} must be a JSON object", "bad_body" if not field else "bad_type", field
        )
    unknown = sorted((k for k in body if k not in required and k not in optional), key=str)
    if unknown:
        name = f"{prefix}{unknown[0]}"
        raise _refuse(f"unknown field {name!r}", "unknown_field", name)
    missing = sorted(required - body.keys())
    if missing:
        name = f"{prefix}{missing[0]}"
        raise _refuse(f"{name} is required", "required", name)
    return body


def _string(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise _refuse(f"{field} must be a string", "bad_type", field)
    return value


def _number(value: object, field: str) -> int | float:
    """A JSON number: int or finite float. ``True`` is an int to Python, not to a client."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _refuse(f"{field} must be a number", "bad_type", field)
    if isinstance(value, float) and not math.isfinite(value):
        raise _refuse(f"{field} must be a finite number", "bad_type", field)
    return value


def _decimal(value: int | float) -> Decimal:
    # repr() is the shortest string that reads back as the same float, i.e. what the client
    # wrote: 300.5 stays 300.5, and 0.1 + 0.2 shows its 17 digits and is refused.
    return Decimal(value) if isinstance(value, int) else Decimal(repr(value))


def _at_most_cents(amount: Decimal, field: str) -> None:
    # Callers bound the amount first, so quantize stays within Decimal's precision.
    if amount != amount.quantize(_CENT):
        raise _refuse(f"{field} has more than 2 decimals", "too_many_decimals", field)


def phone(value: object, field: str = "phone") -> str:
    """A mainland mobile number: 11 ASCII digits, ``1[3-9]…``; inner spaces and dashes dropped."""
    digits = _PHONE_SEPARATORS.sub("", _string(value, field).strip())
    if not _PHONE.fullmatch(digits):
        raise _refuse(
            f"{field} must be an 11-digit mobile number starting 13-19", "bad_phone", field
        )
    return digits


def id_number(value: object, field: str = "id_number", *, today: date | None = None) -> str:
    """An 18-character resident ID number (GB 11643-1999), upper-cased.

    The region code is not checked against a table: codes change with redistricting, and
    residence permits for Hong Kong, Macao, Taiwan and foreign residents use other prefixes
    with the same check digit.
    """
    number = _string(value, field).strip().upper()
    if not _ID_NUMBER.fullmatch(number):
        raise _refuse(f"{field} must be 17 digits and a check digit or X", "bad_id_number", field)
    total = sum(int(c) * w for c, w in zip(number, _ID_WEIGHTS, strict=False))
    if number[17] != _ID_CHECK[total % 11]:
        raise _refuse(f"{field} has a wrong check digit", "bad_id_number", field)
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise _refuse(
            f"{field} holds a birth date that does not exist", "bad_id_number", field
        ) from None
    if not EARLIEST_BIRTH <= born <= (today or date.today()):
        raise _refuse(f"{field} holds a birth date out of range", "bad_id_number", field)
    return number


def credit_code(value: object, field: str = "credit_code") -> str:
    """An 18-character unified social credit code (GB 32100-2015), upper-cased.

    The embedded organisation code (characters 9-17) is not checked separately: the GB 32100
    check character covers the whole code, and codes issued since 2015 need not satisfy the
    older GB 11714 check.
    """
    code = _string(value, field).strip().upper()
    if len(code) != 18:
        raise _refuse(f"{field} must be 18 characters", "bad_credit_code", field)
    if any(c not in _CREDIT_CHARSET for c in code):
        raise _refuse(
            f"{field} may hold only digits and letters other than I, O, Z, S, V",
            "bad_credit_code",
            field,
        )
    if code[0] not in _CREDIT_AUTHORITIES or not code[2:8].isdigit():
        raise _refuse(
            f"{field} has a bad registration authority or region code", "bad_credit_code", field
        )
    total = sum(_CREDIT_CHARSET.index(c) * w for c, w in zip(code, _CREDIT_WEIGHTS, strict=False))
    if code[17] != _CREDIT_CHARSET[(31 - total % 31) % 31]:
        raise _refuse(f"{field} has a wrong check character", "bad_credit_code", field)
    return code


def coordinates(
    lat: object, lon: object, bounds: Bounds, *, prefix: str = ""
) -> tuple[float, float]:
    """A point inside the market's bounds, as floats."""
    lat_field, lon_field = f"{prefix}lat", f"{prefix}lon"
    lat_n = _number(lat, lat_field)
    if not bounds.south <= lat_n <= bounds.north:
        raise _refuse(f"{lat_field} lies outside the market", "out_of_bounds", lat_field)
    lon_n = _number(lon, lon_field)
    if not bounds.west <= lon_n <= bounds.east:
        raise _refuse(f"{lon_field} lies outside the market", "out_of_bounds", lon_field)
    return float(lat_n), float(lon_n)


def money(value: object, field: str) -> Money:
    """``{"amount": yuan, "unit": "hour" | "day" | "piece"}`` -> :class:`Money` in fen."""
    body = exact_fields(value, required={"amount", "unit"}, optional=set(), field=field)
    amount_field, unit_field = f"{field}.amount", f"{field}.unit"
    amount = _decimal(_number(body["amount"], amount_field))
    if not 0 < amount * 100 <= MAX_WAGE_FEN:
        raise _refuse(
            f"{amount_field} must be above 0 and at most 1,000,000 yuan",
            "out_of_range",
            amount_field,
        )
    _at_most_cents(amount, amount_field)
    unit = body["unit"]
    if not isinstance(unit, str) or unit not in {u.value for u in WageUnit}:
        raise _refuse(f"{unit_field} must be one of hour, day, piece", "unknown_unit", unit_field)
    return Money(fen=int(amount * 100), unit=WageUnit(unit))


def wage_at_floor(wage: Money, rules: Rules, duration_hours: float, field: str = "wage") -> None:
    """Refuse a wage below the market's legal floor for its unit.

    ``duration_hours`` is taken so callers need not change when a market's floor comes to
    depend on the length of the job; today's floors do not.
    """
    if wage.unit is WageUnit.HOUR:
        floor = rules.min_hourly_wage_fen
    elif wage.unit is WageUnit.DAY:
        floor = rules.min_daily_wage_fen
    else:
        return  # a piece rate has no floor that can be checked before the work is done
    if wage.fen < floor:
        raise _refuse(
            f"{field} is below the market's minimum of {floor / 100:.2f} yuan per "
            f"{wage.unit.value}",
            "below_wage_floor",
            field,
        )


def timestamp(value: object, field: str) -> datetime:
    """An ISO 8601 time with a UTC offset, as an aware datetime."""
    try:
        when = datetime.fromisoformat(_string(value, field))
    except ValueError:
        raise _refuse(f"{field} must be an ISO 8601 time", "bad_time", field) from None
    if when.utcoffset() is None:
        raise _refuse(f"{field} must carry a UTC offset, e.g. +08:00", "bad_time", field)
    return when


def start_at(value: object, now: datetime, field: str = "start_at") -> datetime:
    """A start time from (about) now up to :data:`START_HORIZON` ahead."""
    when = timestamp(value, field)
    if when < now - START_SKEW:
        raise _refuse(f"{field} is in the past", "in_the_past", field)
    if when > now + START_HORIZON:
        raise _refuse(f"{field} is more than 30 days ahead", "too_far_ahead", field)
    return when


def headcount(value: object, field: str = "headcount") -> int:
    """A whole number of workers, 1 to :data:`MAX_HEADCOUNT`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _refuse(f"{field} must be a whole number", "bad_type", field)
    if not 1 <= value <= MAX_HEADCOUNT:
        raise _refuse(f"{field} must be from 1 to {MAX_HEADCOUNT}", "out_of_range", field)
    return value


#: A worker's own longest trip may be set from 5 minutes to 3 hours (the market's own limit
#: is checked apart: a trip must be within both).
TRAVEL_MINUTES_RANGE: Final = (5, 180)


def travel_minutes(value: object, field: str = "max_travel_minutes") -> int:
    """Whole minutes of travel, within :data:`TRAVEL_MINUTES_RANGE`."""
    lo, hi = TRAVEL_MINUTES_RANGE
    if isinstance(value, bool) or not isinstance(value, int):
        raise _refuse(f"{field} must be a whole number of minutes", "bad_type", field)
    if not lo <= value <= hi:
        raise _refuse(f"{field} must be from {lo} to {hi} minutes", "out_of_range", field)
    return value


def duration_hours(value: object, field: str = "duration_hours") -> float:
    """Hours of work: above 0, at most 24, at most 2 decimals (0.5, 8, 10.25)."""
    hours = _number(value, field)
    if not 0 < hours <= MAX_DURATION_HOURS:
        raise _refuse(
            f"{field} must be above 0 and at most {MAX_DURATION_HOURS}", "out_of_range", field
        )
    _at_most_cents(_decimal(hours), field)
    return float(hours)


def skill_codes(value: object, allowed: Iterable[str], field: str = "skills") -> tuple[str, ...]:
    """A non-empty list of distinct known skill codes, at most :data:`MAX_SKILLS`, in order."""
    if not isinstance(value, list | tuple):
        raise _refuse(f"{field} must be a list of skill codes", "bad_type", field)
    if not value:
        raise _refuse(f"{field} needs at least one skill", "required", field)
    if len(value) > MAX_SKILLS:
        raise _refuse(f"{field} may hold at most {MAX_SKILLS} skills", "too_many", field)
    known = set(allowed)
    seen: list[str] = []
    for i, code in enumerate(value):
        item = f"{field}[{i}]"
        if not isinstance(code, str):
            raise _refuse(f"{item} must be a string", "bad_type", item)
        if code not in known:
            raise _refuse(f"{item} is not a skill of this market: {code!r}", "unknown_skill", item)
        if code in seen:
            raise _refuse(f"{item} repeats {code!r}", "duplicate", item)
        seen.append(code)
    return tuple(seen)


def text(
    value: object,
    field: str,
    *,
    max_len: int,
    required: bool = True,
    min_len: int = 1,
    multiline: bool = False,
) -> str:
    """A stripped, NFC-normalised string without control characters, ``min_len..max_len`` long.

    ``multiline`` lets line breaks and tabs through, for descriptions typed in a text area.
    An optional text that is absent, null or blank is ``""``.
    """
    if value is None and not required:
        return ""
    if value is None:
        raise _refuse(f"{field} is required", "required", field)
    # NFC so that one name typed by two input methods compares and counts the same.
    s = unicodedata.normalize("NFC", _string(value, field)).strip()
    if multiline:
        s = s.replace("\r\n", "\n").replace("\r", "\n")
    allowed = "\n\t" if multiline else ""
    for c in s:
        # Cs: a lone surrogate from a JSON "\ud800" escape cannot be stored as UTF-8.
        if (unicodedata.category(c) in ("Cc", "Cs") and c not in allowed) or c in _BIDI_CONTROLS:
            raise _refuse(f"{field} contains a control character", "bad_text", field)
    if not s:
        if required:
            raise _refuse(f"{field} is required", "required", field)
        return s
    if len(s) < min_len:
        raise _refuse(f"{field} must be at least {min_len} characters", "too_short", field)
    if len(s) > max_len:
        raise _refuse(f"{field} must be at most {max_len} characters", "too_long", field)
    return s


def pin(value: object, field: str = "pin") -> str:
    """A kiosk PIN: 4 to 6 ASCII digits (a string, so leading zeros survive)."""
    s = _string(value, field)
    if not _PIN.fullmatch(s):
        raise _refuse(f"{field} must be 4 to 6 digits", "bad_pin", field)
    return s


def otp_code(value: object, field: str = "code") -> str:
    """A one-time code: exactly 6 ASCII digits."""
    s = _string(value, field)
    if not _OTP.fullmatch(s):
        raise _refuse(f"{field} must be 6 digits", "bad_code", field)
    return s


# The worker parser's keyword ``skill_codes`` (part of its contract) shadows the primitive.
_skill_codes = skill_codes


# --- bodies (SPEC 6) --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkerProfileDraft:
    name: str
    skills: tuple[str, ...]
    min_wage: Money | None
    id_number: str | None
    #: ``None``: the body left certificates out (they stay as they are).
    certificates: tuple[Declared, ...] | None = None
    #: The worker's own longest trip in minutes, ``(minutes,)``; ``(None,)`` clears it (the
    #: market's reach alone); ``None``: the body left it out (it stays as it is).
    max_travel_minutes: tuple[int | None] | None = None


@dataclass(frozen=True, slots=True)
class EmployerProfileDraft:
    name: str
    org_name: str
    credit_code: str


@dataclass(frozen=True, slots=True)
class CheckinDraft:
    lat: float
    lon: float
    #: Set when the worker checked in at a station; ``lat``/``lon`` are then the station's.
    station_id: str | None
    available_until: datetime | None


@dataclass(frozen=True, slots=True)
class JobDraft:
    title: str
    skills: tuple[str, ...]
    headcount: int
    wage: Money
    start_at: datetime
    duration_hours: float
    lat: float
    lon: float
    address: str
    description: str


def parse_worker_profile(
    body: object, *, skill_codes: Iterable[str], today: date | None = None
) -> WorkerProfileDraft:
    """``PUT /me/profile`` by a worker."""
    b = exact_fields(body, required={"name", "skills"},
                     optional={"min_wage", "id_number", "certificates",
                               "max_travel_minutes"})
    name = text(b["name"], "name", max_len=20)
    skill_list = list(skill_codes)
    skills = _skill_codes(b["skills"], skill_list)
    min_wage = None if b.get("min_wage") is None else money(b["min_wage"], "min_wage")
    number = None if b.get("id_number") is None else id_number(b["id_number"], today=today)
    certificates = None
    if b.get("certificates") is not None:
        certificates = parse_declared(b["certificates"], skill_codes=skill_list,
                                      today=today or date.today())
    own: tuple[int | None] | None = None
    if "max_travel_minutes" in b:
        raw = b["max_travel_minutes"]
        own = (None if raw is None else travel_minutes(raw),)
    return WorkerProfileDraft(name=name, skills=skills, min_wage=min_wage, id_number=number,
                              certificates=certificates, max_travel_minutes=own)


def parse_employer_profile(body: object) -> EmployerProfileDraft:
    """``PUT /me/profile`` by an employer."""
    b = exact_fields(body, required={"name", "org_name", "credit_code"}, optional=set())
    return EmployerProfileDraft(
        name=text(b["name"], "name", max_len=20),
        org_name=text(b["org_name"], "org_name", max_len=60),
        credit_code=credit_code(b["credit_code"]),
    )


def parse_checkin(body: object, market: Market, now: datetime) -> CheckinDraft:
    """``POST /markets/{m}/checkin``: a point (phone) or a station (kiosk), not both."""
    b = exact_fields(body, required=set(), optional={"lat", "lon", "station_id", "available_until"})
    at_point = b.get("lat") is not None or b.get("lon") is not None
    station_id = None if b.get("station_id") is None else _string(b["station_id"], "station_id")
    if at_point and station_id is not None:
        raise _refuse(
            "give either lat and lon or station_id, not both", "mutually_exclusive", "station_id"
        )
    if at_point:
        for key in ("lat", "lon"):
            if b.get(key) is None:
                raise _refuse(f"{key} is required with a location", "required", key)
        lat, lon = coordinates(b["lat"], b["lon"], market.bounds)
    elif station_id is not None:
        station = market.station(station_id)
        if station is None:
            raise _refuse(
                f"station_id {station_id!r} is not a station of this market",
                "unknown_station",
                "station_id",
            )
        lat, lon = station.lat, station.lon
    else:
        raise _refuse("lat and lon, or station_id, is required", "required", "lat")
    until = None
    if b.get("available_until") is not None:
        until = timestamp(b["available_until"], "available_until")
        if until <= now:
            raise _refuse("available_until is in the past", "in_the_past", "available_until")
    return CheckinDraft(lat=lat, lon=lon, station_id=station_id, available_until=until)


def parse_job(body: object, market: Market, now: datetime) -> JobDraft:
    """``POST /markets/{m}/jobs``, wage checked against the market's floor."""
    b = exact_fields(
        body,
        required={
            "title",
            "skills",
            "headcount",
            "wage",
            "start_at",
            "duration_hours",
            "lat",
            "lon",
            "address",
        },
        optional={"description"},
    )
    title = text(b["title"], "title", max_len=40)
    skills = skill_codes(b["skills"], market.skills)
    count = headcount(b["headcount"])
    wage = money(b["wage"], "wage")
    start = start_at(b["start_at"], now)
    hours = duration_hours(b["duration_hours"])
    # The floor check needs the duration, so it runs as soon as both are known.
    wage_at_floor(wage, market.rules, hours)
    lat, lon = coordinates(b["lat"], b["lon"], market.bounds)
    address = text(b["address"], "address", max_len=120)
    description = text(
        b.get("description"), "description", max_len=1000, required=False, multiline=True
    )
    return JobDraft(
        title=title,
        skills=skills,
        headcount=count,
        wage=wage,
        start_at=start,
        duration_hours=hours,
        lat=lat,
        lon=lon,
        address=address,
        description=description,
    )
