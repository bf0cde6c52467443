"""The hindsight optimum: the most slots anyone could have filled today, then the least travel.

Offline and omniscient: it knows every arrival, departure, posting and cancellation, and every
worker's answer to every job (the shared ``Behaviour`` draws). A pair is usable when

- ``core.matching.eligible_pairs`` allows it with the whole day's pools (skills, certificates,
  wage, hours, availability: the same rules as online), at the given ``Reach``: within the
  market's service circle (bounding gigmarket and greedy) or anywhere in town (bounding
  first-come and lottery, see ``policies.POLICY_REACH``);
- there is a moment both are in the market and the worker can still arrive in time:
  ``max(arrive, posted) < depart`` and ``max(arrive, posted) + travel <= start + grace``
  (the time rule of ``eligible_pairs``, at the earliest moment an online round could ask);
- the worker would say yes, and would not call it off later; the job is never cancelled.

Online, every kept assignment of a policy with the same reach is such a pair and a worker keeps
at most one a day, so a maximum assignment over these pairs bounds every such policy. The
circle's bound also caps any policy's fills *within the circle*, since those pairs are usable
under the circle's rules too. It is one min-cost max-flow (OR-Tools):
source → worker (1) → job (1, travel) → sink (headcount). It is not dispatch: it cannot run
live, so it does not go through ``plan_round``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from gigmarket.core import matching
from gigmarket.core.pool import F64, I64, Exclusions, JobPool, WorkerPool
from gigmarket.simulate.behaviour import Behaviour
from gigmarket.simulate.day import Day
from gigmarket.simulate.events import Event, EventKind
from gigmarket.simulate.policies import Reach, rules_for


@dataclass(frozen=True, slots=True)
class UsablePairs:
    worker: I64
    job: I64
    travel_minutes: F64
    #: The earliest moment the pair could be matched.
    at: F64


def usable_pairs(day: Day, behaviour: Behaviour, reach: Reach = Reach.CIRCLE) -> UsablePairs:
    """Every pair that a policy of this reach could have made into a kept assignment today."""
    W, J = day.workers, day.jobs
    rules = rules_for(reach, day.market)
    workers = WorkerPool(
        ids=W.ids, lat=W.lat, lon=W.lon, skills=W.skills, certs=W.certs,
        min_hourly_fen=W.min_hourly_fen, available_until=W.available_until,
        waited_s=np.zeros(len(W)), key_group=W.key_group, rating=W.rating,
        reliability=W.reliability, earned_today_fen=np.zeros(len(W)),
        busy_worker=np.zeros(0, np.int64), busy_start=np.zeros(0), busy_end=np.zeros(0),
    )
    jobs = JobPool(
        ids=J.ids, employer_ids=J.employer_ids, lat=J.lat, lon=J.lon, skills=J.skills,
        certs_required=J.certs_required, hourly_fen=J.hourly_fen, start_at=J.start,
        end_at=J.end, slots=J.headcount, posted_at=J.posted, employer_rating=J.employer_rating,
        employer_reliability=J.employer_reliability,
    )
    # At the day's opening the time rule passes for every pair; it is applied per pair below.
    cand, _, _ = matching.eligible_pairs(workers, jobs, rules, day.opens, Exclusions.none())
    w, j, travel = cand.worker, cand.job, cand.travel_minutes
    at = np.maximum(W.arrive[w], J.posted[j])
    grace = rules.arrival_grace_minutes * 60.0
    in_time = (at < W.depart[w]) & (at + travel * 60.0 <= J.start[j] + grace)
    ratio = J.hourly_fen[j] / W.min_hourly_fen[w]
    says_yes = behaviour.accepts(w, j, travel, ratio)
    calls_off, _ = behaviour.cancels_late(w, j)
    keep = in_time & says_yes & ~calls_off & ~np.isfinite(J.cancel_at[j])
    return UsablePairs(w[keep], j[keep], travel[keep], at[keep])


def best_assignment(pairs: UsablePairs, headcount: I64) -> I64:
    """Indices of the chosen pairs: most slots, then least total travel."""
    if len(pairs.worker) == 0:
        return np.zeros(0, np.int64)
    w_rows, w_node = np.unique(pairs.worker, return_inverse=True)
    j_rows, j_node = np.unique(pairs.job, return_inverse=True)
    nw, nj = len(w_rows), len(j_rows)
    source, sink = nw + nj, nw + nj + 1
    n_pairs = len(pairs.worker)
    tails = np.concatenate([np.full(nw, source), w_node.reshape(-1), nw + np.arange(nj)])
    heads = np.concatenate([np.arange(nw), nw + j_node.reshape(-1), np.full(nj, sink)])
    caps = np.concatenate([np.ones(nw + n_pairs, np.int64), headcount[j_rows].astype(np.int64)])
    costs = np.concatenate([
        np.zeros(nw, np.int64),
        np.rint(pairs.travel_minutes * 100).astype(np.int64),  # centiminutes
        np.zeros(nj, np.int64),
    ])
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), caps, costs
    )
    most = min(nw, int(caps[nw + n_pairs:].sum()))
    flow.set_node_supply(source, most)
    flow.set_node_supply(sink, -most)
    if flow.solve_max_flow_with_min_cost() != flow.OPTIMAL:
        raise RuntimeError("hindsight min-cost flow failed")
    pair_arcs = np.asarray(arcs, np.int32)[nw:nw + n_pairs]
    return np.flatnonzero(np.asarray(flow.flows(pair_arcs)) > 0).astype(np.int64)


def hindsight_log(day: Day, behaviour: Behaviour, reach: Reach = Reach.CIRCLE) -> list[Event]:
    """The optimum written as an event log, so the auditor and metrics read it like the rest."""
    W, J = day.workers, day.jobs
    pairs = usable_pairs(day, behaviour, reach)
    chosen = best_assignment(pairs, J.headcount)
    log: list[Event] = [Event(float(W.arrive[i]), EventKind.CHECKIN, worker=i)
                        for i in range(len(W))]
    log += [Event(float(J.posted[k]), EventKind.JOB_POSTED, job=k, count=int(J.headcount[k]),
                  start=float(J.start[k]), until=float(J.end[k])) for k in range(len(J))]
    log += [Event(float(J.cancel_at[k]), EventKind.JOB_CANCELLED, job=k)
            for k in np.flatnonzero(np.isfinite(J.cancel_at)).tolist()]
    w, j, travel, at = (pairs.worker[chosen], pairs.job[chosen], pairs.travel_minutes[chosen],
                        pairs.at[chosen])
    order = np.lexsort((w, at))
    absent = behaviour.no_shows(w, j, W.reliability[w], travel)
    for a, k in enumerate(order.tolist()):
        wk, jk = int(w[k]), int(j[k])
        log.append(Event(float(at[k]), EventKind.ASSIGNED, worker=wk, job=jk, assignment=a,
                         start=float(J.start[jk]), until=float(J.end[jk]),
                         travel_minutes=float(travel[k]), pay_fen=float(J.pay_fen[jk])))
        log.append(Event(max(float(J.start[jk]), float(at[k])),
                         EventKind.NO_SHOW if absent[k] else EventKind.CHECKED_IN,
                         worker=wk, job=jk, assignment=a))
    # A stable sort keeps each job's posting before anything that happens to it at once.
    log.sort(key=lambda e: e.t)
    return log
