"""A worker's own use cases: profile, check-in and check-out, what they hold, and why."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gigmarket.core import validation as v
from gigmarket.core import waiting
from gigmarket.core.errors import ConflictError, NotFoundError
from gigmarket.core.matching import REASONS, REASONS_ZH
from gigmarket.core.model import OfferState, Role, WorkerState
from gigmarket.core.privacy import mask_id_number
from gigmarket.services import certificates, views
from gigmarket.services import offers as offer_service
from gigmarket.services.auth import require
from gigmarket.services.context import Context, Principal, tell_market
from gigmarket.services.live_records import worker_record
from gigmarket.store import (
    assignments,
    employers,
    jobs,
    managers,
    membership,
    offers,
    transitions,
    workers,
)
from gigmarket.store import certificates as cert_store
from gigmarket.store.ledger import Row


async def load_worker(ctx: Context, worker_id: str) -> Row:
    row = await workers.get(ctx.ledger, worker_id)
    if row is None:
        raise NotFoundError("no such worker", field="worker_id")
    return row


async def worker_view(ctx: Context, row: Row) -> dict[str, Any]:
    """``GET /me`` of a worker, with their certificates and each one's state and note."""
    certs = [certificates.view(r) for r in await cert_store.rows_of(ctx.ledger, row["id"])]
    return views.worker_me(row, lambda t: ctx.iso(t, row["market_id"]), certs)


async def me(ctx: Context, principal: Principal) -> dict[str, Any]:
    if principal.role is Role.WORKER:
        return await worker_view(ctx, await load_worker(ctx, principal.user_id))
    if principal.role is Role.EMPLOYER:
        e = await employers.get(ctx.ledger, principal.user_id)
        if e is None:
            raise NotFoundError("no such employer")
        return views.employer_me(e)
    if principal.role is Role.MANAGER:
        username = await managers.username_of(ctx.ledger, principal.user_id)
        return {"id": principal.user_id, "role": "manager",
                "username": username, "markets": list(principal.markets)}
    return {"id": principal.user_id, "role": principal.role.value,
            "markets": list(principal.markets), "station_id": principal.station_id}


async def put_profile(ctx: Context, principal: Principal, body: object) -> dict[str, Any]:
    require(principal, Role.WORKER)
    current = await load_worker(ctx, principal.user_id)
    draft = v.parse_worker_profile(body, skill_codes=ctx.settings.skills,
                                   today=certificates.today(ctx, current["market_id"]))
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        identity = None
        if draft.id_number is not None:
            index = ctx.sealer.index(draft.id_number)
            if await workers.id_number_taken(tx, index, principal.user_id):
                raise ConflictError("this ID number is registered to another worker",
                                    code="id_number_taken", field="id_number")
            identity = (ctx.sealer.seal(draft.id_number), index,
                        mask_id_number(draft.id_number))
        row = await workers.save_profile(
            tx, principal.user_id, name=draft.name, skills=list(draft.skills),
            min_wage=None if draft.min_wage is None
            else (draft.min_wage.fen, draft.min_wage.unit.value),
            identity=identity, max_travel_minutes=draft.max_travel_minutes)
        await tx.event("worker.profile_saved", market_id=row["market_id"], actor=row["id"],
                       subject=row["id"],
                       payload={"skills": list(draft.skills),
                                "max_travel_minutes": row["max_travel_minutes"]})
        if draft.certificates is not None:
            await certificates.declare(ctx, tx, row["id"], row["market_id"], draft.certificates)
        record = None
        if row["state"] in (WorkerState.AVAILABLE.value, WorkerState.OFFERED.value):
            record = await worker_record(tx, ctx, row, tx.now)
            tx.kicks.add(row["market_id"])
    if record is not None:
        # Skills, minimum or longest trip changed while waiting: the pool must judge by the
        # new ones.
        state = await ctx.live.worker_state(row["market_id"], row["id"])
        await ctx.live.put_worker(row["market_id"], row["id"], record, state or "available")
    await ctx.publish(tx)
    return await worker_view(ctx, row)


async def checkin(ctx: Context, principal: Principal, market_id: str,
                  body: object) -> dict[str, Any]:
    require(principal, Role.WORKER)
    market = ctx.market(market_id)
    now = ctx.clock()
    draft = v.parse_checkin(body, market, datetime.fromtimestamp(now, ctx.tz(market_id)))
    current = await load_worker(ctx, principal.user_id)
    if not current["name"] or current["skills"] == "[]":
        raise ConflictError("complete your profile (name and skills) before checking in",
                            code="profile_incomplete", field="skills")
    if current["market_id"] and current["market_id"] != market_id:
        await checkout(ctx, principal, current["market_id"])
    async with ctx.ledger.transaction(now) as tx:
        row = await workers.get(tx, principal.user_id)
        assert row is not None
        state = row["state"]
        # Waiting time counts from the first check-in of the day, not from a re-check-in.
        since = row["checked_in_at"]
        if since is None or since < ctx.day_start(market_id, now) or state == "offline":
            since = now
        new_state = state if state == WorkerState.OFFERED.value else WorkerState.AVAILABLE.value
        until = draft.available_until.timestamp() if draft.available_until else None
        place = {"market_id": market_id, "lat": draft.lat, "lon": draft.lon,
                 "station_id": draft.station_id, "checked_in_at": since,
                 "available_until": until}
        if new_state == state:
            # Waiting already (or holding an offer): only where and until when change.
            row = await workers.place(tx, row["id"], **place)
        else:
            row = await transitions.move(tx, WorkerState.AVAILABLE, row["id"], **place)
        record = await worker_record(tx, ctx, row, now)
        await tx.event("worker.checked_in", market_id=market_id, actor=row["id"],
                       subject=row["id"],
                       payload={"station_id": draft.station_id, "skills": record["skills"]})
        await membership.join(tx, "worker", row["id"], market_id)
        await tell_market(ctx, tx, market_id, "worker.checked_in", skills=record["skills"],
                          station_id=draft.station_id)
        tx.kicks.add(market_id)
    await ctx.live.put_worker(market_id, row["id"], record, new_state)
    await ctx.publish(tx)
    return await worker_view(ctx, row)


async def checkout(ctx: Context, principal: Principal, market_id: str) -> dict[str, Any]:
    require(principal, Role.WORKER)
    ctx.market(market_id)
    row = await load_worker(ctx, principal.user_id)
    if row["market_id"] != market_id:
        raise ConflictError("you are not checked in at this market", code="not_checked_in",
                            field="market")
    pending = await offers.pending_of_worker(ctx.ledger, row["id"])
    if pending is not None:
        await offer_service.close(ctx, pending, OfferState.WITHDRAWN,
                                  reason_detail="worker_checked_out")
    await ctx.live.remove_worker(market_id, row["id"])
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        gone = {"market_id": None, "station_id": None, "available_until": None}
        if await transitions.move_if(
                tx, WorkerState.OFFLINE, row["id"], only_from={
                    WorkerState.AVAILABLE, WorkerState.OFFERED, WorkerState.ASSIGNED},
                **gone) is None:
            await workers.place(tx, row["id"], market_id=None)  # offline already
        await tx.event("worker.checked_out", market_id=market_id, actor=row["id"],
                       subject=row["id"], payload={})
    await ctx.publish(tx)
    return {"state": "offline"}


async def my_offers(ctx: Context, principal: Principal) -> list[dict[str, Any]]:
    require(principal, Role.WORKER)
    rows = await offers.latest_of_worker(ctx.ledger, principal.user_id)
    return [await offer_service.offer_view(ctx, r) for r in rows]


async def my_assignments(ctx: Context, principal: Principal) -> list[dict[str, Any]]:
    require(principal, Role.WORKER)
    rows = await assignments.latest_of_worker(ctx.ledger, principal.user_id)
    return [await offer_service.assignment_view(ctx, r) for r in rows]


def explain(reason: str | None) -> dict[str, str] | None:
    if reason is None:
        return None
    return {"zh": REASONS_ZH.get(reason, reason), "en": REASONS.get(reason, reason)}


async def why(ctx: Context, principal: Principal) -> dict[str, Any]:
    """Why a waiting worker has no offer now; for an employer, why each job is not filled."""
    if principal.role is Role.EMPLOYER:
        rows = await jobs.open_of_employer(ctx.ledger, principal.user_id)
        out = []
        for r in rows:
            _, jobs_why, last = await ctx.live.why(r["market_id"])
            job_reason = jobs_why.get(r["id"])
            out.append({"job_id": r["id"], "title": r["title"],
                        "open_slots": r["headcount"] - r["accepted"] - r["pending"],
                        "reason": job_reason, "reason_text": explain(job_reason),
                        "round_at": ctx.iso(last.get("at"), r["market_id"])})
        return {"jobs": out}
    require(principal, Role.WORKER)
    row = await load_worker(ctx, principal.user_id)
    market_id = row["market_id"]
    now = ctx.clock()
    state = WorkerState(row["state"])
    round_reason = None
    round_at = None
    busy_until = None
    if market_id:
        round_at = (await ctx.live.last_round(market_id)).get("at")
        # A reason from a round before the worker's last change (back from a job, a new
        # certificate) is stale: they wait for the next round instead.
        round_reason = waiting.round_reason(
            await ctx.live.why_worker(market_id, row["id"]), round_at=round_at,
            since=row["updated_at"])
        busy_until = await assignments.busy_until(ctx.ledger, row["id"], now)
        if state is WorkerState.ASSIGNED and busy_until is None:
            busy_until = await assignments.next_end(ctx.ledger, row["id"], now)
    reason = waiting.reason(state, round_reason=round_reason, busy_until=busy_until,
                            available_until=row["available_until"], now=now)
    until = None
    if busy_until is not None:
        until = datetime.fromtimestamp(busy_until, ctx.tz(market_id)).strftime("%H:%M")
    training = ctx.market(market_id).contacts.training if market_id else ""
    return {
        "state": row["state"],
        "market_id": market_id,
        "waiting_since": ctx.iso(row["checked_in_at"], market_id)
        if row["state"] != "offline" else None,
        "waited_s": round(now - row["checked_in_at"])
        if row["checked_in_at"] and row["state"] != "offline" else None,
        "reason": reason,
        "reason_text": waiting.explain(reason, until=until, training=training),
        "busy_until": ctx.iso(busy_until, market_id),
        "training": training if reason == "certificate_required" else None,
        "round_at": ctx.iso(round_at, market_id),
    }
