"""Absence in the simulated day (issue 10): offers to a worker away from every screen go
unanswered; under the rules that keep the pair it is offered again after their return, never
while they are away; burnt, never again; a short offer is short only for the away."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from gigmarket.core.market import parse_market, parse_skills
from gigmarket.simulate.behaviour import Behaviour
from gigmarket.simulate.day import generate_day
from gigmarket.simulate.engine import SHORT_OFFER_S, Absence, Engine
from gigmarket.simulate.events import Event, EventKind
from gigmarket.simulate.policies import GigmarketRounds

SKILLS = parse_skills({"skill": [
    {"code": "loading", "zh": "搬运装卸", "en": "Loading", "icon": "📦"},
    {"code": "cleaning", "zh": "保洁", "en": "Cleaning", "icon": "🧹"},
]})
#: A compact market where most pairs are within reach.
MARKET = parse_market({
    "id": "testtown", "name": "测试镇零工市场", "centre": {"lat": 23.46, "lon": 113.15},
    "bounds": {"south": 23.43, "west": 113.12, "north": 23.49, "east": 113.18},
    "station": [{"id": "hall", "name": "大厅", "lat": 23.46, "lon": 113.15}],
    "rules": {"min_daily_wage_fen": 18960},
}, SKILLS)
DAY = generate_day(MARKET, SKILLS, seed=5, workers=120, slots=90)
AWAY = Behaviour(5, away_share=1.0)


def _play(rule: Absence) -> tuple[Engine, list[Event]]:
    engine = Engine(DAY, AWAY, GigmarketRounds(), absence=rule)
    return engine, engine.run()


def test_nobody_steps_away_unless_the_model_says_so() -> None:
    """The standard behaviour sends nobody away: every earlier figure stays as it was."""
    start, end = Behaviour(5).away_windows(np.arange(10), np.zeros(10), np.full(10, 3600.0))
    assert np.isnan(start).all() and np.isnan(end).all()


@pytest.mark.parametrize("rule", [Absence.KEEP, Absence.SHORT, Absence.PREFER])
def test_a_pair_expired_while_away_comes_back_only_after_the_return(rule: Absence) -> None:
    """Kept pairs are offered again, and only once the worker is back."""
    engine, log = _play(rule)
    made = [e for e in log if e.kind is EventKind.OFFER_MADE]
    away_expired = {(e.worker, e.job): e.t for e in log if e.kind is EventKind.OFFER_EXPIRED
                    and engine._away(e.worker, e.t)}
    assert engine.expired_away == len(away_expired) > 0
    again = [e for e in made if (e.worker, e.job) in away_expired
             and e.t > away_expired[(e.worker, e.job)]]
    assert again, "no pair expired while away was offered again"
    assert all(e.t >= engine.away_until[e.worker] for e in again)


def test_burnt_pairs_are_never_offered_twice() -> None:
    """Before issue 10 an expiry while away was a refusal: no pair is offered twice."""
    _, log = _play(Absence.BURN)
    pairs = Counter((e.worker, e.job) for e in log if e.kind is EventKind.OFFER_MADE)
    assert max(pairs.values()) == 1


def test_a_short_offer_goes_only_to_the_away() -> None:
    """Under SHORT an away worker's offer lasts SHORT_OFFER_S, a present one's the timeout."""
    engine, log = _play(Absence.SHORT)
    clocks = {engine._away(e.worker, e.t): round(e.until - e.t, 3)
              for e in log if e.kind is EventKind.OFFER_MADE}
    assert clocks == {True: SHORT_OFFER_S, False: engine.rules.offer_timeout_s}
