"""Offers after they are made: accept, decline, expire, withdraw; and the views around them.

Each transition passes the live store's atomic gate (a Lua script) first, then the ledger
re-checks and records it with its event and messages in one transaction, and only then is it
published. If the ledger refuses what the gate allowed, the market's pools are rebuilt from the
ledger, so Redis never keeps a state the ledger does not have.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Sequence
from typing import Any

from gigmarket import protocol
from gigmarket.core import checkin_code
from gigmarket.core.certificates import lacking, qualifying
from gigmarket.core.eligibility import judge_accept, late_take_until
from gigmarket.core.errors import ConflictError, DomainError, NotFoundError
from gigmarket.core.model import OfferState, Role, WorkerState
from gigmarket.services import site_code, views
from gigmarket.services.auth import require
from gigmarket.services.context import (
    Context,
    Principal,
    employer_recipient,
    tell_market,
    worker_recipient,
)
from gigmarket.services.live_records import rebuild_market, worker_record
from gigmarket.store import assignments, employers, jobs, locks, offers, transitions, workers
from gigmarket.store import certificates as cert_store
from gigmarket.store.ledger import Ledger, Row, Tx

log = logging.getLogger("gigmarket.offers")

#: The site code stays valid this long after the job ends (late scans, paper slips).
CODE_GRACE_S = 6 * 3600


async def _job_and_employer(q: Ledger | Tx, job_id: str) -> tuple[Row, Row]:
    job = await jobs.get(q, job_id)
    if job is None:
        raise NotFoundError("no such job", field="job_id")
    employer = await employers.get(q, job["employer_id"])
    assert employer is not None
    return job, employer


async def offer_view(ctx: Context, row: Row, q: Tx | Any | None = None) -> dict[str, Any]:
    job, employer = await _job_and_employer(q or ctx.ledger, row["job_id"])
    rules = ctx.market(row["market_id"]).rules
    until = late_take_until(row["state"], row["expires_at"], rules)
    if until is not None and not (ctx.clock() < until and job["state"] == "open"
                                  and job["headcount"] - job["accepted"] - job["pending"] > 0):
        until = None
    return views.offer(row, job, employer, lambda t: ctx.iso(t, row["market_id"]), rules,
                       take_until=until)


async def assignment_view(ctx: Context, row: Row, q: Tx | Any | None = None) -> dict[str, Any]:
    job, employer = await _job_and_employer(q or ctx.ledger, row["job_id"])
    code = site_code.sign(row["id"], row["end_at"] + CODE_GRACE_S, ctx.settings.secret_key)
    grace_s = ctx.market(row["market_id"]).rules.no_show_grace_minutes * 60
    return views.assignment(row, job, employer, lambda t: ctx.iso(t, row["market_id"]),
                            qr=code, qr_svg=site_code.svg(code),
                            code=checkin_code.digits(row["id"], ctx.settings.secret_key),
                            absent_after=row["start_at"] + grace_s)


def _iso_for(ctx: Context, market_id: str) -> views.Iso:
    return lambda t: ctx.iso(t, market_id)


async def job_views(ctx: Context, q: Tx | Any, job_ids: Sequence[str], *,
                    contact: bool = False) -> dict[str, dict[str, Any]]:
    """JOB views for many jobs in two queries (a round touches hundreds at once).

    ``contact``: for the jobs' own employer, with hired workers' phones (``views.job_full``).
    """
    out: dict[str, dict[str, Any]] = {}
    ids = list(dict.fromkeys(job_ids))
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        by_job: dict[str, list[Row]] = {}
        for w in await jobs.hired_of(q, chunk):
            by_job.setdefault(w["job_id"], []).append(w)
        for job in await jobs.of_ids(q, chunk):
            market_id = job["market_id"]
            out[job["id"]] = views.job_full(
                job, by_job.get(job["id"], []), _iso_for(ctx, market_id), contact=contact,
                desk_phone=ctx.market(market_id).contacts.desk_phone
                if market_id in ctx.settings.markets else "")
    return out


async def job_view(ctx: Context, q: Tx | Any, job_id: str, *,
                   contact: bool = False) -> dict[str, Any]:
    found = await job_views(ctx, q, [job_id], contact=contact)
    if job_id not in found:
        raise NotFoundError("no such job", field="job_id")
    return found[job_id]


async def tell_employer(ctx: Context, tx: Tx, job_id: str) -> None:
    """The employer's live view of a job, sent whenever it changes (SPEC 7 ``job``)."""
    view = await job_view(ctx, tx, job_id, contact=True)
    job = await jobs.get(tx, job_id)
    assert job is not None
    await tx.message(employer_recipient(job["employer_id"]), protocol.job(view))


async def contact_shown(tx: Tx, a: Row, employer_id: str) -> None:
    """Log that the hired worker's phone now reaches their employer (SPEC 9): once per
    assignment, when the hire (and with it the first ``job`` view showing it) is recorded.
    Later views of the same live assignment are not logged again."""
    w = await workers.get(tx, a["worker_id"])
    if w is None or not w["phone"]:
        return
    await tx.event("contact.shown", market_id=a["market_id"], actor=employer_id,
                   subject=a["id"], event_id=f"assignment:{a['id']}:contact_shown",
                   payload={"worker_id": a["worker_id"], "job_id": a["job_id"]})


async def _own_offer(ctx: Context, principal: Principal, offer_id: str) -> Row:
    require(principal, Role.WORKER)
    row = await offers.get(ctx.ledger, offer_id)
    # Another worker's offer is reported as missing: its existence is not theirs to learn.
    if row is None or row["worker_id"] != principal.user_id:
        raise NotFoundError("no such offer", field="offer_id")
    return row


async def _refusal(ctx: Context, offer_id: str, gate_error: DomainError) -> DomainError:
    """Turn a gate refusal into the ledger's truth about the offer."""
    fresh = await offers.expiry(ctx.ledger, offer_id)
    if fresh is None:
        return gate_error
    if fresh["state"] == OfferState.PENDING.value and fresh["expires_at"] <= ctx.clock():
        return ConflictError("the offer has expired", code="offer_expired", field="offer_id")
    if fresh["state"] != OfferState.PENDING.value:
        return ConflictError(f"the offer was already {fresh['state']}",
                             code=f"offer_{fresh['state']}", field="offer_id")
    return gate_error


async def _certified_for(ctx: Context, offer: Row) -> None:
    """Refuse an accept whose certificate expired (or was withdrawn) since the offer: the
    offer is withdrawn, so its slot goes back to the round at once (issue 10)."""
    job = await jobs.get(ctx.ledger, offer["job_id"])
    skills = ctx.settings.skills
    needed = [c for c in json.loads(job["skills"]) if c in skills
              and skills[c].certificate_required] if job else []
    if not needed:
        return
    tz = ctx.tz(offer["market_id"])
    until = qualifying(await cert_store.held_by(ctx.ledger, offer["worker_id"]), tz)
    missing = lacking(needed, until, ctx.clock())
    if not missing:
        return
    with contextlib.suppress(ConflictError, NotFoundError):  # expired or answered meanwhile
        await close(ctx, offer["id"], OfferState.WITHDRAWN, worker_id=offer["worker_id"],
                    reason_detail="certificate_expired")
    # Their record may still carry a certificate the ledger no longer counts (changed since
    # check-in): rewrite it so no round offers them another such job.
    w = await workers.get(ctx.ledger, offer["worker_id"])
    if w is not None and w["market_id"] and w["state"] in ("available", "offered"):
        live_state = await ctx.live.worker_state(w["market_id"], w["id"])
        if live_state is not None:
            await ctx.live.put_worker(w["market_id"], w["id"],
                                      await worker_record(ctx.ledger, ctx, w, ctx.clock()),
                                      live_state)
    raise ConflictError(f"your certificate for {missing[0]} is no longer valid; renew it"
                        " and have it verified at the market desk",
                        code="certificate_expired", field="offer_id")


async def _in_time_for(ctx: Context, offer: Row) -> None:
    """Refuse an accept too late to reach the start (issue 14): the offer is withdrawn, not
    burnt, so the slot goes straight back to the round and the worker is blamed for nothing."""
    job = await jobs.get(ctx.ledger, offer["job_id"])
    if job is None:
        return
    refusal = judge_accept(ctx.clock(), offer["travel_minutes"], job["start_at"],
                           ctx.market(offer["market_id"]).rules)
    if refusal is None:
        return
    with contextlib.suppress(ConflictError, NotFoundError):  # expired or answered meanwhile
        await close(ctx, offer["id"], OfferState.WITHDRAWN, worker_id=offer["worker_id"],
                    reason_detail=refusal.code)
    raise ConflictError(refusal.message, code="too_late_to_arrive", field="offer_id")


async def _take_late(ctx: Context, principal: Principal, offer_id: str) -> dict[str, Any]:
    # claims imports this module for its views; the late take is a claim, so it lives there.
    from gigmarket.services import claims

    row = await offers.get(ctx.ledger, offer_id)
    assert row is not None
    return await claims.take_late(ctx, principal, row)


async def accept(ctx: Context, principal: Principal, offer_id: str) -> dict[str, Any]:
    row = await _own_offer(ctx, principal, offer_id)
    market_id = row["market_id"]
    if row["state"] == OfferState.EXPIRED.value:
        return await _take_late(ctx, principal, offer_id)
    if row["state"] == OfferState.PENDING.value:
        await _certified_for(ctx, row)
        await _in_time_for(ctx, row)
    try:
        await ctx.live.accept_offer(market_id, offer_id, principal.user_id)
    except DomainError as e:
        refusal = await _refusal(ctx, offer_id, e)
        if refusal.code != "offer_expired":
            raise refusal from None
        # Run out, but the sweep has not closed it yet: close it now, then it may be taken
        # late like any offer that ran out (issue 14).
        with contextlib.suppress(ConflictError, NotFoundError):
            await close(ctx, offer_id, OfferState.EXPIRED, only_if_expired=True)
        return await _take_late(ctx, principal, offer_id)
    try:
        async with ctx.ledger.transaction(ctx.clock()) as tx:
            # The overlap check below reads, then decides: one worker's accepts and claims
            # take turns (free on SQLite's single writer; an advisory lock on PostgreSQL).
            await tx.lock(locks.worker(principal.user_id))
            offer = await offers.get(tx, offer_id)
            assert offer is not None
            if offer["state"] != OfferState.PENDING.value:
                raise ConflictError(f"the offer was already {offer['state']}",
                                    code=f"offer_{offer['state']}", field="offer_id")
            job = await jobs.get(tx, offer["job_id"])
            assert job is not None
            start, end = job["start_at"], job["start_at"] + job["duration_hours"] * 3600
            if await assignments.clash(tx, principal.user_id, start, end) is not None:
                raise ConflictError("you already have work at that time",
                                    code="overlapping_assignment", field="offer_id")
            accepted = await transitions.move(tx, OfferState.ACCEPTED, offer_id,
                                              closed_at=tx.now)
            await jobs.take_slot(tx, job["id"], pending=True)
            a_row = await assignments.create(tx, job=job, worker_id=principal.user_id,
                                             offer_id=offer_id,
                                             travel_minutes=offer["travel_minutes"])
            assignment_id = a_row["id"]
            await transitions.move(tx, WorkerState.ASSIGNED, principal.user_id)
            await tx.event("offer.accepted", market_id=market_id, actor=principal.user_id,
                           subject=offer_id, event_id=f"offer:{offer_id}:accepted",
                           payload={"job_id": job["id"], "assignment_id": assignment_id,
                                    "wage_fen": job["wage_fen"]})
            offer_out = await offer_view(ctx, accepted, tx)
            assignment_out = await assignment_view(ctx, a_row, tx)
            recipient = worker_recipient(principal.user_id)
            await tx.message(recipient, protocol.offer_closed(offer_id, "accepted"))
            await tx.message(recipient, protocol.assignment(assignment_out))
            await tell_employer(ctx, tx, job["id"])
            await tell_market(ctx, tx, market_id, "offer.accepted", job_id=job["id"],
                              title=job["title"], travel_minutes=offer["travel_minutes"])
            await contact_shown(tx, a_row, job["employer_id"])
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


async def _late_take_offered(ctx: Context, tx: Tx, offer: Row) -> str | None:
    """When the worker may still take the offer that just ran out: the view's ``take_until``,
    for the ``offer_closed`` message."""
    if offer["state"] != OfferState.EXPIRED.value:
        return None
    view = await offer_view(ctx, offer, tx)
    until: str | None = view["take_until"]
    return until


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
    row = await offers.get(ctx.ledger, offer_id)
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
    # Absence costs no work (SPEC 11.2): an offer that ran out while its worker had no live
    # socket is no refusal. The pair stays out of the rounds while they are away (else the
    # job would be offered to an empty screen every round) and is freed when they come back
    # (services.presence.returned).
    absent = state is OfferState.EXPIRED and not await ctx.live.is_present(row["worker_id"])
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        fresh = await offers.get(tx, offer_id)
        assert fresh is not None
        if fresh["state"] != OfferState.PENDING.value:
            raise ConflictError(f"the offer was already {fresh['state']}",
                                code=f"offer_{fresh['state']}", field="offer_id")
        out = await transitions.move(tx, state, offer_id, closed_at=tx.now, absent=int(absent))
        await jobs.release_pending(tx, row["job_id"])
        take_until = await _late_take_offered(ctx, tx, out)
        await transitions.move_if(tx, WorkerState.AVAILABLE, row["worker_id"],
                                  only_from={WorkerState.OFFERED})
        await tx.event(f"offer.{state.value}", market_id=market_id,
                       actor=worker_id or "system", subject=offer_id,
                       event_id=f"offer:{offer_id}:{state.value}",
                       payload={"job_id": row["job_id"], "worker_id": row["worker_id"],
                                "detail": "worker_away" if absent else reason_detail})
        await tx.message(worker_recipient(row["worker_id"]),
                         protocol.offer_closed(offer_id, state.value, take_until))
        await tell_employer(ctx, tx, row["job_id"])
        await tell_market(ctx, tx, market_id, f"offer.{state.value}", job_id=row["job_id"])
        # The slot and the worker are free again: re-offer at once, not at the next tick.
        tx.kicks.add(market_id)
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
