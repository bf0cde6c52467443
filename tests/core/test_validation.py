"""Validation: every primitive's good and bad values, every body parser's fields.

Valid ID numbers and credit codes come from two sources: published literals (the examples of
GB 11643 and GB 32100 themselves, the SPEC's sample bodies, published company codes) and the
small check-character functions below, which derive their weights (2**k mod 11, 3**k mod 31)
instead of copying the module's tables, so a typo in one table cannot hide in both.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from gigmarket.core import validation as v
from gigmarket.core.errors import ValidationError
from gigmarket.core.market import Market, Rules, parse_market, parse_skills
from gigmarket.core.model import Money, WageUnit

CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=CST)
TODAY = date(2026, 11, 22)

SKILLS = parse_skills(
    {
        "skill": [
            {"code": "loading", "zh": "搬运装卸", "en": "Loading", "icon": "box"},
            {"code": "cleaning", "zh": "保洁", "en": "Cleaning", "icon": "broom"},
            {
                "code": "electrician",
                "zh": "电工",
                "en": "Electrician",
                "icon": "bolt",
                "certificate_required": True,
            },
        ]
    }
)
MARKET: Market = parse_market(
    {
        "id": "shiling",
        "name": "狮岭镇零工市场",
        "centre": {"lat": 23.46, "lon": 113.16},
        "bounds": {"south": 23.40, "west": 113.10, "north": 23.52, "east": 113.22},
        "station": [{"id": "hall", "name": "狮岭零工驿站", "lat": 23.455, "lon": 113.165}],
        "skills": ["loading", "cleaning"],
    },
    SKILLS,
)
BOUNDS = MARKET.bounds
RULES = Rules()  # floors: 23.70 yuan an hour, 120 yuan a day


def id_with_check(first17: str) -> str:
    """First 17 characters + the ISO 7064 MOD 11-2 check character."""
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(first17))
    check = (12 - total % 11) % 11
    return first17 + ("X" if check == 10 else str(check))


CREDIT_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def credit_with_check(first17: str) -> str:
    """First 17 characters + the GB 32100 mod-31 check character."""
    total = sum(CREDIT_CHARSET.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    return first17 + CREDIT_CHARSET[(31 - total % 31) % 31]


def refusal(call: Callable[[], object]) -> tuple[str, str | None]:
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.code, caught.value.field


# --- the independent check functions agree with published examples --------------------------


@pytest.mark.parametrize("number", ["11010519491231002X", "440114199001011235"])
def test_id_check_helper_matches_published(number: str) -> None:
    """The test's own ID check agrees with GB 11643's example and the SPEC's sample."""
    assert id_with_check(number[:17]) == number


@pytest.mark.parametrize(
    "code",
    ["91350100M000100Y43", "91440114MA5D8K3P27", "9144030071526726XG", "914403001922038216"],
)
def test_credit_check_helper_matches_published(code: str) -> None:
    """The test's own credit-code check agrees with GB 32100's example and published codes."""
    assert credit_with_check(code[:17]) == code


# --- exact_fields -----------------------------------------------------------------------------


def test_exact_fields_returns_body() -> None:
    """A body with its required and some optional keys comes back as is."""
    body = {"a": 1, "b": 2}
    assert v.exact_fields(body, required={"a"}, optional={"b", "c"}) == body


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ([], "bad_body", None),
        (None, "bad_body", None),
        ("{}", "bad_body", None),
        ({}, "required", "a"),
        ({"b": 1}, "required", "a"),
        ({"a": 1, "z": 1, "y": 1}, "unknown_field", "y"),
        ({"titel": 1}, "unknown_field", "titel"),
    ],
)
def test_exact_fields_refuses(body: object, code: str, field: str | None) -> None:
    """Non-objects, missing keys and unknown keys are refused, an unknown key first."""
    assert refusal(lambda: v.exact_fields(body, required={"a"}, optional={"b"})) == (code, field)


def test_exact_fields_nested_names_are_dotted() -> None:
    """Keys of a nested object are named under it."""
    assert refusal(
        lambda: v.exact_fields({"x": 1}, required=set(), optional=set(), field="wage")
    ) == ("unknown_field", "wage.x")
    assert refusal(lambda: v.exact_fields(3, required=set(), optional=set(), field="wage")) == (
        "bad_type",
        "wage",
    )


# --- phone ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("13812345678", "13812345678"),
        (" 13812345678 ", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("19912345678", "19912345678"),
    ],
)
def test_phone_accepts(value: str, expected: str) -> None:
    """Mainland mobile numbers pass, with spaces and dashes removed."""
    assert v.phone(value) == expected


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("12812345678", "bad_phone"),
        ("23812345678", "bad_phone"),
        ("1381234567", "bad_phone"),
        ("138123456789", "bad_phone"),
        ("+8613812345678", "bad_phone"),
        ("8613812345678", "bad_phone"),
        ("1381234567a", "bad_phone"),
        ("１３８１２３４５６７８", "bad_phone"),
        ("", "bad_phone"),
        (13812345678, "bad_type"),
        (None, "bad_type"),
        (True, "bad_type"),
    ],
)
def test_phone_refuses(value: object, code: str) -> None:
    """Anything but 11 ASCII digits starting 13-19 is refused, naming the field."""
    assert refusal(lambda: v.phone(value, "contact")) == (code, "contact")


# --- id_number --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("11010519491231002X", "11010519491231002X"),
        ("11010519491231002x", "11010519491231002X"),
        (" 440114199001011235 ", "440114199001011235"),
        (id_with_check("44011419000101123"), id_with_check("44011419000101123")),
        (id_with_check("44011420000229123"), id_with_check("44011420000229123")),
        (id_with_check("44011420261122123"), id_with_check("44011420261122123")),
    ],
)
def test_id_number_accepts(value: str, expected: str) -> None:
    """Valid numbers pass upper-cased, births from 1900-01-01 to today, leap days included."""
    assert v.id_number(value, today=TODAY) == expected


# Varying the sequence number reaches every one of the 11 check characters.
EVERY_ID_CHECK = sorted(
    {n[17]: n for n in (id_with_check(f"440114199001011{i:02d}") for i in range(100))}.values()
)


def test_every_id_check_character_is_reached() -> None:
    """The table below holds one number per check character, X and 0 included."""
    assert sorted(n[17] for n in EVERY_ID_CHECK) == sorted("0123456789X")


@pytest.mark.parametrize("number", EVERY_ID_CHECK)
def test_id_number_every_check_character(number: str) -> None:
    """Each check character is accepted where due and refused one position off."""
    assert v.id_number(number, today=TODAY) == number
    wrong = "0123456789X"[("0123456789X".index(number[17]) + 1) % 11]
    assert refusal(lambda: v.id_number(number[:17] + wrong, today=TODAY))[0] == "bad_id_number"


def _flip_check(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (_flip_check("440114199001011235"), "bad_id_number"),
        (_flip_check("11010519491231002X"), "bad_id_number"),
        ("44011419900101123", "bad_id_number"),
        ("4401141990010112355", "bad_id_number"),
        ("44011419900101123A", "bad_id_number"),
        ("4401141990X1011235", "bad_id_number"),
        (id_with_check("44011420261123123"), "bad_id_number"),  # born tomorrow
        (id_with_check("44011419900230123"), "bad_id_number"),  # 30 February
        (id_with_check("44011419000229123"), "bad_id_number"),  # 1900 was no leap year
        (id_with_check("44011419901301123"), "bad_id_number"),  # month 13
        (id_with_check("44011418991231123"), "bad_id_number"),  # before 1900
        (440114199001011235, "bad_type"),
        (None, "bad_type"),
    ],
)
def test_id_number_refuses(value: object, code: str) -> None:
    """Wrong check digits, shapes and birth dates that are unreal or in the future fail."""
    assert refusal(lambda: v.id_number(value, today=TODAY)) == (code, "id_number")


def test_id_number_default_today_refuses_far_future_birth() -> None:
    """Without ``today`` the real date bounds the birth date."""
    assert refusal(lambda: v.id_number(id_with_check("44011429991231123"))) == (
        "bad_id_number",
        "id_number",
    )


# --- credit_code ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("91350100M000100Y43", "91350100M000100Y43"),
        ("91440114MA5D8K3P27", "91440114MA5D8K3P27"),
        ("9144030071526726xg", "9144030071526726XG"),
        (" 914403001922038216 ", "914403001922038216"),
        (credit_with_check("Y1440114MA5D8K3P2"), credit_with_check("Y1440114MA5D8K3P2")),
    ],
)
def test_credit_code_accepts(value: str, expected: str) -> None:
    """Valid codes pass upper-cased and stripped."""
    assert v.credit_code(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "91440114MA5D8K3P28",  # wrong check character
        "91350100M000100Y44",
        "91440114MA5D8K3P2",  # 17 characters
        "91440114MA5D8K3P270",  # 19 characters
        "91440114MA5D8K3PI7",  # I is not in the charset
        "91440114MA5D8K3PO7",
        "91440114MA5D8K3PZ7",
        "91440114MA5D8K3PS7",
        "91440114MA5D8K3PV7",
        "91440114MA5D8K3P2-",
        credit_with_check("01440114MA5D8K3P2"),  # registration authority 0
        credit_with_check("H1440114MA5D8K3P2"),  # registration authority H
        credit_with_check("914A0114MA5D8K3P2"),  # region code with a letter
    ],
)
def test_credit_code_refuses(value: str) -> None:
    """Bad check characters, lengths, characters and authority or region codes fail."""
    assert refusal(lambda: v.credit_code(value, "org_code")) == ("bad_credit_code", "org_code")


# Varying one body character reaches every one of the 31 check characters.
EVERY_CREDIT_CHECK = [credit_with_check("91440114MA5D8K3P" + c) for c in CREDIT_CHARSET]


def test_every_credit_check_character_is_reached() -> None:
    """The table below holds one code per check character, 0 included."""
    assert sorted(c[17] for c in EVERY_CREDIT_CHECK) == sorted(CREDIT_CHARSET)


@pytest.mark.parametrize("code", EVERY_CREDIT_CHECK)
def test_credit_code_every_check_character(code: str) -> None:
    """Each check character is accepted where due and refused one position off."""
    assert v.credit_code(code) == code
    wrong = CREDIT_CHARSET[(CREDIT_CHARSET.index(code[17]) + 1) % 31]
    assert refusal(lambda: v.credit_code(code[:17] + wrong))[0] == "bad_credit_code"


def test_credit_code_refuses_non_string() -> None:
    """A number is not a credit code."""
    assert refusal(lambda: v.credit_code(914403001922038216)) == ("bad_type", "credit_code")


# --- coordinates ------------------------------------------------------------------------------


@pytest.mark.parametrize(("lat", "lon"), [(23.46, 113.16), (23.40, 113.10), (23.52, 113.22)])
def test_coordinates_accepts(lat: float, lon: float) -> None:
    """Points inside the bounds, edges included, pass as floats."""
    assert v.coordinates(lat, lon, BOUNDS) == (lat, lon)


def test_coordinates_ints_become_floats() -> None:
    """An integer coordinate is a number too."""
    out = v.coordinates(1, 2, type(BOUNDS)(south=0, west=0, north=5, east=5))
    assert out == (1.0, 2.0) and all(type(x) is float for x in out)


@pytest.mark.parametrize(
    ("lat", "lon", "code", "field"),
    [
        (True, 113.16, "bad_type", "lat"),
        ("23.46", 113.16, "bad_type", "lat"),
        (None, 113.16, "bad_type", "lat"),
        (math.nan, 113.16, "bad_type", "lat"),
        (23.46, math.inf, "bad_type", "lon"),
        (23.46, -math.inf, "bad_type", "lon"),
        (23.46, False, "bad_type", "lon"),
        (23.39, 113.16, "out_of_bounds", "lat"),
        (24.0, 113.16, "out_of_bounds", "lat"),
        (23.46, 113.23, "out_of_bounds", "lon"),
        (23.46, -113.16, "out_of_bounds", "lon"),
        (113.16, 23.46, "out_of_bounds", "lat"),  # swapped
    ],
)
def test_coordinates_refuses(lat: object, lon: object, code: str, field: str) -> None:
    """Non-numbers, NaN, infinities and points outside the market are refused."""
    assert refusal(lambda: v.coordinates(lat, lon, BOUNDS)) == (code, field)


def test_coordinates_prefix_names_field() -> None:
    """The prefix goes before lat and lon in the field name."""
    assert refusal(lambda: v.coordinates(23.46, 120.0, BOUNDS, prefix="site.")) == (
        "out_of_bounds",
        "site.lon",
    )


# --- money and the wage floor -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"amount": 300, "unit": "day"}, Money(30000, WageUnit.DAY)),
        ({"amount": 300.5, "unit": "day"}, Money(30050, WageUnit.DAY)),
        ({"amount": 23.7, "unit": "hour"}, Money(2370, WageUnit.HOUR)),  # 23.7*100 = 2369.99…
        ({"amount": 0.29, "unit": "piece"}, Money(29, WageUnit.PIECE)),
        ({"amount": 0.01, "unit": "piece"}, Money(1, WageUnit.PIECE)),
        ({"amount": 1_000_000, "unit": "day"}, Money(100_000_000, WageUnit.DAY)),
        ({"unit": "hour", "amount": 25.0}, Money(2500, WageUnit.HOUR)),
    ],
)
def test_money_accepts(value: object, expected: Money) -> None:
    """Yuan with up to 2 decimals become exact integer fen."""
    assert v.money(value, "wage") == expected


@pytest.mark.parametrize(
    ("value", "code", "field"),
    [
        (300, "bad_type", "wage"),
        (None, "bad_type", "wage"),
        ({"amount": 300}, "required", "wage.unit"),
        ({"unit": "day"}, "required", "wage.amount"),
        ({"amount": 300, "unit": "day", "currency": "CNY"}, "unknown_field", "wage.currency"),
        ({"amount": True, "unit": "day"}, "bad_type", "wage.amount"),
        ({"amount": "300", "unit": "day"}, "bad_type", "wage.amount"),
        ({"amount": math.nan, "unit": "day"}, "bad_type", "wage.amount"),
        ({"amount": math.inf, "unit": "day"}, "bad_type", "wage.amount"),
        ({"amount": 0, "unit": "day"}, "out_of_range", "wage.amount"),
        ({"amount": -5, "unit": "day"}, "out_of_range", "wage.amount"),
        ({"amount": 1_000_000.01, "unit": "day"}, "out_of_range", "wage.amount"),
        ({"amount": 10**30, "unit": "day"}, "out_of_range", "wage.amount"),
        ({"amount": 300.555, "unit": "day"}, "too_many_decimals", "wage.amount"),
        ({"amount": 0.1 + 0.2, "unit": "day"}, "too_many_decimals", "wage.amount"),
        ({"amount": 0.001, "unit": "piece"}, "too_many_decimals", "wage.amount"),
        ({"amount": 300, "unit": "month"}, "unknown_unit", "wage.unit"),
        ({"amount": 300, "unit": "DAY"}, "unknown_unit", "wage.unit"),
        ({"amount": 300, "unit": ["day"]}, "unknown_unit", "wage.unit"),
        ({"amount": 300, "unit": None}, "unknown_unit", "wage.unit"),
    ],
)
def test_money_refuses(value: object, code: str, field: str) -> None:
    """Bad shapes, bools, strings, non-positive, too large or too precise amounts are refused."""
    assert refusal(lambda: v.money(value, "wage")) == (code, field)


@pytest.mark.parametrize(
    "wage",
    [Money(2370, WageUnit.HOUR), Money(12000, WageUnit.DAY), Money(1, WageUnit.PIECE)],
)
def test_wage_at_floor_accepts(wage: Money) -> None:
    """Wages at the floor pass; piece rates have none."""
    v.wage_at_floor(wage, RULES, 8)


@pytest.mark.parametrize("wage", [Money(2369, WageUnit.HOUR), Money(11999, WageUnit.DAY)])
def test_wage_at_floor_refuses(wage: Money) -> None:
    """A fen below the hourly or daily floor is refused."""
    assert refusal(lambda: v.wage_at_floor(wage, RULES, 8, "min_wage")) == (
        "below_wage_floor",
        "min_wage",
    )


# --- times ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-22T18:00:00+08:00", datetime(2026, 11, 22, 18, tzinfo=CST)),
        ("2026-11-22T10:00:00Z", datetime(2026, 11, 22, 18, tzinfo=CST)),
        ("2026-11-22T10:00:00.5+00:00", datetime(2026, 11, 22, 18, 0, 0, 500000, tzinfo=CST)),
    ],
)
def test_timestamp_accepts(value: str, expected: datetime) -> None:
    """ISO 8601 with an offset or Z parses to the same instant, aware."""
    got = v.timestamp(value, "t")
    assert got == expected and got.tzinfo is not None


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("2026-11-22T18:00:00", "bad_time"),
        ("2026-11-22", "bad_time"),
        ("tomorrow", "bad_time"),
        ("2026-02-30T10:00:00+08:00", "bad_time"),
        ("2026-11-22T25:00:00+08:00", "bad_time"),
        ("", "bad_time"),
        (1_790_000_000, "bad_type"),
        (None, "bad_type"),
    ],
)
def test_timestamp_refuses(value: object, code: str) -> None:
    """Naive, date-only, impossible and non-string times are refused."""
    assert refusal(lambda: v.timestamp(value, "t")) == (code, "t")


@pytest.mark.parametrize(
    "when",
    [
        NOW,
        NOW - timedelta(minutes=5),
        NOW + timedelta(days=30),
        NOW.astimezone(UTC) + timedelta(hours=1),
    ],
)
def test_start_at_accepts(when: datetime) -> None:
    """From five minutes ago up to 30 days ahead, in any offset."""
    assert v.start_at(when.isoformat(), NOW) == when


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ((NOW - timedelta(minutes=5, seconds=1)).isoformat(), "in_the_past"),
        ((NOW - timedelta(days=1)).isoformat(), "in_the_past"),
        ((NOW + timedelta(days=30, seconds=1)).isoformat(), "too_far_ahead"),
        ("2026-11-22T10:00:00", "bad_time"),
    ],
)
def test_start_at_refuses(value: str, code: str) -> None:
    """Past, too distant and naive start times are refused."""
    assert refusal(lambda: v.start_at(value, NOW)) == (code, "start_at")


# --- counts and hours -------------------------------------------------------------------------


@pytest.mark.parametrize("value", [1, 3, 50])
def test_headcount_accepts(value: int) -> None:
    """Whole numbers 1 to 50 pass."""
    assert v.headcount(value) == value


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (0, "out_of_range"),
        (51, "out_of_range"),
        (-1, "out_of_range"),
        (True, "bad_type"),
        (3.0, "bad_type"),
        ("3", "bad_type"),
        (None, "bad_type"),
    ],
)
def test_headcount_refuses(value: object, code: str) -> None:
    """Zero, over 50, bools, floats and strings are refused."""
    assert refusal(lambda: v.headcount(value)) == (code, "headcount")


@pytest.mark.parametrize("value", [0.5, 8, 10.5, 0.25, 0.01, 24])
def test_duration_hours_accepts(value: float) -> None:
    """Above 0 up to 24 hours with at most 2 decimals passes, as a float."""
    got = v.duration_hours(value)
    assert got == value and type(got) is float


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (0, "out_of_range"),
        (-1, "out_of_range"),
        (24.01, "out_of_range"),
        (8.333, "too_many_decimals"),
        (True, "bad_type"),
        ("8", "bad_type"),
        (math.nan, "bad_type"),
        (math.inf, "bad_type"),
    ],
)
def test_duration_hours_refuses(value: object, code: str) -> None:
    """Zero, over a day, too precise and non-numbers are refused."""
    assert refusal(lambda: v.duration_hours(value)) == (code, "duration_hours")


# --- skills -----------------------------------------------------------------------------------

MANY_SKILLS = [f"s{i}" for i in range(12)]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["s1"], ("s1",)),
        (["s3", "s1"], ("s3", "s1")),
        (MANY_SKILLS[:10], tuple(MANY_SKILLS[:10])),
    ],
)
def test_skill_codes_accepts(value: list[str], expected: tuple[str, ...]) -> None:
    """Up to 10 distinct known codes pass in the order given."""
    assert v.skill_codes(value, MANY_SKILLS) == expected


@pytest.mark.parametrize(
    ("value", "code", "field"),
    [
        ([], "required", "skills"),
        ("s1", "bad_type", "skills"),
        (None, "bad_type", "skills"),
        ([1], "bad_type", "skills[0]"),
        (["s1", "welding"], "unknown_skill", "skills[1]"),
        (["s1", "s2", "s1"], "duplicate", "skills[2]"),
        (MANY_SKILLS[:11], "too_many", "skills"),
    ],
)
def test_skill_codes_refuses(value: object, code: str, field: str) -> None:
    """Empty, non-lists, unknown, repeated and too many codes are refused with their index."""
    assert refusal(lambda: v.skill_codes(value, MANY_SKILLS)) == (code, field)


# --- text, pin, otp ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [
        ("  张三 ", {}, "张三"),
        ("张" * 20, {}, "张" * 20),
        ("e\u0301", {}, "\u00e9"),  # NFC: one character, not two
        ("a\r\nb\tc", {"multiline": True}, "a\nb\tc"),
        (None, {"required": False}, ""),
        ("   ", {"required": False}, ""),
        ("ab", {"min_len": 2}, "ab"),
    ],
)
def test_text_accepts(value: object, kwargs: dict[str, Any], expected: str) -> None:
    """Strings are stripped and NFC-normalised; optional blanks become empty."""
    assert v.text(value, "name", max_len=20, **kwargs) == expected


@pytest.mark.parametrize(
    ("value", "kwargs", "code"),
    [
        (None, {}, "required"),
        ("", {}, "required"),
        ("  \t ", {}, "required"),
        ("张" * 21, {}, "too_long"),
        ("a", {"min_len": 2}, "too_short"),
        ("a\x00b", {}, "bad_text"),
        ("a\nb", {}, "bad_text"),
        ("a\x07b", {"multiline": True}, "bad_text"),
        ("abc\u202edcb", {}, "bad_text"),
        ("a\ud800", {}, "bad_text"),
        (5, {}, "bad_type"),
        (["x"], {"required": False}, "bad_type"),
    ],
)
def test_text_refuses(value: object, kwargs: dict[str, Any], code: str) -> None:
    """Missing, too long or short, control characters and non-strings are refused."""
    assert refusal(lambda: v.text(value, "name", max_len=20, **kwargs)) == (code, "name")


@pytest.mark.parametrize("value", ["1234", "000000", "12345"])
def test_pin_accepts(value: str) -> None:
    """4 to 6 digits, leading zeros kept."""
    assert v.pin(value) == value


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("123", "bad_pin"),
        ("1234567", "bad_pin"),
        ("12a4", "bad_pin"),
        ("１２３４", "bad_pin"),
        (1234, "bad_type"),
    ],
)
def test_pin_refuses(value: object, code: str) -> None:
    """Too short, too long, non-digit and numeric PINs are refused."""
    assert refusal(lambda: v.pin(value)) == (code, "pin")


def test_otp_code_accepts() -> None:
    """Six digits pass, leading zero kept."""
    assert v.otp_code("012345") == "012345"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("12345", "bad_code"),
        ("1234567", "bad_code"),
        (" 123456", "bad_code"),
        ("12345a", "bad_code"),
        (123456, "bad_type"),
    ],
)
def test_otp_code_refuses(value: object, code: str) -> None:
    """Anything but exactly six digits in a string is refused."""
    assert refusal(lambda: v.otp_code(value)) == (code, "code")


# --- worker profile ---------------------------------------------------------------------------

WORKER_BODY: dict[str, Any] = {
    "name": "张三",
    "skills": ["loading"],
    "min_wage": {"amount": 200, "unit": "day"},
    "id_number": "440114199001011235",
}


def parse_worker(**changes: Any) -> v.WorkerProfileDraft:
    body = {k: val for k, val in {**WORKER_BODY, **changes}.items() if val is not ...}
    return v.parse_worker_profile(body, skill_codes=MARKET.skills, today=TODAY)


def test_parse_worker_profile() -> None:
    """The SPEC's sample body parses to a typed draft."""
    assert parse_worker() == v.WorkerProfileDraft(
        name="张三",
        skills=("loading",),
        min_wage=Money(20000, WageUnit.DAY),
        id_number="440114199001011235",
    )


@pytest.mark.parametrize("absent", [..., None])
def test_parse_worker_profile_optional_fields(absent: object) -> None:
    """min_wage and id_number may be left out or null."""
    draft = parse_worker(min_wage=absent, id_number=absent)
    assert (draft.min_wage, draft.id_number) == (None, None)


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"name": ...}, "required", "name"),
        ({"name": "张" * 21}, "too_long", "name"),
        ({"skills": ...}, "required", "skills"),
        ({"skills": ["electrician"]}, "unknown_skill", "skills[0]"),  # not in this market
        ({"min_wage": {"amount": 200, "unit": "week"}}, "unknown_unit", "min_wage.unit"),
        ({"id_number": _flip_check("440114199001011235")}, "bad_id_number", "id_number"),
        ({"phone": "13812345678"}, "unknown_field", "phone"),
        ({"key_group": "veteran"}, "unknown_field", "key_group"),  # never self-declared
        ({"name": "", "skills": []}, "required", "name"),  # the first bad field is named
    ],
)
def test_parse_worker_profile_refuses(changes: dict[str, Any], code: str, field: str) -> None:
    """Each bad field of a worker's profile is named."""
    assert refusal(lambda: parse_worker(**changes)) == (code, field)


# --- employer profile -------------------------------------------------------------------------

EMPLOYER_BODY: dict[str, Any] = {
    "name": "李四",
    "org_name": "狮岭某皮具厂",
    "credit_code": "91440114MA5D8K3P27",
}


def parse_employer(**changes: Any) -> v.EmployerProfileDraft:
    body = {k: val for k, val in {**EMPLOYER_BODY, **changes}.items() if val is not ...}
    return v.parse_employer_profile(body)


def test_parse_employer_profile() -> None:
    """The SPEC's sample body parses to a typed draft."""
    assert parse_employer(credit_code="91440114ma5d8k3p27") == v.EmployerProfileDraft(
        name="李四", org_name="狮岭某皮具厂", credit_code="91440114MA5D8K3P27"
    )


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"name": ...}, "required", "name"),
        ({"name": " "}, "required", "name"),
        ({"org_name": ...}, "required", "org_name"),
        ({"org_name": "厂" * 61}, "too_long", "org_name"),
        ({"credit_code": ...}, "required", "credit_code"),
        ({"credit_code": "91440114MA5D8K3P28"}, "bad_credit_code", "credit_code"),
        ({"verified": True}, "unknown_field", "verified"),
    ],
)
def test_parse_employer_profile_refuses(changes: dict[str, Any], code: str, field: str) -> None:
    """Each bad field of an employer's profile is named."""
    assert refusal(lambda: parse_employer(**changes)) == (code, field)


def test_parse_employer_profile_refuses_non_object() -> None:
    """A body that is not an object is refused as a whole."""
    assert refusal(lambda: v.parse_employer_profile(["李四"])) == ("bad_body", None)


# --- check-in ---------------------------------------------------------------------------------

UNTIL = "2026-11-22T18:00:00+08:00"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"lat": 23.46, "lon": 113.16, "available_until": UNTIL},
            v.CheckinDraft(23.46, 113.16, None, datetime(2026, 11, 22, 18, tzinfo=CST)),
        ),
        ({"lat": 23.46, "lon": 113.16}, v.CheckinDraft(23.46, 113.16, None, None)),
        ({"station_id": "hall"}, v.CheckinDraft(23.455, 113.165, "hall", None)),
        (
            {"station_id": "hall", "lat": None, "available_until": None},
            v.CheckinDraft(23.455, 113.165, "hall", None),
        ),
    ],
)
def test_parse_checkin(body: dict[str, Any], expected: v.CheckinDraft) -> None:
    """A phone checks in at a point, a kiosk at its station (taking the station's place)."""
    assert v.parse_checkin(body, MARKET, NOW) == expected


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({}, "required", "lat"),
        ({"available_until": UNTIL}, "required", "lat"),
        ({"lat": 23.46}, "required", "lon"),
        ({"lon": 113.16}, "required", "lat"),
        ({"lat": 23.46, "lon": 113.16, "station_id": "hall"}, "mutually_exclusive", "station_id"),
        ({"lat": 30.0, "lon": 113.16}, "out_of_bounds", "lat"),
        ({"lat": 23.46, "lon": "113.16"}, "bad_type", "lon"),
        ({"station_id": "nowhere"}, "unknown_station", "station_id"),
        ({"station_id": 7}, "bad_type", "station_id"),
        (
            {"station_id": "hall", "available_until": NOW.isoformat()},
            "in_the_past",
            "available_until",
        ),
        (
            {"station_id": "hall", "available_until": "2026-11-22T18:00:00"},
            "bad_time",
            "available_until",
        ),
        ({"station_id": "hall", "worker_id": "w1"}, "unknown_field", "worker_id"),
    ],
)
def test_parse_checkin_refuses(body: dict[str, Any], code: str, field: str) -> None:
    """Neither or both places, a bad point, unknown station or past deadline are refused."""
    assert refusal(lambda: v.parse_checkin(body, MARKET, NOW)) == (code, field)


# --- job --------------------------------------------------------------------------------------

JOB_BODY: dict[str, Any] = {
    "title": "仓库搬货",
    "skills": ["loading"],
    "headcount": 3,
    "wage": {"amount": 300, "unit": "day"},
    "start_at": "2026-11-22T13:00:00+08:00",
    "duration_hours": 8,
    "lat": 23.47,
    "lon": 113.15,
    "address": "狮岭镇某路1号",
    "description": "搬运皮具成品\n自带手套",
}


def parse_job(**changes: Any) -> v.JobDraft:
    body = {k: val for k, val in {**JOB_BODY, **changes}.items() if val is not ...}
    return v.parse_job(body, MARKET, NOW)


def test_parse_job() -> None:
    """The SPEC's sample job parses to a typed draft."""
    assert parse_job() == v.JobDraft(
        title="仓库搬货",
        skills=("loading",),
        headcount=3,
        wage=Money(30000, WageUnit.DAY),
        start_at=datetime(2026, 11, 22, 13, tzinfo=CST),
        duration_hours=8.0,
        lat=23.47,
        lon=113.15,
        address="狮岭镇某路1号",
        description="搬运皮具成品\n自带手套",
    )


@pytest.mark.parametrize("absent", [..., None, "  "])
def test_parse_job_description_optional(absent: object) -> None:
    """A missing, null or blank description is empty."""
    assert parse_job(description=absent).description == ""


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"title": ...}, "required", "title"),
        ({"title": "搬" * 41}, "too_long", "title"),
        ({"skills": ["welding"]}, "unknown_skill", "skills[0]"),
        ({"headcount": 0}, "out_of_range", "headcount"),
        ({"headcount": 2.5}, "bad_type", "headcount"),
        ({"wage": {"amount": 300}}, "required", "wage.unit"),
        ({"wage": {"amount": 100, "unit": "day"}}, "below_wage_floor", "wage"),
        ({"wage": {"amount": 20, "unit": "hour"}}, "below_wage_floor", "wage"),
        ({"start_at": "2026-11-21T13:00:00+08:00"}, "in_the_past", "start_at"),
        ({"start_at": "2027-11-22T13:00:00+08:00"}, "too_far_ahead", "start_at"),
        ({"start_at": "2026-11-22T13:00:00"}, "bad_time", "start_at"),
        ({"duration_hours": 25}, "out_of_range", "duration_hours"),
        ({"lat": 23.0}, "out_of_bounds", "lat"),
        ({"lon": math.nan}, "bad_type", "lon"),
        ({"address": ""}, "required", "address"),
        ({"address": "路" * 121}, "too_long", "address"),
        ({"description": "说" * 1001}, "too_long", "description"),
        ({"employer_id": "e1"}, "unknown_field", "employer_id"),
        ({"address": ...}, "required", "address"),
        ({"title": "", "headcount": 0, "lat": 0}, "required", "title"),  # first bad field
        ({"headcount": 0, "wage": {"amount": 1, "unit": "day"}}, "out_of_range", "headcount"),
    ],
)
def test_parse_job_refuses(changes: dict[str, Any], code: str, field: str) -> None:
    """Each bad field of a job is named, the first in SPEC order when several are bad."""
    assert refusal(lambda: parse_job(**changes)) == (code, field)


def test_parse_job_piece_rate_has_no_floor() -> None:
    """A piece rate of a few fen is not held to the hourly or daily floor."""
    assert parse_job(wage={"amount": 0.05, "unit": "piece"}).wage == Money(5, WageUnit.PIECE)


def test_errors_name_their_field_in_the_message() -> None:
    """Messages are sentences that name the field, for developers reading a 422."""
    with pytest.raises(ValidationError) as caught:
        parse_job(wage={"amount": 300.555, "unit": "day"})
    assert "wage.amount" in caught.value.message
