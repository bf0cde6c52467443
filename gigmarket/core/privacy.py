"""Masks for personal data shown to anyone but its owner (SPEC 9), and a redactor for log lines.

``138****1234``, ``4401**********1234``, ``张*``: enough left to recognise one's own, too little
to call or impersonate someone.
"""

from __future__ import annotations

import re
from typing import Final

# Digit-run boundaries are ASCII digits on purpose: a number glued to a Chinese word
# ("身份证440114…号") is still a number, and a longer run (order ids, 19-digit bank cards,
# millisecond timestamps) is not a phone or an ID number and is left alone.
_ID_IN_TEXT: Final = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
# An optional +86/86 country code and the 3-4-4 spacing people type ("138 1234 5678").
_PHONE_IN_TEXT: Final = re.compile(
    r"(?<![0-9])(?P<cc>(?:\+?86)[ \-]?)?(?P<phone>1[3-9][0-9][ \-]?[0-9]{4}[ \-]?[0-9]{4})(?![0-9])"
)
_SEPARATORS: Final = re.compile(r"[ \-]")


def mask_phone(phone: str) -> str:
    """``13812341234`` -> ``138****1234``; too short to keep 3 + 4 digits: all stars."""
    if len(phone) < 8:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_id_number(number: str) -> str:
    """``440114199001011234`` -> ``4401**********1234``; too short to keep 4 + 4: all stars."""
    if len(number) < 9:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_name(name: str) -> str:
    """``张三`` -> ``张*``, ``Li Si`` -> ``L****``: the first character, a star for each other."""
    return name[:1] + "*" * (len(name) - 1)


def redact(text: str) -> str:
    """Mask every mobile number and resident ID number inside free text, for log lines."""
    text = _ID_IN_TEXT.sub(lambda m: mask_id_number(m.group()), text)
    return _PHONE_IN_TEXT.sub(
        lambda m: (m.group("cc") or "") + mask_phone(_SEPARATORS.sub("", m.group("phone"))), text
    )
