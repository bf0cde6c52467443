"""Privacy masks (SPEC 9) and the log-line redactor."""

from __future__ import annotations

import pytest

from gigmarket.core.privacy import mask_id_number, mask_name, mask_phone, redact


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812341234", "138****1234"),
        ("19900000000", "199****0000"),
        ("138123412345", "138*****2345"),
        ("12345678", "123*5678"),
        ("1234567", "*******"),
        ("123", "***"),
        ("", ""),
    ],
)
def test_mask_phone(phone: str, masked: str) -> None:
    """Keep the first 3 and last 4 digits when there is something between them, else all stars."""
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("440114199001011234", "4401**********1234"),
        ("11010519491231002X", "1101**********002X"),
        ("123456789", "1234*6789"),
        ("12345678", "********"),
        ("", ""),
    ],
)
def test_mask_id_number(number: str, masked: str) -> None:
    """Keep the first 4 and last 4 characters when there is something between, else all stars."""
    assert mask_id_number(number) == masked


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("欧阳娜娜", "欧***"),
        ("Li Si", "L****"),
        ("王", "王"),
        ("", ""),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    """The first character stays; every other becomes a star."""
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("line", "redacted"),
    [
        ("otp sent to 13812341234", "otp sent to 138****1234"),
        ("phone=13812341234&code=123456", "phone=138****1234&code=123456"),
        ("+8613812341234 and 8613812341234", "+86138****1234 and 86138****1234"),
        ("call 138-1234-5678 or 138 1234 5678", "call 138****5678 or 138****5678"),
        ("身份证440114199001011234号", "身份证4401**********1234号"),
        ("id 11010519491231002x ok", "id 1101**********002x ok"),
        (
            "worker 13812341234 id 440114199001011234",
            "worker 138****1234 id 4401**********1234",
        ),
        ("手机13912345678，请联系", "手机139****5678，请联系"),
        # Not personal numbers: left exactly as they are.
        ("code 123456 wage 300.50 yuan", "code 123456 wage 300.50 yuan"),
        ("ts 1790000000123", "ts 1790000000123"),
        ("order 1381234123", "order 1381234123"),
        ("order 138123412345", "order 138123412345"),
        ("not mobile 12812341234", "not mobile 12812341234"),
        ("card 6222021234567890123", "card 6222021234567890123"),
        ("seventeen 44011419900101123", "seventeen 44011419900101123"),
        ("already 138****1234 4401**********1234", "already 138****1234 4401**********1234"),
        ("", ""),
    ],
)
def test_redact(line: str, redacted: str) -> None:
    """Mobile numbers and ID numbers in free text are masked; other digit runs are not."""
    assert redact(line) == redacted


def test_redact_is_idempotent() -> None:
    """Redacting a redacted line changes nothing."""
    line = "worker 13812341234 id 440114199001011234 code 654321"
    assert redact(redact(line)) == redact(line)
