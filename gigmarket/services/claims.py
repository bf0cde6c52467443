"""Claims (抢单): a job still unfilled ``claim_after_s`` after posting opens to any eligible
worker, first come first served (SPEC 4); and late takes: an offer that ran out may still be
taken for ``late_take_s`` while the job has a free slot (issue 14), as a claim of that one job.

A claim is judged by the very rules a round uses (``core.matching.eligible_pairs`` over the
worker's and the job's live records, with the round's exclusions, which hold blocks too), then
passes the live store's atomic gate (``job_claim.lua``: accepted + pending < headcount), then the
ledger re-checks under its write lock, where ``slots_within_headcount`` holds whatever the gate
said. If the ledger refuses what the gate allowed, the market's pools are rebuilt from it.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

from gigmarket import protocol
from gigmarket.core.eligibility import late_take_until
from gigmarket.core.errors import ConflictError, NotFoundError
from gigmarket.core.market import Market
from gigmarket.core.matching import REASONS, eligible_pairs
from gigmarket.core.model import JobState, Role, WorkerState
from gigmarket.services import offers as offer_service
from gigmarket.services import views
from gigmarket.services.auth import require
from gigmarket.services.context import Context, Principal, tell_market, worker_recipient
from gigmarket.services.live_pools import build_pools
from gigmarket.services.live_records import rebuild_market
from gigmarket.store import (
    assignments,
    blocks,
    employers,
    jobs,
    locks,
    offers,
    transitions,
    workers,
)
from gigmarket.store.ledger import Row

log = logging.getLogger("gigmarket.claims")


def is_claimable(job: Row, market: Market, now: float) -> bool:
    """Open, unfilled and posted at least ``claim_after_s`` ago (the boards' ``claimable``)."""
    return bool(job["state"] == JobState.OPEN.value
            and job["headcount"] - job["accepted"] - job["pending"] > 0
            and now - job["created_at"] >= market.rules.claim_after_s)


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether one worker may claim one job now, and if so how far it is."""

    eligible: bool
    reason: str | None = None
    distance_km: float = 0.0
    travel_minutes: float = 0.0


async def _judge(ctx: Context, market: Market, worker_id: str,
                 job_ids: list[str], *, offered_before: bool = False) -> dict[str, Verdict]:
    """Each job's verdict for this worker, by the round's own eligibility rules.

    ``offered_before``: the pair's own expired offer does not count against it (a late take).
    """
    now = ctx.clock()
    snap = await ctx.live.claim_snapshot(market.id, worker_id, job_ids)
    if offered_before:
        snap = dataclasses.replace(snap, offered_pairs=snap.offered_pairs
                                   - {f"{worker_id}|{j}" for j in job_ids})
    workers, jobs, exclusions = build_pools(snap, market.skills, now)
    out = {j: Verdict(False, "job_full") for j in job_ids}
    if len(workers) == 0:
        return {j: Verdict(False, "not_available") for j in job_ids}
    if len(jobs) == 0:
        return out
    cand, worker_reasons, _ = eligible_pairs(workers, jobs, market.rules, now, exclusions)
    for k in range(len(cand)):
        jid = jobs.ids[int(cand.job[k])]
        out[jid] = Verdict(True, None, float(cand.distance_km[k]), float(cand.travel_minutes[k]))
    # One worker: the reason the worker has no partner left is the reason for each job.
    reason = worker_reasons.get(0, "not_eligible")
    for jid in jobs.ids:
        if not out[jid].eligible:
            out[jid] = Verdict(False, reason)
    return out


async def _checked_in_worker(ctx: Context, principal: Principal, market_id: str) -> Row:
    require(principal, Role.WORKER)
    worker = await workers.get(ctx.ledger, principal.user_id)
    assert worker is not None
    if worker["market_id"] != market_id or worker["state"] == "offline":
        raise ConflictError("check in at this market first", code="not_checked_in",
                            field="market")
    return worker


async def claimable(ctx: Context, principal: Principal, market_id: str) -> dict[str, Any]:
    """The claimable jobs this worker is eligible for, soonest first."""
    market = ctx.market(market_id)
    worker = await _checked_in_worker(ctx, principal, market_id)
    now = ctx.clock()
    rows = await jobs.claimable_in(ctx.ledger, market_id, now - market.rules.claim_after_s)
    if not rows:
        return {"market_id": market_id, "jobs": []}
    verdicts = await _judge(ctx, market, worker["id"], [r["id"] for r in rows])
    blocked = await blocks.employers_blocked_by(ctx.ledger, worker["id"])
    by_id = await employers.of_ids(ctx.ledger, [r["employer_id"] for r in rows])
    out = []
    for r in rows:
        v = verdicts[r["id"]]
        if not v.eligible or r["employer_id"] in blocked:
            continue
        summary = views.job_summary(r, lambda t: ctx.iso(t, market_id),
                                    distance_km=v.distance_km, travel_minutes=v.travel_minutes,
                                    employer=by_id[r["employer_id"]])
        summary["open_slots"] = r["headcount"] - r["accepted"] - r["pending"]
        out.append(summary)
    return {"market_id": market_id, "jobs": out}


async def claim(ctx: Context, principal: Principal, job_id: str) -> dict[str, Any]:
    require(principal, Role.WORKER)
    job = await jobs.get(ctx.ledger, job_id)
    if job is None or job["state"] == JobState.PENDING_REVIEW.value:
        raise NotFoundError("no such job", field="job_id")
    market = ctx.market(job["market_id"])
    worker = await _checked_in_worker(ctx, principal, market.id)
    if job["state"] != JobState.OPEN.value:
        raise ConflictError(f"the job is {job['state']}", code=f"job_{job['state']}",
                            field="job_id")
    if ctx.clock() - job["created_at"] < market.rules.claim_after_s:
        raise ConflictError("this job is not open to claims yet", code="not_claimable_yet",
                            field="job_id")
    if await blocks.between(ctx.ledger, worker["id"], job["employer_id"]):
        raise ConflictError("this job is not open to you", code="blocked", field="job_id")
    verdict = (await _judge(ctx, market, worker["id"], [job_id]))[job_id]
    if not verdict.eligible:
        code = verdict.reason or "not_eligible"
        raise ConflictError(REASONS.get(code, "you cannot claim this job"), code=code,
                            field="job_id")
    await ctx.live.claim_job(market.id, worker["id"], job_id)
    return {"assignment": await _hire(ctx, market, worker, job_id, verdict)}


async def take_late(ctx: Context, principal: Principal, offer: Row) -> dict[str, Any]:
    """The worker takes an offer that ran out (issue 14): a slow walk to the kiosk need not
    cost the job. The slot was not held meanwhile, so this is a claim of that one job, judged
    and gated like any claim, only without waiting for the boards and with the pair's own
    expired offer not counted against it."""
    require(principal, Role.WORKER)
    market = ctx.market(offer["market_id"])
    until = late_take_until(offer["state"], offer["expires_at"], market.rules)
    if until is None or ctx.clock() > until:
        raise ConflictError("the offer has expired", code="offer_expired", field="offer_id")
    job_id = offer["job_id"]
    if await offers.latest_of_pair(ctx.ledger, job_id, principal.user_id) != offer["id"]:
        # Offered again since (after an absence) and answered: that answer stands.
        raise ConflictError("the offer has expired", code="offer_expired", field="offer_id")
    job = await jobs.get(ctx.ledger, job_id)
    worker = await _checked_in_worker(ctx, principal, market.id)
    if job is None or job["state"] != JobState.OPEN.value:
        state = job["state"] if job else "gone"
        raise ConflictError(f"the job is {state}", code=f"job_{state}", field="offer_id")
    if await blocks.between(ctx.ledger, worker["id"], job["employer_id"]):
        raise ConflictError("this job is not open to you", code="blocked", field="offer_id")
    verdict = (await _judge(ctx, market, worker["id"], [job_id], offered_before=True))[job_id]
    if not verdict.eligible:
        code = verdict.reason or "not_eligible"
        raise ConflictError(REASONS.get(code, "you cannot take this job"), code=code,
                            field="offer_id")
    await ctx.live.claim_job(market.id, worker["id"], job_id, offered_before=True)
    view = await _hire(ctx, market, worker, job_id, verdict, offer=offer)
    return {"offer": await offer_service.offer_view(ctx, offer), "assignment": view}


async def _hire(ctx: Context, market: Market, worker: Row, job_id: str, verdict: Verdict, *,
                offer: Row | None = None) -> dict[str, Any]:
    """The ledger's half of a claim or a late take, after the live gate let it through."""
    try:
        async with ctx.ledger.transaction(ctx.clock()) as tx:
            await tx.lock(locks.worker(worker["id"]))  # as an accept: the overlap check
            fresh = await jobs.get(tx, job_id)
            w = await workers.get(tx, worker["id"])
            assert fresh is not None and w is not None
            if fresh["state"] != JobState.OPEN.value:
                raise ConflictError(f"the job is {fresh['state']}",
                                    code=f"job_{fresh['state']}", field="job_id")
            if w["state"] != "available" or w["market_id"] != market.id:
                raise ConflictError("check in at this market first", code="not_checked_in",
                                    field="market")
            start = fresh["start_at"]
            end = start + fresh["duration_hours"] * 3600
            if await assignments.taken_or_clashing(tx, w["id"], job_id, start, end):
                raise ConflictError("you already have work at that time",
                                    code="overlapping_assignment", field="job_id")
            # The schema's slots_within_headcount refuses an overfill whatever the gate said.
            await jobs.take_slot(tx, job_id, pending=False)
            a_row = await assignments.create(
                tx, job=fresh, worker_id=w["id"], offer_id=offer["id"] if offer else None,
                travel_minutes=verdict.travel_minutes, via="late_take" if offer else "claim")
            assignment_id = a_row["id"]
            await transitions.move(tx, WorkerState.ASSIGNED, w["id"])
            # A late take is a claim of the one job (the daily reports count it as a placement).
            payload = {"assignment_id": assignment_id, "worker_id": w["id"],
                       "wage_fen": fresh["wage_fen"]}
            if offer:
                payload["late_take_of"] = offer["id"]
            await tx.event("job.claimed", market_id=market.id, actor=w["id"], subject=job_id,
                           payload=payload)
            view = await offer_service.assignment_view(ctx, a_row, tx)
            await tx.message(worker_recipient(w["id"]), protocol.assignment(view))
            await offer_service.tell_employer(ctx, tx, job_id)
            await tell_market(ctx, tx, market.id, "job.claimed", job_id=job_id,
                              title=fresh["title"],
                              travel_minutes=round(verdict.travel_minutes, 1))
            await offer_service.contact_shown(tx, a_row, fresh["employer_id"])
    except BaseException:
        log.warning("ledger refused the claim of %s by %s; rebuilding %s from the ledger",
                    job_id, worker["id"], market.id)
        await rebuild_market(ctx, market.id)
        raise
    await ctx.publish(tx)
    return view
