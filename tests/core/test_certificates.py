"""Certificates, pure (issue 10): what a declaration may be, when it needs a manager again,
and which skills a certificate covers at a given instant."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from gigmarket.core.certificates import (
    CertificateState,
    Declared,
    Held,
    certified_at,
    lacking,
    needs_review,
    parse_declared,
    qualifying,
    valid_until,
)
from gigmarket.core.errors import ValidationError
from gigmarket.core.market import Contacts, parse_market, parse_skills

SKILLS = ("loading", "electrician", "welder")
TODAY = date(2026, 11, 23)
CST = ZoneInfo("Asia/Shanghai")


def _card(**over: object) -> dict[str, object]:
    return {"skill": "electrician", "number": "T440114199001011235",
            "expires_on": "2027-05-01", **over}


@pytest.mark.parametrize(("value", "field", "code"), [
    ("electrician", "certificates", "bad_type"),
    ([1], "certificates[0]", "bad_type"),
    ([_card(skill="astronaut")], "certificates[0].skill", "unknown_skill"),
    ([_card(), _card()], "certificates[1].skill", "duplicate"),
    ([_card(number="")], "certificates[0].number", "required"),
    ([_card(number="  ")], "certificates[0].number", "required"),
    ([_card(number="ab")], "certificates[0].number", "bad_certificate_number"),
    ([_card(number="x" * 41)], "certificates[0].number", "bad_certificate_number"),
    ([_card(number="T44<script>")], "certificates[0].number", "bad_certificate_number"),
    ([_card(number=12345)], "certificates[0].number", "bad_type"),
    ([_card(expires_on="2026-11-22")], "certificates[0].expires_on", "certificate_expired"),
    ([_card(expires_on="2027-02-29")], "certificates[0].expires_on", "bad_date"),
    ([_card(expires_on="2027-5-1")], "certificates[0].expires_on", "bad_date"),
    ([_card(expires_on="tomorrow")], "certificates[0].expires_on", "bad_date"),
    ([{"skill": "electrician", "number": "T4401"}], "certificates[0].expires_on", "required"),
    ([_card(photo="x")], "certificates[0].photo", "unknown_field"),
    ([_card(skill=s) for s in SKILLS] * 5, "certificates", "too_many"),
])
def test_a_bad_declaration_names_its_field(value: object, field: str, code: str) -> None:
    """Each way a declaration can be wrong is refused with the field and a stable code."""
    with pytest.raises(ValidationError) as e:
        parse_declared(value, skill_codes=SKILLS, today=TODAY)
    assert (e.value.field, e.value.code) == (field, code)


def test_a_good_declaration_is_parsed_and_today_still_counts() -> None:
    """A card expiring today may be declared: it counts until the day ends."""
    out = parse_declared([_card(expires_on="2026-11-23", number=" T-4401/12 ")],
                         skill_codes=SKILLS, today=TODAY)
    assert out == (Declared("electrician", "T-4401/12", date(2026, 11, 23)),)


@pytest.mark.parametrize(("before", "review"), [
    (None, True),
    (Held("electrician", "T1", date(2027, 5, 1), CertificateState.VERIFIED), False),
    (Held("electrician", "T2", date(2027, 5, 1), CertificateState.VERIFIED), True),
    (Held("electrician", "T1", date(2027, 6, 1), CertificateState.VERIFIED), True),
    (Held("electrician", "T1", date(2027, 5, 1), CertificateState.REJECTED), False),
])
def test_only_another_card_needs_a_manager_again(before: Held | None, review: bool) -> None:
    """Same number and date keep the state (verified or rejected); anything else is pending."""
    assert needs_review(Declared("electrician", "T1", date(2027, 5, 1)), before) is review


def test_a_verified_certificate_counts_until_the_end_of_its_day_locally() -> None:
    """Only verified ones qualify; each until local midnight after its expiry day."""
    held = [Held("electrician", "T1", date(2026, 11, 23), CertificateState.VERIFIED),
            Held("welder", "W1", date(2027, 1, 1), CertificateState.PENDING),
            Held("loading", "L1", date(2027, 1, 1), CertificateState.REJECTED)]
    until = qualifying(held, CST)
    end = datetime(2026, 11, 24, 0, 0, tzinfo=CST).timestamp()
    assert until == {"electrician": end} == {"electrician": valid_until(date(2026, 11, 23), CST)}
    assert certified_at(until, end - 1) == ["electrician"]
    assert certified_at(until, end) == []
    assert lacking(["electrician", "welder"], until, end - 1) == ["welder"]
    assert lacking(["electrician"], until, end) == ["electrician"]
    assert lacking([], until, end) == []


def _market(**extra: object) -> dict[str, object]:
    return {"id": "m", "name": "市场", "centre": {"lat": 23.46, "lon": 113.16},
            "bounds": {"south": 23.40, "west": 113.10, "north": 23.52, "east": 113.22},
            "skills": ["electrician"], **extra}


def test_a_market_names_where_to_get_a_certificate_and_its_desk_phone() -> None:
    """``[contacts]`` is optional, parsed and shown; a misspelt key stops the start."""
    skills = parse_skills({"skill": [{"code": "electrician", "zh": "电工", "en": "Electrician",
                                      "icon": "bolt", "certificate_required": True}]})
    assert parse_market(_market(), skills).contacts == Contacts()
    market = parse_market(_market(contacts={"training": "培训中心", "desk_phone": "020-1"}),
                          skills)
    assert market.contacts == Contacts(training="培训中心", desk_phone="020-1")
    assert market.as_json()["contacts"] == {"training": "培训中心", "desk_phone": "020-1"}
    with pytest.raises(ValidationError) as e:
        parse_market(_market(contacts={"trainnig": "x"}), skills)
    assert e.value.field == "contacts.trainnig"
