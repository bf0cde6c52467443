"""One dispatch round for one market: snapshot, plan, gate, record, publish."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import asdict, dataclass
from typing import Any

from gigmarket import protocol
from gigmarket.core.market import Market
from gigmarket.core.pool import (
    RoundPlan,
    neighbourhood,
    take_exclusions,
    take_jobs,
    take_workers,
)
from gigmarket.core.reach import widest_km
from gigmarket.dispatch.pools import MarketPools
from gigmarket.dispatch.solver import Solver
from gigmarket.services import views
from gigmarket.services.context import (
    Context,
    employer_recipient,
    market_event,
    market_recipient,
    worker_recipient,
)
from gigmarket.services.live_records import rebuild_market
from gigmarket.services.offers import job_views
from gigmarket.store import live as live_store
from gigmarket.store import rounds
from gigmarket.store.ledger import LedgerUnavailable, dumps, new_id

log = logging.getLogger("gigmarket.dispatch")


@dataclass(frozen=True, slots=True)
class RoundFigures:
    id: str
    at: float
    workers: int
    jobs: int
    pairs: int
    offers: int
    snapshot_ms: float
    candidates_ms: float
    solve_ms: float
    plan_ms: float
    write_ms: float
    total_ms: float
    #: Only the rows near what changed were looked at (see ``core.pool.neighbourhood``).
    local: bool = False


def _ms(t0: float, t1: float) -> float:
    return round((t1 - t0) * 1000, 2)


def _empty_plan(n_workers: int, n_jobs: int, any_workers: bool, any_jobs: bool) -> RoundPlan:
    """A local round with one side empty: the other side's reasons, no solve."""
    return RoundPlan(
        matches=[],
        worker_reasons=dict.fromkeys(range(n_workers),
                                     "no_job_in_reach" if any_jobs else "no_open_jobs"),
        job_reasons=dict.fromkeys(range(n_jobs),
                                  "no_worker_in_reach" if any_workers else "no_workers_waiting"),
        candidate_count=0, candidates_s=0.0, solve_s=0.0)


async def run_round(ctx: Context, market: Market, lease_token: str, solver: Solver,
                    pools: MarketPools | None = None, *, full: bool = False) -> RoundFigures:
    """One round. With the market's ``pools`` kept from earlier rounds (the dispatcher's),
    it reads only what changed and, unless ``full``, looks only near it (issue 13); without,
    it reads everything afresh."""
    pools = pools if pools is not None else MarketPools(market.id)
    try:
        return await _run_round(ctx, market, lease_token, solver, pools, full)
    except BaseException:
        # What changed since the last round was read but not acted on: look at everything
        # next time rather than lose it.
        pools.invalidate()
        raise


async def _run_round(ctx: Context, market: Market, lease_token: str, solver: Solver,
                     pools: MarketPools, full: bool) -> RoundFigures:
    t0 = time.perf_counter()
    m = market.id
    now = ctx.clock()
    given = await pools.refresh(ctx.live, market.skills, now)
    workers, jobs, exclusions = given.workers, given.jobs, given.exclusions
    near_km = widest_km(market.rules)
    local = not (full or given.fresh) and math.isfinite(near_km)
    if local:
        w_rows, j_rows = neighbourhood(workers, jobs, given.changed_workers,
                                       given.changed_jobs, near_km)
        exclusions = take_exclusions(exclusions, len(workers), len(jobs), w_rows, j_rows)
        changed_w = {workers.ids[r] for r in given.changed_workers.tolist()}
        changed_j = {jobs.ids[r] for r in given.changed_jobs.tolist()}
        workers, jobs = take_workers(workers, w_rows), take_jobs(jobs, j_rows)
    t1 = time.perf_counter()
    if local and not (len(workers) and len(jobs)):
        # Nothing came that could match: no hand-off to the solver.
        plan = _empty_plan(len(workers), len(jobs), len(given.workers) > 0,
                           len(given.jobs) > 0)
    else:
        plan = await solver.plan(workers, jobs, market.rules, now, exclusions)
    t2 = time.perf_counter()

    chosen = {new_id("of"): match for match in plan.matches}
    rules = market.rules
    # A worker away from every screen gets a short offer (issue 10): their slot is not held
    # for the full timeout, and the job is offered to them again when they are back.
    present = await ctx.live.present_among([workers.ids[mt.worker_row] for mt in chosen.values()])
    timeout_ms = int(rules.offer_timeout_s * 1000)
    away_ms = min(timeout_ms, int(rules.away_offer_timeout_s * 1000))
    items = [(oid, workers.ids[mt.worker_row], jobs.ids[mt.job_row],
              timeout_ms if workers.ids[mt.worker_row] in present else away_ms)
             for oid, mt in chosen.items()]
    made: list[str] = []
    expires_ms = 0
    if items:
        expires_ms, made = await ctx.live.create_offers(m, lease_token,
                                                        rules.offer_timeout_s, items)
    own_ms = {oid: ms for oid, _, _, ms in items}
    round_id = new_id("r")
    stale: list[str] = []
    try:
        async with ctx.ledger.transaction(now) as tx:
            made_items = [(oid, workers.ids[chosen[oid].worker_row], jobs.ids[chosen[oid].job_row])
                          for oid in made]
            job_rows = await rounds.rows_by_id(tx, "jobs",
                                               sorted({j for _, _, j in made_items}))
            worker_rows = await rounds.rows_by_id(tx, "workers",
                                                  sorted({w for _, w, _ in made_items}),
                                                  "id, state, market_id")
            # The gate judged by Redis; the ledger has the last word (a job cancelled or a
            # worker checked out between the snapshot and now, or a slot whose offer a web
            # process has closed in Redis but not yet in the ledger: a decline frees the slot
            # in Redis first, and a round in between would otherwise break the headcount CHECK
            # and lose the whole round).
            valid = []
            free = {j: int(r["headcount"]) - int(r["accepted"]) - int(r["pending"])
                    for j, r in job_rows.items()}
            for oid, w, j in made_items:
                jr, wr = job_rows.get(j), worker_rows.get(w)
                if (jr is None or jr["state"] != "open" or wr is None
                        or wr["state"] != "available" or wr["market_id"] != m
                        or free[j] <= 0):
                    stale.append(oid)
                else:
                    free[j] -= 1
                    valid.append((oid, w, j))
            def expires_at(oid: str) -> float:
                return (expires_ms - timeout_ms + own_ms[oid]) / 1000

            # Two clocks at most (present, away): each formatted once, not once per offer.
            expires_iso: dict[float, str | None] = {}

            await rounds.add_offers(tx, [
                (oid, j, w, m, round_id, now, expires_at(oid), chosen[oid].distance_km,
                 chosen[oid].travel_minutes, dumps(chosen[oid].terms))
                for oid, w, j in valid])
            per_job: dict[str, int] = {}
            for _, _, j in valid:
                per_job[j] = per_job.get(j, 0) + 1
            await rounds.add_pending(tx, per_job)
            await rounds.mark_offered(tx, [w for _, w, _ in valid])
            # The cost terms are in the offer row; the event names the pair and the round.
            await tx.event_many("offer.created", m, "dispatcher", [
                (f"offer:{oid}:created", oid, {"job_id": j, "worker_id": w, "round_id": round_id})
                for oid, w, j in valid
            ])
            employers = await rounds.rows_by_id(
                tx, "employers", sorted({job_rows[j]["employer_id"] for j in per_job}))

            def iso(t: float | None) -> str | None:
                return ctx.iso(t, m)

            messages: list[tuple[str, protocol.ServerMessage]] = []
            # A job offered to many is summarised once; each offer adds its worker's trip.
            summaries: dict[str, dict[str, Any]] = {}
            for oid, w, j in valid:
                mt = chosen[oid]
                if j not in summaries:
                    job = job_rows[j]
                    summaries[j] = views.job_summary(job, iso,
                                                     employer=employers[job["employer_id"]])
                summary = {**summaries[j],
                           **views.trip(mt.distance_km, mt.travel_minutes, market.rules)}
                at = expires_at(oid)
                if at not in expires_iso:
                    expires_iso[at] = iso(at)
                messages.append((worker_recipient(w),
                                 protocol.offer(oid, expires_iso[at], summary)))
            for j, view in (await job_views(ctx, tx, sorted(per_job), contact=True)).items():
                messages.append((employer_recipient(job_rows[j]["employer_id"]),
                                 protocol.job(view)))
            figures = RoundFigures(
                id=round_id, at=now, workers=len(workers), jobs=len(jobs),
                pairs=plan.candidate_count, offers=len(valid), snapshot_ms=_ms(t0, t1),
                candidates_ms=round(plan.candidates_s * 1000, 2),
                solve_ms=round(plan.solve_s * 1000, 2), plan_ms=_ms(t1, t2), write_ms=0.0,
                total_ms=0.0,
            )
            if valid:
                messages.append((market_recipient(m), market_event(
                    f"round:{round_id}", "round", iso(now),
                    {"offers": len(valid), "workers": len(workers), "jobs": len(jobs)})))
            await tx.message_many(messages)
            t3 = time.perf_counter()
            await rounds.log_round(tx, (round_id, m, now, len(workers), len(jobs),
                                        plan.candidate_count, len(valid),
                                        figures.candidates_ms, figures.solve_ms, _ms(t0, t3)))
    except asyncio.CancelledError:
        # Shutting down mid-round: nothing was recorded, so nothing was published. The offers
        # gated in Redis expire on their own clock and the sweeper drops them (see loop).
        log.warning("round %s for %s cancelled before it was recorded", round_id, m)
        raise
    except LedgerUnavailable:
        # Nothing was recorded, and the ledger cannot be read to rebuild from either: Redis
        # holds offers the ledger does not until the dispatcher rebuilds, once it is back.
        log.warning("round %s for %s not recorded: the ledger is unavailable", round_id, m)
        await ctx.live.unbuilt(m)
        raise
    except BaseException:
        # Redis holds offers the ledger does not: put the pools back in line with the truth.
        log.exception("round %s for %s failed to record; rebuilding from the ledger", round_id, m)
        await rebuild_market(ctx, m)
        raise
    await ctx.publish(tx)
    for oid in stale:
        try:
            await ctx.live.close_offer(m, oid)
        except Exception:
            log.warning("could not withdraw stale offer %s", oid)
    t4 = time.perf_counter()
    figures = RoundFigures(**{**asdict(figures), "write_ms": _ms(t2, t4),
                              "total_ms": _ms(t0, t4), "local": local})
    pools.offered([w for _, w, _ in valid], [j for _, _, j in valid])
    worker_reasons = {workers.ids[r]: reason for r, reason in plan.worker_reasons.items()}
    job_reasons = {jobs.ids[r]: reason for r, reason in plan.job_reasons.items()}
    if local:
        # A local round saw all of a changed row's partners in reach, and only part of the
        # others': it speaks for the changed rows, and for others only where what it saw
        # settles it. A worker it found a partner for has one (placed, or outranked: see
        # ``core.waiting.round_reason``), so any reason stored for them goes (issue 13).
        await live_store.note_round(
            ctx.live, m,
            {w: r for w, r in worker_reasons.items() if w in changed_w},
            [w for w in workers.ids if w not in worker_reasons],
            {j: r for j, r in job_reasons.items() if j in changed_j or r == "outranked"},
            asdict(figures))
    else:
        await ctx.live.set_round_result(m, worker_reasons, job_reasons, asdict(figures))
    return figures


def figures_json(f: RoundFigures) -> str:
    return dumps(asdict(f))
