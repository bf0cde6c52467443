"""The six-digit check-in code a person can read out and type (SPEC 11.2, issue 10).

Derived from the server's secret and the assignment's (or the job's) id, so nothing new is
stored and the slip, the phone and the server agree without asking each other. Guessing is held
off by the lockout after ``MAX_WRONG`` wrong tries (five chances in a million per assignment),
not by the length.
"""

from __future__ import annotations

import hashlib
import hmac
import re

#: Wrong typed codes an assignment tolerates before it locks (SPEC 11.2).
MAX_WRONG = 5

_DIGITS = re.compile(r"[0-9]{6}")


def digits(subject_id: str, key: bytes) -> str:
    """The six digits for an assignment (the worker's slip) or a job (the site's sign)."""
    mac = hmac.new(key, f"GM-digits.{subject_id}".encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(mac[:8], 'big') % 1_000_000:06d}"


def is_digits(code: str) -> bool:
    return _DIGITS.fullmatch(code) is not None


def matches(code: str, subject_id: str, key: bytes) -> bool:
    """Whether typed ``code`` is the six digits of ``subject_id`` (compared in constant time)."""
    return hmac.compare_digest(code, digits(subject_id, key))
