"""The live records dispatch reads, built from ledger rows; and rebuilding a market's pools.

One function per record kind, used by check-in, posting, approval and the rebuild alike, so the
pools rebuilt after a Redis loss are exactly the pools the running server would have had.
"""

from __future__ import annotations

import json
from typing import Any

from gigmarket.core.certificates import qualifying
from gigmarket.core.market import Skill
from gigmarket.core.model import Money, WageUnit, hourly_fen
from gigmarket.services.context import Context
from gigmarket.store import assignments as assignment_store
from gigmarket.store import certificates as cert_store
from gigmarket.store import employers, pools
from gigmarket.store import jobs as job_store
from gigmarket.store.ledger import Row, Tx

#: Assignment states that occupy the worker's time.
BUSY_STATES = ("accepted", "checked_in")
#: Assignment states that count as work given (for fairness).
EARNING_STATES = ("accepted", "checked_in", "completed", "paid", "disputed")


def agreed_pay_fen(wage_fen: int, unit: str, start_at: float, end_at: float) -> float:
    """What an assignment pays, for the fairness term; piece work counts as nothing known."""
    if unit == WageUnit.HOUR.value:
        return wage_fen * (end_at - start_at) / 3600
    if unit == WageUnit.DAY.value:
        return float(wage_fen)
    return 0.0


async def worker_record(
    q: Tx | Any, ctx: Context, row: Row, now: float
) -> dict[str, Any]:
    """The live record of a checked-in worker (``q`` is a Tx or the Ledger: both read)."""
    market_id = row["market_id"]
    day_start = ctx.day_start(market_id, now)
    assignments = await assignment_store.of_worker_since(q, row["id"], now, day_start)
    busy = [[a["start_at"], a["end_at"]] for a in assignments
            if a["state"] in BUSY_STATES and a["end_at"] > now]
    earned = sum(
        agreed_pay_fen(a["wage_fen"], a["wage_unit"], a["start_at"], a["end_at"])
        for a in assignments if a["state"] in EARNING_STATES and a["created_at"] >= day_start
    )
    min_hourly = 0.0
    if row["min_wage_fen"] is not None:
        h = hourly_fen(Money(row["min_wage_fen"], WageUnit(row["min_wage_unit"])))
        # A piece-rate minimum cannot be compared with hourly pay: no filter from it.
        min_hourly = h or 0.0
    rating = row["rating_sum"] / row["rating_count"] if row["rating_count"] else 3.0
    return {
        "lat": row["lat"],
        "lon": row["lon"],
        "skills": json.loads(row["skills"]),
        # Skill -> until when its verified certificate counts; the round checks the instant.
        "certs": qualifying(await cert_store.held_by(q, row["id"]), ctx.tz(market_id)),
        "min_hourly_fen": min_hourly,
        # The worker's own longest trip (None: the market's reach alone).
        "max_travel_minutes": row["max_travel_minutes"],
        "available_until": row["available_until"],
        "waiting_since": row["checked_in_at"],
        "key_group": row["key_group"] is not None,
        "rating": rating,
        "reliability": row["reliability"],
        "earned_today_fen": earned,
        "busy": busy,
        "name": row["name"],
    }


def job_record(job: Row, employer: Row, skills: dict[str, Skill]) -> dict[str, Any]:
    """The live record of an open job, with what an offer message shows."""
    codes = json.loads(job["skills"])
    end_at = job["start_at"] + job["duration_hours"] * 3600
    hourly = hourly_fen(Money(job["wage_fen"], WageUnit(job["wage_unit"])), job["duration_hours"])
    e_rating = (employer["rating_sum"] / employer["rating_count"]
                if employer["rating_count"] else 3.0)
    return {
        "employer_id": job["employer_id"],
        "lat": job["lat"],
        "lon": job["lon"],
        "skills": codes,
        "certs_required": [c for c in codes if skills[c].certificate_required],
        "hourly_fen": hourly,
        "start_at": job["start_at"],
        "end_at": end_at,
        "posted_at": job["created_at"],
        "employer_rating": e_rating,
        "employer_reliability": employer["reliability"],
    }


async def refresh_employer_jobs(ctx: Context, employer_id: str) -> None:
    """Rewrite the live records of an employer's open jobs after its rating or reliability
    moved: offers show both, and both weigh in the matching cost."""
    employer = await employers.get(ctx.ledger, employer_id)
    if employer is None:
        return
    for job in await job_store.open_of_employer(ctx.ledger, employer_id):
        await ctx.live.replace_job_record(job["market_id"], job["id"],
                                          job_record(job, employer, ctx.settings.skills))


async def rebuild_market(ctx: Context, market_id: str) -> dict[str, int]:
    """Replace a market's live pools with what the ledger says (SPEC 8)."""
    ledger = ctx.ledger
    now = ctx.clock()
    workers: dict[str, tuple[dict[str, Any], str]] = {}
    for row in await pools.present_workers(ledger, market_id):
        workers[row["id"]] = (await worker_record(ledger, ctx, row, now), row["state"])
    jobs: dict[str, tuple[dict[str, Any], int, int, int]] = {}
    for row in await pools.dispatchable_jobs(ledger, market_id):
        employer = {"rating_sum": row["e_rating_sum"], "rating_count": row["e_rating_count"],
                    "reliability": row["e_reliability"]}
        record = job_record(row, employer, ctx.settings.skills)  # type: ignore[arg-type]
        jobs[row["id"]] = (record, row["headcount"], row["accepted"], row["pending"])
    pending = [
        (r["id"], r["worker_id"], r["job_id"], int(r["expires_at"] * 1000))
        for r in await pools.pending_offers(ledger, market_id)
    ]
    # Offers that expired while their worker was away too: those pairs are freed when the
    # worker comes back (services.presence.returned), not while they are away.
    pairs = await pools.offered_pairs(ledger, market_id)
    pairs += await pools.hired_pairs(ledger, market_id)
    # Blocks (either side) exclude every job of the employer, as the round's exclusions.
    pairs += await pools.blocked_pairs(ledger, market_id)
    # The reads above are separate snapshots, and web processes write meanwhile (a rebuild
    # runs while the market is live, after a FLUSHALL or a Redis restart). A worker read as
    # "offered" whose offer was answered before the offers were read would stay "offered" with
    # no offer left to expire: stuck for good (found by bench/faults.py). The offers were read
    # last, so they decide each worker's offer state and each job's pending count.
    holding: dict[str, int] = {}
    per_job: dict[str, int] = {}
    for _, w, j, _ in pending:
        holding[w] = 1
        per_job[j] = per_job.get(j, 0) + 1
    for wid, (record, state) in list(workers.items()):
        if state == "offered" and wid not in holding:
            workers[wid] = (record, "available")
        elif state == "available" and wid in holding:
            workers[wid] = (record, "offered")
    for jid, (record, head, acc, _) in list(jobs.items()):
        jobs[jid] = (record, head, acc, per_job.get(jid, 0))
    await ctx.live.rebuild(market_id, workers, jobs, pending, pairs)
    return {"workers": len(workers), "jobs": len(jobs), "pending_offers": len(pending)}
