"""Why a worker has no offer right now (``GET /me/why``), in words a person can act on.

A round explains the workers it left out (``core.matching.REASONS``); between rounds, and for
workers no round looks at (not checked in, at work, past the hour they gave), the reason comes
from their own state. :func:`reason` never returns ``None`` for a checked-in worker without a
pending offer (issue 10).
"""

from __future__ import annotations

from typing import Final

from gigmarket.core.matching import REASONS, REASONS_ZH
from gigmarket.core.model import WorkerState

STATE_REASONS: Final[dict[str, tuple[str, str]]] = {
    "not_checked_in": ("您还没有签到。请在自助机或手机上签到后等待派单。",
                       "You are not checked in. Check in at a kiosk or on your phone."),
    "offer_pending": ("您有一个派单等待回复。", "You have an offer waiting for your answer."),
    "in_assignment": ("您正在工作中，{until} 结束后会继续为您派单。",
                      "You are at work until {until}; offers resume after that."),
    "past_available_until": ("已过您设置的可工作时间，今天不再派单。",
                             "The time you said you are available until has passed."),
    "waiting_for_round": ("正在为您查找岗位，请稍候。", "Looking for work for you; wait a moment."),
}

#: Where the certificate reason says to go, when the market names a place.
TRAINING_ZH: Final = "可到{training}办理或咨询证书。"
TRAINING_EN: Final = "Ask {training} about getting one."


def round_reason(stored: str | None, *, round_at: float | None, since: float) -> str | None:
    """What the last round says of a waiting worker whose last change was at ``since``.

    A round stores a reason only for the workers no job could take; one it looked at and
    left without an offer had eligible jobs that went to others ("outranked"), which is
    derived here when someone asks rather than written for thousands every round (issue
    13). Every round after a change looks at the changed worker, so a round at or after
    ``since`` speaks for them; before it, no round has yet (``None``: waiting for one).
    """
    if round_at is None or round_at < since:
        return None
    return stored or "outranked"


def reason(state: WorkerState, *, round_reason: str | None, busy_until: float | None,
           available_until: float | None, now: float) -> str:
    """The one reason that applies now, most specific first."""
    if state is WorkerState.OFFLINE:
        return "not_checked_in"
    if state is WorkerState.OFFERED:
        return "offer_pending"
    if state is WorkerState.ASSIGNED:
        return "in_assignment"
    if available_until is not None and available_until <= now:
        return "past_available_until"
    if busy_until is not None and busy_until > now and round_reason is None:
        return "in_assignment"
    return round_reason or "waiting_for_round"


def explain(code: str, *, until: str | None = None, training: str = "") -> dict[str, str]:
    """``{"zh", "en"}`` for a reason code; ``until`` is the local HH:MM an assignment ends,
    ``training`` the market's training contact for a missing certificate."""
    if code in STATE_REASONS:
        zh, en = STATE_REASONS[code]
        hhmm = until or "--:--"
        return {"zh": zh.format(until=hhmm), "en": en.format(until=hhmm)}
    zh, en = REASONS_ZH.get(code, code), REASONS.get(code, code)
    if code == "certificate_required" and training:
        zh += TRAINING_ZH.format(training=training)
        en += " " + TRAINING_EN.format(training=training)
    return {"zh": zh, "en": en}
