"""Certificates (SPEC 11.2): a worker declares them, a manager of the worker's market verifies
or rejects them, and only verified, unexpired ones let dispatch offer a skill that needs one.

Every change is one ledger transaction with its event; the worker's live record is rewritten
after it, so the next round judges by the new state.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from gigmarket.core import validation as v
from gigmarket.core.certificates import CertificateState, Declared, needs_review
from gigmarket.core.errors import NotFoundError, ValidationError
from gigmarket.core.privacy import mask_name, mask_phone
from gigmarket.services.auth import require_market
from gigmarket.services.context import Context, Principal, tell_market
from gigmarket.services.lifecycle import refresh_worker
from gigmarket.services.tenancy import audit, require_manager_of
from gigmarket.store import certificates as store
from gigmarket.store import workers
from gigmarket.store.ledger import Row, Tx


def today(ctx: Context, market_id: str | None) -> date:
    """The worker's calendar day (a certificate expiring today still counts today)."""
    return datetime.fromtimestamp(ctx.clock(), ctx.tz(market_id)).date()


def view(r: Row) -> dict[str, Any]:
    """A certificate as its worker sees it (the number is theirs: shown whole)."""
    return {"skill": r["skill"], "number": r["number"], "expires_on": r["expires_on"],
            "state": r["state"], "note": r["note"]}


async def declare(ctx: Context, tx: Tx, worker_id: str, market_id: str | None,
                  declared: tuple[Declared, ...]) -> bool:
    """Replace the worker's declared certificates (inside ``put_profile``'s transaction).

    Unchanged ones keep their state; new or changed ones wait for a manager; ones left out
    are forgotten. Returns whether anything changed.
    """
    before = {h.skill: h for h in await store.held_by(tx, worker_id)}
    changed = False
    for d in declared:
        if needs_review(d, before.get(d.skill)):
            await store.declare(tx, worker_id, d)
            await tx.event("certificate.declared", market_id=market_id, actor=worker_id,
                           subject=worker_id,
                           payload={"skill": d.skill, "expires_on": d.expires_on.isoformat()})
            if market_id:
                # The desk's review queue refreshes on its feed.
                await tell_market(ctx, tx, market_id, "certificate.declared", skill=d.skill)
            changed = True
    gone = sorted(set(before) - {d.skill for d in declared})
    if gone:
        await store.withdraw(tx, worker_id, gone)
        await tx.event("certificate.withdrawn", market_id=market_id, actor=worker_id,
                       subject=worker_id, payload={"skills": gone})
        changed = True
    return changed


async def queue(ctx: Context, principal: Principal, market_id: str,
                state: str | None) -> dict[str, Any]:
    """``GET /markets/{m}/certificates?state=pending``: the manager's review queue."""
    require_market(principal, market_id)
    ctx.market(market_id)
    try:
        wanted = CertificateState(state or "pending")
    except ValueError:
        raise ValidationError("state must be pending, verified or rejected",
                              code="bad_state", field="state") from None
    skills = ctx.settings.skills
    rows = await store.queue(ctx.ledger, market_id, wanted)
    return {"certificates": [
        {"worker_id": r["worker_id"], "worker": mask_name(r["name"] or ""),
         "phone": mask_phone(r["phone"]) if r["phone"] else None,
         "skill": r["skill"],
         "skill_name": {"zh": skills[r["skill"]].zh, "en": skills[r["skill"]].en}
         if r["skill"] in skills else None,
         # The manager compares it with the card in front of them.
         "number": r["number"], "expires_on": r["expires_on"], "state": r["state"],
         "note": r["note"], "declared_at": ctx.iso(r["declared_at"], market_id)}
        for r in rows]}


async def _review(ctx: Context, principal: Principal, worker_id: str, skill: str,
                  state: CertificateState, note: str | None) -> dict[str, Any]:
    markets = await require_manager_of(ctx, principal, "worker", worker_id)
    market_id = markets[0]
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        if await store.one(tx, worker_id, skill) is None:
            raise NotFoundError("this worker declared no certificate for that skill",
                                code="no_such_certificate", field="skill")
        await store.review(tx, worker_id, skill, state, note, principal.user_id)
        await tx.event(f"certificate.{state.value}", market_id=market_id,
                       actor=principal.user_id, subject=worker_id,
                       event_id=f"certificate:{worker_id}:{skill}:{state.value}:{tx.now}",
                       payload={"skill": skill, "note": note})
        action = ("certificate.verify" if state is CertificateState.VERIFIED
                  else "certificate.reject")
        await audit(tx, principal, action, "worker", worker_id, [market_id], skill=skill,
                    note=note)
        await tell_market(ctx, tx, market_id, f"certificate.{state.value}", skill=skill)
        row = await store.one(tx, worker_id, skill)
        assert row is not None
        w = await workers.get(tx, worker_id)
        if w is not None and w["market_id"]:
            tx.kicks.add(w["market_id"])
    await ctx.publish(tx)
    await refresh_worker(ctx, worker_id)
    return {"worker_id": worker_id, "certificate": view(row)}


async def verify(ctx: Context, principal: Principal, worker_id: str,
                 skill: str) -> dict[str, Any]:
    return await _review(ctx, principal, worker_id, skill, CertificateState.VERIFIED, None)


async def reject(ctx: Context, principal: Principal, worker_id: str, skill: str,
                 body: object) -> dict[str, Any]:
    fields = v.exact_fields(body, required={"note"}, optional=set())
    note = v.text(fields["note"], "note", max_len=200)
    return await _review(ctx, principal, worker_id, skill, CertificateState.REJECTED, note)
