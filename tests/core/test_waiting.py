"""Why a worker has no offer (``GET /me/why``), pure (issue 10): never nothing for a checked-in
worker without an offer, the most specific reason first, and words a person can act on."""

from __future__ import annotations

import pytest

from gigmarket.core import waiting
from gigmarket.core.matching import REASONS
from gigmarket.core.model import WorkerState
from gigmarket.core.waiting import STATE_REASONS, explain, reason

NOW = 1_000_000.0
_W = WorkerState


@pytest.mark.parametrize(("state", "round_reason", "busy_until", "until", "expected"), [
    (_W.OFFLINE, None, None, None, "not_checked_in"),
    (_W.OFFLINE, "no_open_jobs", None, None, "not_checked_in"),
    (_W.OFFERED, None, None, None, "offer_pending"),
    (_W.ASSIGNED, None, NOW + 3600, None, "in_assignment"),
    (_W.ASSIGNED, None, None, None, "in_assignment"),
    (_W.AVAILABLE, None, None, None, "waiting_for_round"),
    (_W.AVAILABLE, "certificate_required", None, None, "certificate_required"),
    (_W.AVAILABLE, "no_job_in_reach", None, NOW + 60, "no_job_in_reach"),
    (_W.AVAILABLE, "no_job_in_reach", None, NOW, "past_available_until"),
    (_W.AVAILABLE, None, NOW + 60, None, "in_assignment"),
    (_W.AVAILABLE, "wage_below_minimum", NOW + 60, None, "wage_below_minimum"),
    (_W.AVAILABLE, None, NOW - 60, None, "waiting_for_round"),
])
def test_the_reason_that_applies_now(state: WorkerState, round_reason: str | None,
                                     busy_until: float | None, until: float | None,
                                     expected: str) -> None:
    """One reason per situation, from the worker's state first, then the last round."""
    assert reason(state, round_reason=round_reason, busy_until=busy_until,
                  available_until=until, now=NOW) == expected


@pytest.mark.parametrize(
    ("stored", "round_at", "since", "expected"),
    [
        (None, None, 100.0, None),  # no round yet
        ("no_job_in_reach", 99.0, 100.0, None),  # the round was before the change
        (None, 99.0, 100.0, None),
        ("no_job_in_reach", 100.0, 100.0, "no_job_in_reach"),  # the round saw the change
        (None, 150.0, 100.0, "outranked"),  # looked at, had jobs, placed behind others
    ],
)
def test_the_last_round_speaks_only_for_workers_it_looked_at(
        stored: str | None, round_at: float | None, since: float, expected: str | None) -> None:
    assert waiting.round_reason(stored, round_at=round_at, since=since) == expected


@pytest.mark.parametrize("code", [*STATE_REASONS, *REASONS])
def test_every_reason_has_words_in_both_languages(code: str) -> None:
    """No code reaches a person as a code."""
    text = explain(code, until="15:30")
    assert text["zh"] and text["en"] and text["zh"] != code and text["en"] != code


def test_the_assignment_end_and_the_training_contact_are_in_the_words() -> None:
    """The end of the work and where to get a certificate are said, when known."""
    assert "15:30" in explain("in_assignment", until="15:30")["zh"]
    text = explain("certificate_required", training="镇培训中心")
    assert "镇培训中心" in text["zh"] and "镇培训中心" in text["en"]
    assert "培训" not in explain("certificate_required")["zh"]
