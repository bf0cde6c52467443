"""The provincial exchange's request signing (SPEC 11.4), without the cryptography.

A request is signed over its canonical string::

    METHOD \\n PATH_WITH_QUERY \\n TIMESTAMP \\n NONCE \\n hex(SM3(body))

(no spaces around the newlines). The HMAC-SM3 itself is computed by the caller
(``gigmarket.credentials``); this module parses the headers, builds the canonical string and
decides, from the expected signature and the clock, which refusal applies and in what order:

1. a header missing or malformed, an unknown or revoked platform -> ``bad_signature``
2. the signature differs                                         -> ``bad_signature``
3. the timestamp is more than 300 s away from now                -> ``stale_request``
4. the nonce was seen in the last 10 minutes (checked in the store) -> ``replayed_nonce``

The signature is checked before the clock so that a stranger learns nothing from the answers,
and before the nonce so that a forged request cannot use up a real client's nonce.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from gigmarket.core.errors import AuthError, ValidationError

#: The schema name every feed answer carries.
SCHEMA: Final = "gigmarket.exchange.v1"
#: How far the request's clock may be from ours, either way.
MAX_SKEW_S: Final = 300
#: How long a nonce is remembered: longer than the whole window a timestamp is accepted in.
NONCE_TTL_S: Final = 600
#: Feed page sizes.
DEFAULT_LIMIT: Final = 100
MAX_LIMIT: Final = 500

PLATFORM: Final = "X-GM-Platform"
TIMESTAMP: Final = "X-GM-Timestamp"
NONCE: Final = "X-GM-Nonce"
SIGNATURE: Final = "X-GM-Signature"

_PLATFORM_ID: Final = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
_TIMESTAMP: Final = re.compile(r"[0-9]{1,12}")
#: Printable ASCII without spaces: it travels in a header and in the canonical string.
_NONCE: Final = re.compile(r"[\x21-\x7e]{16,64}")
_SIGNATURE: Final = re.compile(r"[0-9a-f]{64}")
_CURSOR: Final = re.compile(r"[0-9]{1,18}")


@dataclass(frozen=True, slots=True)
class SignedHeaders:
    platform: str
    timestamp: int
    nonce: str
    signature: str


def platform_id(value: str, field: str = "platform") -> str:
    """A platform's id as an operator types it: lowercase letters, digits, ``_ . -``."""
    if not _PLATFORM_ID.fullmatch(value):
        raise ValidationError("a platform id is 1-64 of a-z 0-9 _ . - (starting with a letter"
                              " or digit)", code="bad_platform_id", field=field)
    return value


def parse_headers(headers: Mapping[str, str]) -> SignedHeaders:
    """The four signing headers, each present and well-formed, else ``bad_signature`` naming
    the header. ``headers`` is looked up case-insensitively by the caller (Starlette does)."""
    values: dict[str, str] = {}
    for name in (PLATFORM, TIMESTAMP, NONCE, SIGNATURE):
        value = headers.get(name)
        if value is None or value == "":
            raise AuthError(f"the {name} header is required", code="bad_signature", field=name)
        values[name] = value
    checks = ((PLATFORM, _PLATFORM_ID, "a platform id"),
              (TIMESTAMP, _TIMESTAMP, "unix seconds"),
              (NONCE, _NONCE, "16 to 64 printable ASCII characters without spaces"),
              (SIGNATURE, _SIGNATURE, "64 lowercase hex characters"))
    for name, pattern, what in checks:
        if not pattern.fullmatch(values[name]):
            raise AuthError(f"{name} must be {what}", code="bad_signature", field=name)
    return SignedHeaders(platform=values[PLATFORM], timestamp=int(values[TIMESTAMP]),
                         nonce=values[NONCE], signature=values[SIGNATURE])


def canonical(method: str, path_with_query: str, timestamp: int | str, nonce: str,
              body_hash_hex: str) -> str:
    """The string that is signed. ``path_with_query`` is exactly as sent on the request line
    (percent-encoding kept, ``?query`` only when there is one)."""
    return f"{method.upper()}\n{path_with_query}\n{timestamp}\n{nonce}\n{body_hash_hex}"


def check(signed: SignedHeaders, expected_signature: str, now: float) -> None:
    """Refuse unless the signature matches and the timestamp is fresh (the nonce is the
    store's to check, after this)."""
    if not hmac.compare_digest(signed.signature, expected_signature):
        raise AuthError("the signature does not match the request", code="bad_signature",
                        field=SIGNATURE)
    if abs(now - signed.timestamp) > MAX_SKEW_S:
        raise AuthError(f"the timestamp is more than {MAX_SKEW_S} s from the server's clock",
                        code="stale_request", field=TIMESTAMP)


def cursor(value: str | None, field: str = "after") -> int:
    """A feed cursor: the decimal string of a change's number; none means from the start."""
    if value is None or value == "":
        return 0
    if not _CURSOR.fullmatch(value):
        raise ValidationError("a cursor is a string of up to 18 digits, as given in 'next'",
                              code="bad_cursor", field=field)
    return int(value)


def limit(value: str | None, field: str = "limit") -> int:
    if value is None or value == "":
        return DEFAULT_LIMIT
    if not (value.isascii() and value.isdigit() and len(value) <= 3
            and 1 <= int(value) <= MAX_LIMIT):
        raise ValidationError(f"limit must be a whole number from 1 to {MAX_LIMIT}",
                              code="bad_limit", field=field)
    return int(value)
