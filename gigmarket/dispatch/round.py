"""One dispatch round for one market: snapshot, plan, gate, record, publish."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import asdict, dataclass
from typing import Any

from gigmarket.core.market import Market
from gigmarket.dispatch.solver import Solver
from gigmarket.services import views
from gigmarket.services.context import (
    Context,
    employer_recipient,
    market_event,
    market_recipient,
    worker_recipient,
)
from gigmarket.services.live_pools import build_pools
from gigmarket.services.live_records import rebuild_market
from gigmarket.services.offers import job_views
from gigmarket.store.ledger import Row, dumps, new_id

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


def _ms(t0: float, t1: float) -> float:
    return round((t1 - t0) * 1000, 2)


async def _rows_by_id(q: Any, table: str, ids: list[str], columns: str = "*") -> dict[str, Row]:
    out: dict[str, Row] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT {columns} FROM {table} WHERE id IN ({marks})"
        for r in await q.all(sql, chunk):
            out[r["id"]] = r
    return out


async def run_round(ctx: Context, market: Market, lease_token: str, solver: Solver) -> RoundFigures:
    t0 = time.perf_counter()
    m = market.id
    now = ctx.clock()
    snap = await ctx.live.snapshot(m)
    workers, jobs, exclusions = build_pools(snap, market.skills, now)
    t1 = time.perf_counter()
    plan = await solver.plan(workers, jobs, market.rules, now, exclusions)
    t2 = time.perf_counter()

    chosen = {new_id("of"): match for match in plan.matches}
    items = [(oid, workers.ids[mt.worker_row], jobs.ids[mt.job_row]) for oid, mt in chosen.items()]
    made: list[str] = []
    expires_ms = 0
    if items:
        expires_ms, made = await ctx.live.create_offers(m, lease_token,
                                                        market.rules.offer_timeout_s, items)
    round_id = new_id("r")
    stale: list[str] = []
    try:
        async with ctx.ledger.transaction(now) as tx:
            made_items = [(oid, workers.ids[chosen[oid].worker_row], jobs.ids[chosen[oid].job_row])
                          for oid in made]
            job_rows = await _rows_by_id(tx, "jobs", sorted({j for _, _, j in made_items}))
            worker_rows = await _rows_by_id(tx, "workers", sorted({w for _, w, _ in made_items}),
                                            "id, state, market_id")
            # The gate judged by Redis; the ledger has the last word (a job cancelled or a
            # worker checked out between the snapshot and now).
            valid = []
            for oid, w, j in made_items:
                jr, wr = job_rows.get(j), worker_rows.get(w)
                if (jr is None or jr["state"] != "open" or wr is None
                        or wr["state"] != "available" or wr["market_id"] != m):
                    stale.append(oid)
                else:
                    valid.append((oid, w, j))
            expires_at = expires_ms / 1000
            await tx.executemany(
                "INSERT INTO offers (id, job_id, worker_id, market_id, round_id, created_at,"
                " expires_at, state, distance_km, travel_minutes, terms)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
                [(oid, j, w, m, round_id, now, expires_at, chosen[oid].distance_km,
                  chosen[oid].travel_minutes, dumps(chosen[oid].terms))
                 for oid, w, j in valid],
            )
            per_job: dict[str, int] = {}
            for _, _, j in valid:
                per_job[j] = per_job.get(j, 0) + 1
            await tx.executemany(
                "UPDATE jobs SET pending = pending + ?, updated_at = ? WHERE id = ?",
                [(n, now, j) for j, n in per_job.items()],
            )
            await tx.executemany(
                "UPDATE workers SET state = 'offered', updated_at = ? WHERE id = ?",
                [(now, w) for _, w, _ in valid],
            )
            # The cost terms are in the offer row; the event names the pair and the round.
            await tx.event_many("offer.created", m, "dispatcher", [
                (f"offer:{oid}:created", oid, {"job_id": j, "worker_id": w, "round_id": round_id})
                for oid, w, j in valid
            ])
            employers = await _rows_by_id(
                tx, "employers", sorted({job_rows[j]["employer_id"] for j in per_job}))

            def iso(t: float | None) -> str | None:
                return ctx.iso(t, m)

            messages: list[tuple[str, dict[str, Any]]] = []
            # A job offered to many is summarised once; each offer adds its worker's trip.
            summaries: dict[str, dict[str, Any]] = {}
            expires_iso = iso(expires_at)
            for oid, w, j in valid:
                mt = chosen[oid]
                if j not in summaries:
                    job = job_rows[j]
                    summaries[j] = views.job_summary(job, iso,
                                                     employer=employers[job["employer_id"]])
                summary = {**summaries[j], **views.trip(mt.distance_km, mt.travel_minutes)}
                messages.append((worker_recipient(w), {
                    "type": "offer", "offer_id": oid, "expires_at": expires_iso,
                    "job": summary}))
            for j, view in (await job_views(ctx, tx, sorted(per_job))).items():
                messages.append((employer_recipient(job_rows[j]["employer_id"]),
                                 {"type": "job", "job": view}))
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
            await tx.execute(
                "INSERT INTO rounds (id, market_id, at, workers, jobs, pairs, offers,"
                " candidates_ms, solve_ms, total_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (round_id, m, now, len(workers), len(jobs), plan.candidate_count, len(valid),
                 figures.candidates_ms, figures.solve_ms, _ms(t0, t3)),
            )
    except asyncio.CancelledError:
        # Shutting down mid-round: nothing was recorded, so nothing was published. The offers
        # gated in Redis expire on their own clock and the sweeper drops them (see loop).
        log.warning("round %s for %s cancelled before it was recorded", round_id, m)
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
                              "total_ms": _ms(t0, t4)})
    await ctx.live.set_round_result(
        m,
        {workers.ids[r]: reason for r, reason in plan.worker_reasons.items()},
        {jobs.ids[r]: reason for r, reason in plan.job_reasons.items()},
        asdict(figures),
    )
    return figures


def figures_json(f: RoundFigures) -> str:
    return dumps(asdict(f))
