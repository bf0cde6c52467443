"""How far a job may reach for workers, as it waits (issue 14).

The service circle (就业服务圈, SPEC 1) is the target for most matches, not a wall: a job that
nobody inside the circle can take would otherwise go unfilled while a worker a few minutes
beyond its edge waits. So a market may let a job that is still unfilled
``reach_expand_after_s`` after posting widen its reach by ``reach_step_minutes`` of travel every
``reach_step_every_s``, up to ``max_reach_minutes``, the market's maximum. A worker sent
beyond the circle is paid a travel supplement for each road km beyond the circle's edge, at the
rate the employer agreed to when posting (the market's default,
``travel_supplement_fen_per_km``, unless the employer set another; 0 keeps the job inside the
circle).

A market may also hold the widening back until the job is about to go unfilled: with
``reach_expand_before_start_s`` a job widens only once it is also that close to the latest
moment a worker may arrive (its start plus ``arrival_grace_minutes``), and its steps count from
the later of the two moments. Widening on age alone sends the morning's first arrivals far
although jobs inside the circle would have taken them later; widening near the start reaches
out only for the jobs the circle has already had its chance at.

Everything here is a pure function of the job's age, the time left to its start and the rules,
so the round reads the reach from ``JobPool.posted_at``, ``JobPool.start_at`` and its own clock:
the dispatcher passes nothing new.
"""

from __future__ import annotations

import math

import numpy as np

from gigmarket.core.market import Rules
from gigmarket.core.pool import BOOL, F64


def widens(rules: Rules) -> bool:
    """Whether the market lets waiting jobs reach beyond the circle at all."""
    return (rules.reach_expand_after_s is not None
            and rules.max_reach_minutes > circle_minutes(rules))


def circle_minutes(rules: Rules) -> float:
    """Travel time at the edge of the service circle (``inf`` without one)."""
    return rules.travel_minutes(rules.reach_km)


def left_s(now: float, start_at: F64 | float, rules: Rules) -> F64:
    """Seconds from ``now`` to the latest arrival at each job (its start plus grace)."""
    return np.asarray(np.asarray(start_at, np.float64) + rules.arrival_grace_minutes * 60.0
                      - now, np.float64)


def reach_minutes(age_s: F64 | float, rules: Rules, left: F64 | float | None = None) -> F64:
    """Travel minutes a job unfilled for ``age_s`` may reach: the circle, then one step per
    ``reach_step_every_s`` after ``reach_expand_after_s``, at most ``max_reach_minutes``.

    ``left``: seconds to the job's latest arrival (:func:`left_s`), which a market with
    ``reach_expand_before_start_s`` needs: the steps then count from the later of the two
    moments, so a job far from its start stays inside the circle however long it waits."""
    age = np.asarray(age_s, np.float64)
    circle = circle_minutes(rules)
    if not widens(rules):
        return np.full(age.shape, circle)
    assert rules.reach_expand_after_s is not None
    waited = age - rules.reach_expand_after_s
    if rules.reach_expand_before_start_s is not None:
        if left is None:
            raise ValueError("this market widens near the start: pass the time left")
        waited = np.minimum(waited, rules.reach_expand_before_start_s
                            - np.asarray(left, np.float64))
    steps = np.where(waited >= 0, np.floor(waited / rules.reach_step_every_s) + 1, 0.0)
    return np.asarray(np.minimum(circle + steps * rules.reach_step_minutes,
                                 rules.max_reach_minutes), np.float64)


def widest_km(rules: Rules) -> float:
    """The farthest any job of the market may ever reach: a round that looks only near what
    changed must look this far, or a job already widened would never meet the worker beyond
    the circle who just checked in."""
    if not widens(rules):
        return rules.reach_km
    return max(rules.reach_km,
               rules.max_reach_minutes / 60.0 * rules.speed_kmh / rules.detour_factor)


def reach_km(age_s: F64 | float, rules: Rules, may_widen: BOOL | None = None,
             left: F64 | float | None = None) -> F64:
    """Straight-line km a job may reach (``Rules.reach_km`` while it is young, or when its
    employer declined a supplement: ``may_widen`` False); ``left`` as for
    :func:`reach_minutes`."""
    minutes = reach_minutes(age_s, rules, left)
    km = minutes / 60.0 * rules.speed_kmh / rules.detour_factor
    # Never below the circle's own radius, which may be set in km rather than minutes.
    km = np.where(minutes <= circle_minutes(rules), rules.reach_km, km)
    if may_widen is not None:
        km = np.where(np.asarray(may_widen, np.bool_), km, rules.reach_km)
    return np.asarray(km, np.float64)


def may_leave_circle(waited_s: F64, rules: Rules) -> BOOL:
    """Which workers may be sent beyond the circle: those who have waited
    ``reach_worker_wait_s`` (everyone when it is unset)."""
    waited = np.asarray(waited_s, np.float64)
    if rules.reach_worker_wait_s is None:
        return np.ones(waited.shape, np.bool_)
    return np.asarray(waited >= rules.reach_worker_wait_s, np.bool_)


def beyond_circle_km(distance_km: F64 | float, rules: Rules) -> F64:
    """Road km of a trip beyond the circle's edge (0 inside it)."""
    extra = np.maximum(np.asarray(distance_km, np.float64) - rules.reach_km, 0.0)
    if not math.isfinite(rules.reach_km):
        extra = np.zeros_like(extra)
    return np.asarray(extra * rules.detour_factor, np.float64)


def supplement_fen(distance_km: F64 | float, rules: Rules,
                   per_km_fen: int | None = None) -> F64:
    """The travel supplement for a trip of ``distance_km`` (straight line), whole fen: the
    agreed rate per road km beyond the circle (the market's default rate when not given)."""
    rate = rules.travel_supplement_fen_per_km if per_km_fen is None else per_km_fen
    return np.asarray(np.round(beyond_circle_km(distance_km, rules) * rate), np.float64)
