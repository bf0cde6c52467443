"""The exchange's signing rules (SPEC 11.4) as tables: canonical strings, header parsing, and
which refusal a request gets, in which order."""

from __future__ import annotations

import pytest

from gigmarket.core.errors import AuthError, ValidationError
from gigmarket.core.exchange import (
    SignedHeaders,
    canonical,
    check,
    cursor,
    limit,
    parse_headers,
    platform_id,
)

EMPTY_SM3 = "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"
GOOD = {"X-GM-Platform": "gd-province", "X-GM-Timestamp": "1763870400",
        "X-GM-Nonce": "n0nce-0123456789ab", "X-GM-Signature": "a" * 64}


@pytest.mark.parametrize(
    ("method", "path", "ts", "nonce", "body_hash", "text"),
    [
        ("GET", "/api/v1/exchange/jobs", 1, "n" * 16, EMPTY_SM3,
         f"GET\n/api/v1/exchange/jobs\n1\n{'n' * 16}\n{EMPTY_SM3}"),
        ("get", "/api/v1/exchange/jobs?after=12&limit=50", "1763870400", "abc-def_ghi.jkl~m",
         "00" * 32,
         "GET\n/api/v1/exchange/jobs?after=12&limit=50\n1763870400\nabc-def_ghi.jkl~m\n"
         + "00" * 32),
        ("POST", "/api/v1/exchange/jobs?x=%E4%B8%AD", 9, "z" * 64, "ff" * 32,
         f"POST\n/api/v1/exchange/jobs?x=%E4%B8%AD\n9\n{'z' * 64}\n{'ff' * 32}"),
    ],
)
def test_canonical_string(method: str, path: str, ts: int | str, nonce: str, body_hash: str,
                          text: str) -> None:
    """Five lines joined by a bare newline, the method upper-cased, the path as sent."""
    assert canonical(method, path, ts, nonce, body_hash) == text


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"X-GM-Platform": None}, "X-GM-Platform"),
        ({"X-GM-Platform": "GD Province"}, "X-GM-Platform"),
        ({"X-GM-Timestamp": None}, "X-GM-Timestamp"),
        ({"X-GM-Timestamp": "-5"}, "X-GM-Timestamp"),
        ({"X-GM-Timestamp": "1.5"}, "X-GM-Timestamp"),
        ({"X-GM-Nonce": "n" * 15}, "X-GM-Nonce"),
        ({"X-GM-Nonce": "n" * 65}, "X-GM-Nonce"),
        ({"X-GM-Nonce": "has a space in it"}, "X-GM-Nonce"),
        ({"X-GM-Nonce": ""}, "X-GM-Nonce"),
        ({"X-GM-Signature": "A" * 64}, "X-GM-Signature"),
        ({"X-GM-Signature": "a" * 63}, "X-GM-Signature"),
        ({"X-GM-Signature": None}, "X-GM-Signature"),
    ],
)
def test_a_missing_or_malformed_header_is_a_bad_signature_naming_it(
    change: dict[str, str | None], field: str,
) -> None:
    """Each header is checked for presence and form before any key is looked up."""
    headers = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    with pytest.raises(AuthError) as e:
        parse_headers(headers)
    assert (e.value.code, e.value.field) == ("bad_signature", field)


def test_well_formed_headers_parse() -> None:
    """The four values, the timestamp as an integer; nonces of 16 and 64 characters pass."""
    assert parse_headers(GOOD) == SignedHeaders("gd-province", 1763870400, "n0nce-0123456789ab",
                                                "a" * 64)
    assert parse_headers({**GOOD, "X-GM-Nonce": "x" * 64}).nonce == "x" * 64


SIGNED = SignedHeaders("gd-province", 1000, "n" * 16, "b" * 64)


@pytest.mark.parametrize(
    ("expected", "now", "code", "field"),
    [
        ("b" * 64, 1000, None, None),
        ("b" * 64, 1300, None, None),
        ("b" * 64, 700, None, None),
        ("b" * 64, 1301, "stale_request", "X-GM-Timestamp"),
        ("b" * 64, 699, "stale_request", "X-GM-Timestamp"),
        ("c" * 64, 1000, "bad_signature", "X-GM-Signature"),
        # A wrong signature is named before a stale clock: strangers learn nothing more.
        ("c" * 64, 5000, "bad_signature", "X-GM-Signature"),
    ],
)
def test_signature_first_then_the_clock(expected: str, now: float, code: str | None,
                                        field: str | None) -> None:
    """Within 300 s either way, inclusive; the signature is judged before the timestamp."""
    if code is None:
        check(SIGNED, expected, now)
        return
    with pytest.raises(AuthError) as e:
        check(SIGNED, expected, now)
    assert (e.value.code, e.value.field) == (code, field)


@pytest.mark.parametrize(
    ("value", "parsed"),
    [(None, 0), ("", 0), ("0", 0), ("17", 17), ("9" * 18, int("9" * 18)),
     ("-1", None), ("1.0", None), ("abc", None), ("9" * 19, None), ("١٢", None)],
)
def test_cursor(value: str | None, parsed: int | None) -> None:
    """No cursor: from the start; else the digits of a ``next``; anything else names ``after``."""
    if parsed is not None:
        assert cursor(value) == parsed
        return
    with pytest.raises(ValidationError) as e:
        cursor(value)
    assert (e.value.code, e.value.field) == ("bad_cursor", "after")


@pytest.mark.parametrize(
    ("value", "parsed"),
    [(None, 100), ("1", 1), ("500", 500), ("0", None), ("501", None), ("1e2", None),
     ("0500", None), ("٣", None)],
)
def test_limit(value: str | None, parsed: int | None) -> None:
    """1 to 500, 100 when not given."""
    if parsed is not None:
        assert limit(value) == parsed
        return
    with pytest.raises(ValidationError) as e:
        limit(value)
    assert (e.value.code, e.value.field) == ("bad_limit", "limit")


@pytest.mark.parametrize(("value", "ok"), [("gd-province", True), ("p1.v2_x", True),
                                           ("GD", False), ("-x", False), ("", False),
                                           ("a" * 65, False), ("a b", False)])
def test_platform_id(value: str, ok: bool) -> None:
    """Lowercase letters, digits and ``_ . -``, 1 to 64, not starting with punctuation."""
    if ok:
        assert platform_id(value) == value
    else:
        with pytest.raises(ValidationError):
            platform_id(value)
