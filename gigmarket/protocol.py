"""The websocket wire format (SPEC 7), both directions, one typed message per kind.

Client messages are parsed here and nowhere else: unknown types and unknown or missing fields
are refused with a :class:`ProtocolError` naming the field, and the connection stays up.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

from gigmarket.core.errors import ValidationError
from gigmarket.core.limits import parse_json

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
        data = parse_json(raw)
    except ValidationError as e:
        raise ProtocolError(e.message, code=e.code) from None
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
#
# Every message the server sends is one of these (issue 11: a typed wire). A message stored for
# replay carries its recipient's ``seq``, given by the ledger when it is committed; a figure
# (``stats``) is stamped with the socket's last seq when sent. The builders below are the only
# places that spell a message out; ``tests/cluster/test_typed_wire.py`` checks that nothing
# else in the package does.

#: Streams: whose messages a socket reads (``worker:ID``, ``employer:ID``, ``market:ID``).
STREAMS = ("worker", "employer", "market")


def stream(kind: Literal["worker", "employer", "market"], ident: str) -> str:
    """A recipient's stream name: what a message is addressed to and what ``seq`` counts."""
    return f"{kind}:{ident}"


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


class Offer(TypedDict):
    """A worker's timed offer (SPEC 7): the job's summary and when the offer runs out."""

    type: Literal["offer"]
    offer_id: str
    expires_at: str | None
    job: dict[str, Any]
    seq: NotRequired[int]


class OfferClosed(TypedDict):
    """An offer is over: accepted, declined, expired or withdrawn."""

    type: Literal["offer_closed"]
    offer_id: str
    reason: str
    #: An offer that ran out may still be taken until then while a slot is free (issue 14,
    #: ``Rules.late_take_s``): ``POST /offers/{id}/accept`` takes it. Only with ``expired``.
    take_until: NotRequired[str]
    seq: NotRequired[int]


class Job(TypedDict):
    """The employer's live view of one of its jobs, whenever it changes."""

    type: Literal["job"]
    job: dict[str, Any]
    seq: NotRequired[int]


class Assignment(TypedDict):
    """The worker's view of one of their assignments, whenever it changes."""

    type: Literal["assignment"]
    assignment: dict[str, Any]
    seq: NotRequired[int]


class JobCancelled(TypedDict):
    type: Literal["job_cancelled"]
    job_id: str
    assignment_id: str
    seq: NotRequired[int]


class MarketEvent(TypedDict):
    """An entry of a market's live feed (managers): ``{id, at, type, payload}``."""

    id: str
    at: str | None
    type: str
    payload: dict[str, Any]


class Event(TypedDict):
    type: Literal["event"]
    event: MarketEvent
    seq: NotRequired[int]


class Stats(TypedDict):
    """A market's live figures, once a second while a manager watches; not stored."""

    type: Literal["stats"]
    stats: dict[str, Any]
    seq: NotRequired[int]


ServerMessage = (Ready | Snapshot | Error | Pong | Offer | OfferClosed | Job | Assignment
                 | JobCancelled | Event | Stats)

#: Every ``type`` the server sends, by its definition.
SERVER_MESSAGES: dict[str, type] = {
    "ready": Ready, "snapshot": Snapshot, "error": Error, "pong": Pong, "offer": Offer,
    "offer_closed": OfferClosed, "job": Job, "assignment": Assignment,
    "job_cancelled": JobCancelled, "event": Event, "stats": Stats,
}


def ready(seq: int, recipient: str) -> Ready:
    return {"type": "ready", "seq": seq, "recipient": recipient}


def snapshot(seq: int, state: dict[str, Any]) -> Snapshot:
    return {"type": "snapshot", "seq": seq, "state": state}


def error(exc: ValidationError | Any) -> Error:
    return {"type": "error", "error": exc.as_dict()}


def pong() -> Pong:
    return {"type": "pong"}


def offer(offer_id: str, expires_at: str | None, job: dict[str, Any]) -> Offer:
    return {"type": "offer", "offer_id": offer_id, "expires_at": expires_at, "job": job}


def offer_closed(offer_id: str, reason: str, take_until: str | None = None) -> OfferClosed:
    out: OfferClosed = {"type": "offer_closed", "offer_id": offer_id, "reason": reason}
    if take_until is not None:
        out["take_until"] = take_until
    return out


def job(view: dict[str, Any]) -> Job:
    return {"type": "job", "job": view}


def assignment(view: dict[str, Any]) -> Assignment:
    return {"type": "assignment", "assignment": view}


def job_cancelled(job_id: str, assignment_id: str) -> JobCancelled:
    return {"type": "job_cancelled", "job_id": job_id, "assignment_id": assignment_id}


def event(event_id: str, type_: str, at: str | None, payload: dict[str, Any]) -> Event:
    return {"type": "event", "event": {"id": event_id, "at": at, "type": type_,
                                       "payload": payload}}


def stats(figures: dict[str, Any]) -> Stats:
    return {"type": "stats", "stats": figures}
