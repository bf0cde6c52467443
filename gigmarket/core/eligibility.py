"""Eligibility judged again at the moment a worker accepts (issue 14).

A round checks every rule when it makes an offer (``core.matching.eligible_pairs``), but an
offer lives for up to ``offer_timeout_s``: a worker who answers late can no longer reach the
job by its start, though they could when it was offered. Skills, wage and reach cannot change
while the offer is pending, and certificates are checked apart (``core.certificates``), so
arrival is the rule that must be judged again; the server and the simulator both ask here.

A refused accept withdraws the offer rather than burning the pair: the worker did nothing
wrong, and the slot goes straight back to the next round.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from gigmarket.core.market import Rules

#: The error code of a refused late accept (zh and en strings in static/js/i18n.js).
TOO_LATE_TO_ARRIVE: Final = "too_late_to_arrive"


def seconds_to_spare(now: float, travel_minutes: float, start_at: float, rules: Rules) -> float:
    """How long before the latest arrival (start plus grace) the worker would arrive if they
    set off ``now``; negative when they would be late.

    The same arithmetic as ``core.matching``'s arrival mask (travel seconds against the time
    left), so a pair the round found just in time is judged the same way here.
    """
    left = start_at + rules.arrival_grace_minutes * 60.0 - now
    return left - travel_minutes * 60.0


def can_arrive(now: float, travel_minutes: float, start_at: float, rules: Rules) -> bool:
    """Whether a worker ``travel_minutes`` away, setting off ``now``, arrives in time."""
    return seconds_to_spare(now, travel_minutes, start_at, rules) >= 0.0


@dataclass(frozen=True, slots=True)
class AcceptRefusal:
    """Why an accept is refused, for the error the worker reads."""

    code: str
    late_by_s: float

    @property
    def message(self) -> str:
        minutes = max(1, round(self.late_by_s / 60.0))
        return (f"too late to reach the job by its start: you would arrive about {minutes} "
                "minute(s) after it; the job goes to a worker who can still make it")


def judge_accept(
    now: float, travel_minutes: float, start_at: float, rules: Rules
) -> AcceptRefusal | None:
    """``None`` when the accept may stand, else why not."""
    spare = seconds_to_spare(now, travel_minutes, start_at, rules)
    if spare >= 0.0:
        return None
    return AcceptRefusal(TOO_LATE_TO_ARRIVE, -spare)


def late_take_until(state: str, expires_at: float, rules: Rules) -> float | None:
    """Until when an offer may still be taken after it ran out (``Rules.late_take_s``).

    ``None`` when it never may: it did not run out (accepted, declined or withdrawn offers are
    settled answers), or the market turned late takes off. Whether a slot is still free and the
    worker can still get there is for the moment of the take, as for any claim.
    """
    if state != "expired" or rules.late_take_s <= 0:
        return None
    return expires_at + rules.late_take_s
