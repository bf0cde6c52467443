"""Offers after they are made: accept, decline, expire, withdraw; and the views around them.

Each transition passes the live store's atomic gate (a Lua script) first, then the ledger
re-checks and records it with its event and messages in one transaction, and only then is it
published. If the ledger refuses what the gate allowed, the market's pools are rebuilt from the
ledger, so Redis never keeps a state the ledger does not have.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from gigmarket.core.errors import ConflictError, DomainError, NotFoundError
from gigmarket.core.model import OfferState, Role
from gigmarket.services import site_code, views
from gigmarket.services.auth import require
from gigmarket.services.context import (
    Context,
    Principal,
    employer_recipient,
    tell_market,
    worker_recipient,
)
from gigmarket.services.live_records import rebuild_market
from gigmarket.store.ledger import Row, Tx, new_id

log = logging.getLogger("gigmarket.offers")

#: The site code stays valid this long after the job ends (late scans, paper slips).
CODE_GRACE_S = 6 * 3600


async def _job_and_employer(q: Tx | Any, job_id: str) -> tuple[Row, Row]:
    job = await q.one("SELECT * FROM jobs WHERE id = ?", (job_id,))
    if job is None:
        raise NotFoundError("no such job", field="job_id")
    employer = await q.one("SELECT * FROM employers WHERE id = ?", (job["employer_id"],))
    assert employer is not None
    return job, employer


async def offer_view(ctx: Context, row: Row, q: Tx | Any | None = None) -> dict[str, Any]:
    job, employer = await _job_and_employer(q or ctx.ledger, row["job_id"])
    return views.offer(row, job, employer, lambda t: ctx.iso(t, row["market_id"]))


async def assignment_view(ctx: Context, row: Row, q: Tx | Any | None = None) -> dict[str, Any]:
    job, employer = await _job_and_employer(q or ctx.ledger, row["job_id"])
    code = site_code.sign(row["id"], row["end_at"] + CODE_GRACE_S, ctx.settings.secret_key)
    grace_s = ctx.market(row["market_id"]).rules.no_show_grace_minutes * 60
    return views.assignment(row, job, employer, lambda t: ctx.iso(t, row["market_id"]),
                            qr=code, qr_svg=site_code.svg(code),
                            absent_after=row["start_at"] + grace_s)


def _iso_for(ctx: Context, market_id: str) -> views.Iso:
    return lambda t: ctx.iso(t, market_id)


async def job_views(ctx: Context, q: Tx | Any, job_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """JOB views for many jobs in two queries (a round touches hundreds at once)."""
    out: dict[str, dict[str, Any]] = {}
    ids = list(dict.fromkeys(job_ids))
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        marks = ",".join("?" * len(chunk))
        jobs = await q.all(f"SELECT * FROM jobs WHERE id IN ({marks})", chunk)
        workers = await q.all(
            "SELECT a.job_id, a.id AS assignment_id, a.worker_id, a.state, a.travel_minutes,"
            " w.name,"
            " w.rating_sum, w.rating_count FROM assignments a JOIN workers w"
            f" ON w.id = a.worker_id WHERE a.job_id IN ({marks})"
            " ORDER BY a.created_at", chunk,
        )
        by_job: dict[str, list[Row]] = {}
        for w in workers:
            by_job.setdefault(w["job_id"], []).append(w)
        for job in jobs:
            market_id = job["market_id"]
            out[job["id"]] = views.job_full(job, by_job.get(job["id"], []),
                                            _iso_for(ctx, market_id))
    return out


async def job_view(ctx: Context, q: Tx | Any, job_id: str) -> dict[str, Any]:
    found = await job_views(ctx, q, [job_id])
    if job_id not in found:
        raise NotFoundError("no such job", field="job_id")
    return found[job_id]


async def tell_employer(ctx: Context, tx: Tx, job_id: str) -> None:
    """The employer's live view of a job, sent whenever it changes (SPEC 7 ``job``)."""
    view = await job_view(ctx, tx, job_id)
    job = await tx.one("SELECT employer_id FROM jobs WHERE id = ?", (job_id,))
    assert job is not None
    await tx.message(employer_recipient(job["employer_id"]), {"type": "job", "job": view})


async def _own_offer(ctx: Context, principal: Principal, offer_id: str) -> Row:
    require(principal, Role.WORKER)
    row = await ctx.ledger.one("SELECT * FROM offers WHERE id = ?", (offer_id,))
    # Another worker's offer is reported as missing: its existence is not theirs to learn.
    if row is None or row["worker_id"] != principal.user_id:
        raise NotFoundError("no such offer", field="offer_id")
    return row


async def _refusal(ctx: Context, offer_id: str, gate_error: DomainError) -> DomainError:
    """Turn a gate refusal into the ledger's truth about the offer."""
    fresh = await ctx.ledger.one("SELECT state, expires_at FROM offers WHERE id = ?", (offer_id,))
    if fresh is None:
        return gate_error
    if fresh["state"] == OfferState.PENDING.value and fresh["expires_at"] <= ctx.clock():
        return ConflictError("the offer has expired", code="offer_expired", field="offer_id")
    if fresh["state"] != OfferState.PENDING.value:
        return ConflictError(f"the offer was already {fresh['state']}",
                             code=f"offer_{fresh['state']}", field="offer_id")
    return gate_error


async def accept(ctx: Context, principal: Principal, offer_id: str) -> dict[str, Any]:
    row = await _own_offer(ctx, principal, offer_id)
    market_id = row["market_id"]
    try:
        await ctx.live.accept_offer(market_id, offer_id, principal.user_id)
    except DomainError as e:
        raise await _refusal(ctx, offer_id, e) from None
    try:
        async with ctx.ledger.transaction(ctx.clock()) as tx:
            offer = await tx.one("SELECT * FROM offers WHERE id = ?", (offer_id,))
            assert offer is not None
            if offer["state"] != OfferState.PENDING.value:
                raise ConflictError(f"the offer was already {offer['state']}",
                                    code=f"offer_{offer['state']}", field="offer_id")
            job = await tx.one("SELECT * FROM jobs WHERE id = ?", (offer["job_id"],))
            assert job is not None
            start, end = job["start_at"], job["start_at"] + job["duration_hours"] * 3600
            clash = await tx.one(
                "SELECT id FROM assignments WHERE worker_id = ? AND state IN"
                " ('accepted', 'checked_in') AND start_at < ? AND end_at > ?",
                (principal.user_id, end, start),
            )
            if clash is not None:
                raise ConflictError("you already have work at that time",
                                    code="overlapping_assignment", field="offer_id")
            await tx.execute("UPDATE offers SET state = 'accepted', closed_at = ? WHERE id = ?",
                             (tx.now, offer_id))
            await tx.execute(
                "UPDATE jobs SET accepted = accepted + 1, pending = pending - 1,"
                " state = CASE WHEN accepted + 1 >= headcount THEN 'filled' ELSE state END,"
                " filled_at = CASE WHEN accepted + 1 >= headcount THEN ? ELSE filled_at END,"
                " updated_at = ? WHERE id = ?",
                (tx.now, tx.now, job["id"]),
            )
            assignment_id = new_id("as")
            await tx.execute(
                "INSERT INTO assignments (id, job_id, worker_id, offer_id, market_id, wage_fen,"
                " wage_unit, start_at, end_at, travel_minutes, state, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'accepted', ?, ?)",
                (assignment_id, job["id"], principal.user_id, offer_id, market_id,
                 job["wage_fen"], job["wage_unit"], start, end, offer["travel_minutes"],
                 tx.now, tx.now),
            )
            await tx.execute("UPDATE workers SET state = 'assigned', updated_at = ? WHERE id = ?",
                             (tx.now, principal.user_id))
            await tx.event("offer.accepted", market_id=market_id, actor=principal.user_id,
                           subject=offer_id, event_id=f"offer:{offer_id}:accepted",
                           payload={"job_id": job["id"], "assignment_id": assignment_id,
                                    "wage_fen": job["wage_fen"]})
            accepted = await tx.one("SELECT * FROM offers WHERE id = ?", (offer_id,))
            a_row = await tx.one("SELECT * FROM assignments WHERE id = ?", (assignment_id,))
            assert accepted is not None and a_row is not None
            offer_out = await offer_view(ctx, accepted, tx)
            assignment_out = await assignment_view(ctx, a_row, tx)
            recipient = worker_recipient(principal.user_id)
            await tx.message(recipient, {"type": "offer_closed", "offer_id": offer_id,
                                         "reason": "accepted"})
            await tx.message(recipient, {"type": "assignment", "assignment": assignment_out})
            await tell_employer(ctx, tx, job["id"])
            await tell_market(ctx, tx, market_id, "offer.accepted", job_id=job["id"],
                              title=job["title"], travel_minutes=offer["travel_minutes"])
    except BaseException:
        log.warning("ledger refused accept of %s; rebuilding %s from the ledger",
                    offer_id, market_id)
        await rebuild_market(ctx, market_id)
        raise
    await ctx.publish(tx)
    return {"offer": offer_out, "assignment": assignment_out}


async def decline(ctx: Context, principal: Principal, offer_id: str) -> dict[str, Any]:
    await _own_offer(ctx, principal, offer_id)
    row = await close(ctx, offer_id, OfferState.DECLINED, worker_id=principal.user_id)
    return {"offer": await offer_view(ctx, row)}


async def close(
    ctx: Context,
    offer_id: str,
    state: OfferState,
    *,
    worker_id: str = "",
    only_if_expired: bool = False,
    reason_detail: str | None = None,
) -> Row:
    """Decline, expire or withdraw a pending offer; both sides go back to the pools."""
    row = await ctx.ledger.one("SELECT * FROM offers WHERE id = ?", (offer_id,))
    if row is None:
        raise NotFoundError("no such offer", field="offer_id")
    market_id = row["market_id"]
    try:
        await ctx.live.close_offer(market_id, offer_id, worker_id=worker_id,
                                   only_if_expired=only_if_expired)
    except NotFoundError as e:
        # Not pending in Redis. If the ledger still says pending, the live store lost it
        # (a restart): record the close anyway; otherwise it really is settled.
        if row["state"] != OfferState.PENDING.value or only_if_expired:
            raise await _refusal(ctx, offer_id, e) from None
    except DomainError as e:
        raise await _refusal(ctx, offer_id, e) from None
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        fresh = await tx.one("SELECT * FROM offers WHERE id = ?", (offer_id,))
        assert fresh is not None
        if fresh["state"] != OfferState.PENDING.value:
            raise ConflictError(f"the offer was already {fresh['state']}",
                                code=f"offer_{fresh['state']}", field="offer_id")
        await tx.execute("UPDATE offers SET state = ?, closed_at = ? WHERE id = ?",
                         (state.value, tx.now, offer_id))
        await tx.execute("UPDATE jobs SET pending = pending - 1, updated_at = ? WHERE id = ?",
                         (tx.now, row["job_id"]))
        await tx.execute(
            "UPDATE workers SET state = 'available', updated_at = ?"
            " WHERE id = ? AND state = 'offered'", (tx.now, row["worker_id"]),
        )
        await tx.event(f"offer.{state.value}", market_id=market_id,
                       actor=worker_id or "system", subject=offer_id,
                       event_id=f"offer:{offer_id}:{state.value}",
                       payload={"job_id": row["job_id"], "worker_id": row["worker_id"],
                                "detail": reason_detail})
        await tx.message(worker_recipient(row["worker_id"]), {
            "type": "offer_closed", "offer_id": offer_id, "reason": state.value})
        await tell_employer(ctx, tx, row["job_id"])
        await tell_market(ctx, tx, market_id, f"offer.{state.value}", job_id=row["job_id"])
        # The slot and the worker are free again: re-offer at once, not at the next tick.
        tx.kicks.add(market_id)
        out = await tx.one("SELECT * FROM offers WHERE id = ?", (offer_id,))
        assert out is not None
    await ctx.publish(tx)
    return out


async def why(ctx: Context, principal: Principal, offer_id: str) -> dict[str, Any]:
    row = await _own_offer(ctx, principal, offer_id)
    # Four places say all a person can read; + 0.0 turns a weightless term's -0.0 into 0.0.
    terms = {k: round(float(v), 4) + 0.0 for k, v in json.loads(row["terms"]).items()}
    return {"offer_id": offer_id, "terms": terms,
            "distance_km": round(row["distance_km"], 2),
            "travel_minutes": round(row["travel_minutes"], 1),
            "explain": _explain_terms(terms, row["travel_minutes"])}


#: Within this many minutes a trip counts as "close by" in the explanation.
CLOSE_BY_MINUTES = 8.0


def _explain_terms(terms: dict[str, float], travel_minutes: float) -> dict[str, str]:
    """Up to two things that really counted for this worker, in words.

    Only terms that lowered the cost are reasons (a neutral default, like a new worker's
    untested reliability, is not); travel always costs something, so it is a reason when the
    trip is short.
    """
    zh = {"travel": "路程近", "waited": "您等候较久", "key_group": "重点群体优先",
          "rating": "评分高", "reliability": "守约记录好", "fairness": "今天尚未派到活"}
    en = {"travel": "you are close by", "waited": "you have waited long",
          "key_group": "key-group priority", "rating": "your good rating",
          "reliability": "your reliable record", "fairness": "you have had no work today"}
    helped = sorted((k for k in zh if k != "travel" and terms.get(k, 0.0) < -0.01),
                    key=lambda k: terms[k])
    parts = (["travel"] if travel_minutes <= CLOSE_BY_MINUTES else []) + helped
    if not parts:
        return {"zh": "您的技能和工钱要求都合适", "en": "your skills and pay fit the job"}
    return {"zh": "、".join(zh[k] for k in parts[:2]), "en": ", ".join(en[k] for k in parts[:2])}
