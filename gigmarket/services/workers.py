"""A worker's own use cases: profile, check-in and check-out, what they hold, and why."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from gigmarket.core import validation as v
from gigmarket.core.errors import ConflictError, NotFoundError
from gigmarket.core.matching import REASONS, REASONS_ZH
from gigmarket.core.model import OfferState, Role, WorkerState
from gigmarket.core.privacy import mask_id_number
from gigmarket.services import offers as offer_service
from gigmarket.services import views
from gigmarket.services.auth import require
from gigmarket.services.context import Context, Principal, tell_market
from gigmarket.services.live_records import worker_record
from gigmarket.store.ledger import Row


async def load_worker(ctx: Context, worker_id: str) -> Row:
    row = await ctx.ledger.one("SELECT * FROM workers WHERE id = ?", (worker_id,))
    if row is None:
        raise NotFoundError("no such worker", field="worker_id")
    return row


async def me(ctx: Context, principal: Principal) -> dict[str, Any]:
    if principal.role is Role.WORKER:
        row = await load_worker(ctx, principal.user_id)
        return views.worker_me(row, lambda t: ctx.iso(t, row["market_id"]))
    if principal.role is Role.EMPLOYER:
        e = await ctx.ledger.one("SELECT * FROM employers WHERE id = ?", (principal.user_id,))
        if e is None:
            raise NotFoundError("no such employer")
        return views.employer_me(e)
    if principal.role is Role.MANAGER:
        m = await ctx.ledger.one("SELECT username FROM managers WHERE id = ?", (principal.user_id,))
        return {"id": principal.user_id, "role": "manager",
                "username": m["username"] if m else None, "markets": list(principal.markets)}
    return {"id": principal.user_id, "role": principal.role.value,
            "markets": list(principal.markets), "station_id": principal.station_id}


async def put_profile(ctx: Context, principal: Principal, body: object) -> dict[str, Any]:
    require(principal, Role.WORKER)
    draft = v.parse_worker_profile(body, skill_codes=ctx.settings.skills)
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        sets = ["name = ?", "skills = ?", "updated_at = ?"]
        params: list[Any] = [draft.name, json.dumps(list(draft.skills)), tx.now]
        if draft.min_wage is not None:
            sets += ["min_wage_fen = ?", "min_wage_unit = ?"]
            params += [draft.min_wage.fen, draft.min_wage.unit.value]
        if draft.id_number is not None:
            index = ctx.sealer.index(draft.id_number)
            other = await tx.one("SELECT id FROM workers WHERE id_number_index = ? AND id != ?",
                                 (index, principal.user_id))
            if other is not None:
                raise ConflictError("this ID number is registered to another worker",
                                    code="id_number_taken", field="id_number")
            sets += ["id_number_enc = ?", "id_number_index = ?", "id_number_masked = ?"]
            params += [ctx.sealer.seal(draft.id_number), index, mask_id_number(draft.id_number)]
        params.append(principal.user_id)
        await tx.execute(f"UPDATE workers SET {', '.join(sets)} WHERE id = ?", params)
        row = await tx.one("SELECT * FROM workers WHERE id = ?", (principal.user_id,))
        assert row is not None
        await tx.event("worker.profile_saved", market_id=row["market_id"], actor=row["id"],
                       subject=row["id"], payload={"skills": list(draft.skills)})
        record = None
        if row["state"] in (WorkerState.AVAILABLE.value, WorkerState.OFFERED.value):
            record = await worker_record(tx, ctx, row, tx.now)
            tx.kicks.add(row["market_id"])
    if record is not None:
        # Skills or minimum changed while waiting: the pool must judge by the new ones.
        state = await ctx.live.worker_state(row["market_id"], row["id"])
        await ctx.live.put_worker(row["market_id"], row["id"], record, state or "available")
    await ctx.publish(tx)
    return views.worker_me(row, lambda t: ctx.iso(t, row["market_id"]))


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
        row = await tx.one("SELECT * FROM workers WHERE id = ?", (principal.user_id,))
        assert row is not None
        state = row["state"]
        # Waiting time counts from the first check-in of the day, not from a re-check-in.
        since = row["checked_in_at"]
        if since is None or since < ctx.day_start(market_id, now) or state == "offline":
            since = now
        new_state = state if state == WorkerState.OFFERED.value else WorkerState.AVAILABLE.value
        until = draft.available_until.timestamp() if draft.available_until else None
        await tx.execute(
            "UPDATE workers SET state = ?, market_id = ?, lat = ?, lon = ?, station_id = ?,"
            " checked_in_at = ?, available_until = ?, updated_at = ? WHERE id = ?",
            (new_state, market_id, draft.lat, draft.lon, draft.station_id, since, until, now,
             row["id"]),
        )
        row = await tx.one("SELECT * FROM workers WHERE id = ?", (principal.user_id,))
        assert row is not None
        record = await worker_record(tx, ctx, row, now)
        await tx.event("worker.checked_in", market_id=market_id, actor=row["id"],
                       subject=row["id"],
                       payload={"station_id": draft.station_id, "skills": record["skills"]})
        await tell_market(ctx, tx, market_id, "worker.checked_in", skills=record["skills"],
                          station_id=draft.station_id)
        tx.kicks.add(market_id)
    await ctx.live.put_worker(market_id, row["id"], record, new_state)
    await ctx.publish(tx)
    return views.worker_me(row, lambda t: ctx.iso(t, market_id))


async def checkout(ctx: Context, principal: Principal, market_id: str) -> dict[str, Any]:
    require(principal, Role.WORKER)
    ctx.market(market_id)
    row = await load_worker(ctx, principal.user_id)
    if row["market_id"] != market_id:
        raise ConflictError("you are not checked in at this market", code="not_checked_in",
                            field="market")
    pending = await ctx.ledger.one(
        "SELECT id FROM offers WHERE worker_id = ? AND state = 'pending'", (row["id"],)
    )
    if pending is not None:
        await offer_service.close(ctx, pending["id"], OfferState.WITHDRAWN,
                                  reason_detail="worker_checked_out")
    await ctx.live.remove_worker(market_id, row["id"])
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        await tx.execute(
            "UPDATE workers SET state = 'offline', market_id = NULL, station_id = NULL,"
            " available_until = NULL, updated_at = ? WHERE id = ?", (tx.now, row["id"]),
        )
        await tx.event("worker.checked_out", market_id=market_id, actor=row["id"],
                       subject=row["id"], payload={})
    await ctx.publish(tx)
    return {"state": "offline"}


async def my_offers(ctx: Context, principal: Principal) -> list[dict[str, Any]]:
    require(principal, Role.WORKER)
    rows = await ctx.ledger.all(
        "SELECT * FROM offers WHERE worker_id = ? ORDER BY state != 'pending', created_at DESC"
        " LIMIT 50", (principal.user_id,),
    )
    return [await offer_service.offer_view(ctx, r) for r in rows]


async def my_assignments(ctx: Context, principal: Principal) -> list[dict[str, Any]]:
    require(principal, Role.WORKER)
    rows = await ctx.ledger.all(
        "SELECT * FROM assignments WHERE worker_id = ? ORDER BY start_at DESC LIMIT 50",
        (principal.user_id,),
    )
    return [await offer_service.assignment_view(ctx, r) for r in rows]


def explain(reason: str | None) -> dict[str, str] | None:
    if reason is None:
        return None
    return {"zh": REASONS_ZH.get(reason, reason), "en": REASONS.get(reason, reason)}


async def why(ctx: Context, principal: Principal) -> dict[str, Any]:
    """Why a waiting worker has no offer now; for an employer, why each job is not filled."""
    if principal.role is Role.EMPLOYER:
        rows = await ctx.ledger.all(
            "SELECT id, market_id, title, headcount, accepted, pending FROM jobs"
            " WHERE employer_id = ? AND state = 'open'", (principal.user_id,),
        )
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
    reason = None
    round_at = None
    if market_id and row["state"] == WorkerState.AVAILABLE.value:
        reason = await ctx.live.why_worker(market_id, row["id"])
        round_at = (await ctx.live.last_round(market_id)).get("at")
    now = ctx.clock()
    return {
        "state": row["state"],
        "market_id": market_id,
        "waiting_since": ctx.iso(row["checked_in_at"], market_id)
        if row["state"] != "offline" else None,
        "waited_s": round(now - row["checked_in_at"])
        if row["checked_in_at"] and row["state"] != "offline" else None,
        "reason": reason,
        "reason_text": explain(reason),
        "round_at": ctx.iso(round_at, market_id),
    }
