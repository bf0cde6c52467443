"""Expanding reach in the simulator: only gigmarket's own rounds widen (issue 14)."""

from __future__ import annotations

import dataclasses

import pytest

from gigmarket.simulate.compare import online_policy
from gigmarket.simulate.engine import Engine
from gigmarket.simulate.events import EventKind
from gigmarket.simulate.metrics import measure
from tests.simulate.test_simulate import _EAGER, _one_pair_day


@pytest.mark.parametrize(("policy", "filled"), [
    ("gigmarket", 1), ("greedy", 0), ("first_come_circle", 0), ("lottery_circle", 0),
])
def test_a_waiting_job_reaches_beyond_the_circle_under_gigmarket_only(policy: str,
                                                                     filled: int) -> None:
    """A worker 5 km away (26 minutes, beyond the 15-minute circle) is sent once the job has
    waited, with the supplement in their pay; the same-reach baselines stay in the circle;
    the auditor judges the reach the job had at the accept and finds nothing."""
    day = _one_pair_day(5.0)
    rules = dataclasses.replace(day.market.rules, reach_expand_after_s=60.0,
                                max_reach_minutes=30.0, travel_supplement_fen_per_km=100)
    day = dataclasses.replace(day, market=dataclasses.replace(day.market, rules=rules))
    log = Engine(day, _EAGER, online_policy(policy, day, _EAGER)).run()
    m = measure(policy, day, log)
    assert (m.filled, m.filled_in_circle, m.violations) == (filled, 0, 0)
    if filled:
        made = next(e for e in log if e.kind is EventKind.OFFER_MADE)
        assert made.t >= float(day.jobs.posted[0]) + 60.0 + 2 * 300.0
        assigned = next(e for e in log if e.kind is EventKind.ASSIGNED)
        beyond_km = (5.0 - rules.reach_km) * rules.detour_factor
        assert assigned.pay_fen == pytest.approx(float(day.jobs.pay_fen[0]) + round(
            beyond_km * 100), abs=1)
        # Judged with the circle alone, that accept is beyond reach: the check is real.
        strict = measure(policy, day, log, reach=lambda j, t: rules.reach_km)
        assert strict.violation_counts["beyond_reach"] == 1
