"""The ways a market can hand out work, compared on the same day.

Every online policy sees the same snapshot each round and uses ``core.matching.eligible_pairs``
for who may take what: skills, certificates, wage, arrival by the start (plus grace, at the
market's speed and detour factor), availability, overlap and exclusions are the same for all.
Only the **reach** differs, and only where the policy being modelled has no service circle
(``POLICY_REACH``, applied by :func:`rules_for`, the one place it is decided):

- ``Reach.CIRCLE`` — the market's travel limit (就业服务圈), as gigmarket's dispatcher applies it.
- ``Reach.TOWN`` — no travel limit: anywhere inside the market's bounds. A WeChat group or an
  Instawork-style app broadcasts a job to every member and the worker decides; a US
  worker-centre lottery sends the drawn worker wherever the job is. Far jobs are still taken
  less often, because the shared behaviour model's acceptance falls with travel time, and
  nobody is sent to a job they cannot reach by its start.

- ``gigmarket`` — the server's own round: ``core.matching.plan_round`` every
  ``batch_interval_s``, timed offers (the code the dispatcher runs, not a copy of it).
- ``greedy`` — each round, jobs in posting order take their nearest eligible workers.
- ``first_come`` — the job is broadcast to every eligible worker and the first to claim it wins
  (a WeChat group; Instawork-style apps). Nobody weighs travel for the worker.
- ``lottery`` — a US worker-centre list: at 07:30 the workers present draw lots; later
  arrivals join the end of the list in arrival order; each job is offered down the list.
- ``first_come_circle`` and ``lottery_circle`` — the same two held to the market's circle:
  the honest comparison at equal reach (issue 14), beside the town-wide ones.
- ``hindsight`` — offline, knowing the whole day (see ``hindsight.py``): the upper bound
  under the market's rules (the circle), so for gigmarket and greedy.
- ``hindsight_town`` — the same bound without the circle: it bounds first-come and lottery.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Protocol

import numpy as np

from gigmarket.core import matching
from gigmarket.core.geo import haversine_km
from gigmarket.core.market import Market, Rules
from gigmarket.core.pool import F64, I64, Candidates, Exclusions, JobPool, WorkerPool

#: Short names, in the order reports list them.
POLICY_NAMES: Final = (
    "gigmarket", "greedy", "first_come_circle", "lottery_circle", "first_come", "lottery",
    "hindsight", "hindsight_town",
)

POLICY_LABELS: Final = {
    "gigmarket": ("零工市场智能派单", "gigmarket batched rounds"),
    "greedy": ("就近派单", "greedy nearest-first"),
    "first_come_circle": ("抢单（服务圈内）", "first-come claim, within the circle"),
    "lottery_circle": ("每日抽签（服务圈内）", "daily lottery, within the circle"),
    "first_come": ("抢单（群里先到先得，全镇）", "first-come claim, town-wide"),
    "lottery": ("每日抽签（全镇）", "daily lottery, town-wide"),
    "hindsight": ("事后最优（服务圈内上限）", "hindsight optimum, within the circle (bound)"),
    "hindsight_town": ("事后最优（全镇，不限服务圈）", "hindsight optimum, anywhere in town"),
}


class Reach(enum.StrEnum):
    """How far a policy may send a worker (see the module docstring)."""

    #: The market's service circle (``max_travel_minutes`` / ``max_distance_km``).
    CIRCLE = "circle"
    #: Anywhere inside the market's bounds; arrival by the start still applies.
    TOWN = "town"


#: Policies that play the market's own rules, expanding reach and late takes included
#: (``rules_for``).
WIDENING: Final = frozenset({"gigmarket"})

#: Each policy's reach: the one switch the baselines' eligibility turns on.
POLICY_REACH: Final = {
    "gigmarket": Reach.CIRCLE,
    "greedy": Reach.CIRCLE,
    "first_come_circle": Reach.CIRCLE,
    "lottery_circle": Reach.CIRCLE,
    "first_come": Reach.TOWN,
    "lottery": Reach.TOWN,
    "hindsight": Reach.CIRCLE,
    "hindsight_town": Reach.TOWN,
}

REACH_LABELS: Final = {
    Reach.CIRCLE: ("服务圈内", "within the service circle"),
    Reach.TOWN: ("全镇（不限服务圈）", "anywhere in town, no circle"),
}


def town_km(market: Market) -> float:
    """The longest straight line inside the market's bounds (its diagonal), plus a margin."""
    b = market.bounds
    diagonal = float(haversine_km(b.south, b.west, b.north, b.east)[()])
    # The pair search measures with a flat-earth formula (~1e-6 relative): stay clear of it.
    return diagonal * 1.001 + 0.01


def rules_for(reach: Reach, market: Market, *, widening: bool = False) -> Rules:
    """The market's rules with the travel limit ``reach`` asks for; everything else unchanged.

    Expanding reach (``core.reach``) and late takes (``Rules.late_take_s``) are the market's
    rules for gigmarket's own offers (``widening`` True); the baselines are played as the
    practices they model, and they and the bounds keep to their reach with neither.
    """
    if widening:
        rules = market.rules
    else:
        rules = dataclasses.replace(market.rules, reach_expand_after_s=None, late_take_s=0.0)
    if reach is Reach.CIRCLE:
        return rules
    return dataclasses.replace(rules, max_travel_minutes=None,
                               max_distance_km=town_km(market), reach_expand_after_s=None)


def circle_travel_minutes(rules: Rules) -> float:
    """Travel time at the edge of the service circle (``inf`` for a market without one)."""
    # The same grouping as core.matching's travel estimate, so an edge pair compares equal.
    return rules.reach_km * (rules.detour_factor / rules.speed_kmh * 60.0)

#: Seconds after midnight at which a lottery-run centre draws lots.
LOTTERY_DRAW_S: Final = 7.5 * 3600


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a round decides over: the pools, plus each row's index in the day."""

    now: float
    workers: WorkerPool
    jobs: JobPool
    exclusions: Exclusions
    worker_index: I64
    job_index: I64


@dataclass(frozen=True, slots=True)
class Picks:
    """A round's offers: pool rows and the pair's travel time."""

    worker_rows: I64
    job_rows: I64
    travel_minutes: F64

    @staticmethod
    def none() -> Picks:
        return Picks(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64))


class OfferPolicy(Protocol):
    name: str

    def choose(self, snap: Snapshot, rules: Rules) -> Picks: ...


class GigmarketRounds:
    """The dispatcher's round, called exactly as the server calls it."""

    name = "gigmarket"

    def choose(self, snap: Snapshot, rules: Rules) -> Picks:
        plan = matching.plan_round(snap.workers, snap.jobs, rules, snap.now, snap.exclusions)
        if not plan.matches:
            return Picks.none()
        return Picks(
            np.array([m.worker_row for m in plan.matches], np.int64),
            np.array([m.job_row for m in plan.matches], np.int64),
            np.array([m.travel_minutes for m in plan.matches], np.float64),
        )


def _down_the_list(snap: Snapshot, rules: Rules, rank: Callable[[Candidates], F64]) -> Picks:
    """Jobs in posting order each take their best-ranked eligible workers (one pass)."""
    cand, _, _ = matching.eligible_pairs(
        snap.workers, snap.jobs, rules, snap.now, snap.exclusions
    )
    if len(cand) == 0:
        return Picks.none()
    order = np.lexsort((cand.worker, rank(cand), cand.job))
    w_sorted, j_sorted, tr_sorted = cand.worker[order], cand.job[order], cand.travel_minutes[order]
    bounds = np.searchsorted(j_sorted, np.arange(len(snap.jobs) + 1))
    used = np.zeros(len(snap.workers), np.bool_)
    out_w: list[I64] = []
    out_j: list[I64] = []
    out_t: list[F64] = []
    # Posting order; ties by the day's job order.
    for job in np.lexsort((snap.job_index, snap.jobs.posted_at)):
        lo, hi = bounds[job], bounds[job + 1]
        ws = w_sorted[lo:hi]
        take = np.flatnonzero(~used[ws])[: int(snap.jobs.slots[job])]
        if len(take) == 0:
            continue
        used[ws[take]] = True
        out_w.append(ws[take])
        out_j.append(j_sorted[lo:hi][take])
        out_t.append(tr_sorted[lo:hi][take])
    if not out_w:
        return Picks.none()
    return Picks(np.concatenate(out_w), np.concatenate(out_j), np.concatenate(out_t))


class GreedyNearest:
    name = "greedy"

    def choose(self, snap: Snapshot, rules: Rules) -> Picks:
        return _down_the_list(snap, rules, lambda cand: cand.travel_minutes)


class DailyLottery:
    def __init__(self, places: F64, name: str = "lottery") -> None:
        self.name = name
        #: Place on the day's list per day worker row (lower is offered first).
        self.places = places

    def choose(self, snap: Snapshot, rules: Rules) -> Picks:
        places = self.places[snap.worker_index]
        return _down_the_list(snap, rules, lambda cand: places[cand.worker])

    @staticmethod
    def draw(arrive: F64, midnight: float, tickets: F64) -> F64:
        """The list: lots among those present at the draw, then later arrivals in order."""
        present = arrive <= midnight + LOTTERY_DRAW_S
        return np.where(present, tickets, 1.0 + (arrive - midnight) / 86400.0)


class FirstComeClaim:
    """Marker: the engine broadcasts instead of offering (see ``engine.Engine``).

    The first worker to claim wins, whoever saw the post first: how far they are plays no part
    in the race, only in whether they want the job (``Behaviour.accepts``).
    """

    def __init__(self, name: str = "first_come") -> None:
        self.name = name
