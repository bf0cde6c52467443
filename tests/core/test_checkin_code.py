"""The six-digit check-in code: its shape, that it is stable and keyed, and how it is matched."""

from __future__ import annotations

import pytest

from gigmarket.core import checkin_code as cc

KEY = b"k" * 32


def test_six_digits_stable_per_subject_and_key() -> None:
    """The same assignment and key give the same six digits; another key or id, others."""
    code = cc.digits("a_123", KEY)
    assert len(code) == 6 and code.isdigit()
    assert cc.digits("a_123", KEY) == code
    assert cc.digits("a_124", KEY) != code
    assert cc.digits("a_123", b"x" * 32) != code


def test_codes_spread_over_the_space() -> None:
    """A thousand assignments get (almost) a thousand codes, leading zeros kept."""
    codes = [cc.digits(f"a_{i}", KEY) for i in range(1000)]
    assert all(len(c) == 6 for c in codes)
    assert len(set(codes)) > 990


@pytest.mark.parametrize(("text", "typed"), [
    ("123456", True), ("012345", True), ("12345", False), ("1234567", False),
    ("12345a", False), ("GM1.a.1.x", False), ("١٢٣٤٥٦", False), ("123 456", False),
])
def test_what_counts_as_typed_digits(text: str, typed: bool) -> None:
    """Only six ASCII digits are a typed code; anything else is read as the QR's text."""
    assert cc.is_digits(text) is typed


def test_matches_only_its_own_subject() -> None:
    code = cc.digits("a_1", KEY)
    assert cc.matches(code, "a_1", KEY)
    assert not cc.matches(code, "a_2", KEY)
    assert not cc.matches(f"{(int(code) + 1) % 1_000_000:06d}", "a_1", KEY)
    assert cc.MAX_WRONG == 5
