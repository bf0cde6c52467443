"""The websocket wire format (SPEC 7), both directions, one typed message per kind.

Client messages are parsed here and nowhere else: unknown types and unknown or missing fields
are refused with a :class:`ProtocolError` naming the field, and the connection stays up.
"""

from __future__ import annotations

import json
from typing import Any, Literal, TypedDict

from gigmarket.core.errors import ValidationError

#: Close codes (4000–4999 are the application's).
CLOSE_AUTH = 4401
CLOSE_ORIGIN = 4403
CLOSE_SLOW = 4408
CLOSE_RATE = 4429

MAX_MESSAGE_BYTES = 4096


class ProtocolError(ValidationError):
    code = "bad_message"


# -- client -> server -------------------------------------------------------------------------

class Auth(TypedDict):
    type: Literal["auth"]
    token: str


class Resume(TypedDict):
    type: Literal["resume"]
    after: int


class Accept(TypedDict):
    type: Literal["accept"]
    offer_id: str


class Decline(TypedDict):
    type: Literal["decline"]
    offer_id: str


class Ping(TypedDict):
    type: Literal["ping"]


ClientMessage = Auth | Resume | Accept | Decline | Ping

_FIELDS: dict[str, dict[str, type]] = {
    "auth": {"token": str},
    "resume": {"after": int},
    "accept": {"offer_id": str},
    "decline": {"offer_id": str},
    "ping": {},
}
#: Optional fields per type (a manager's auth may name which of their markets to watch).
_OPTIONAL: dict[str, dict[str, type]] = {"auth": {"market": str}}


def parse_client(raw: str | bytes) -> ClientMessage:
    if len(raw) > MAX_MESSAGE_BYTES:
        raise ProtocolError("message too large", code="too_large")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ProtocolError("message is not JSON", code="bad_json") from None
    if not isinstance(data, dict):
        raise ProtocolError("message must be a JSON object", code="bad_message")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in _FIELDS:
        raise ProtocolError(f"unknown message type {kind!r}", code="unknown_type", field="type")
    required, optional = _FIELDS[kind], _OPTIONAL.get(kind, {})
    for name in sorted(set(data) - {"type"} - set(required) - set(optional)):
        raise ProtocolError(f"unknown field {name!r}", code="unknown_field", field=name)
    for name, typ in required.items():
        value = data.get(name)
        if value is None:
            raise ProtocolError(f"{name} is required", code="required", field=name)
        if not isinstance(value, typ) or isinstance(value, bool):
            raise ProtocolError(f"{name} must be a {typ.__name__}", code="bad_type", field=name)
        if isinstance(value, int) and value < 0:
            raise ProtocolError(f"{name} must not be negative", code="out_of_range", field=name)
    for name, typ in optional.items():
        if name in data and not isinstance(data[name], typ):
            raise ProtocolError(f"{name} must be a {typ.__name__}", code="bad_type", field=name)
    return data  # type: ignore[return-value]


# -- server -> client -------------------------------------------------------------------------

class Ready(TypedDict):
    type: Literal["ready"]
    seq: int
    recipient: str


class Snapshot(TypedDict):
    type: Literal["snapshot"]
    seq: int
    state: dict[str, Any]


class Error(TypedDict):
    type: Literal["error"]
    error: dict[str, Any]


class Pong(TypedDict):
    type: Literal["pong"]


def error(exc: ValidationError | Any) -> Error:
    return {"type": "error", "error": exc.as_dict()}
