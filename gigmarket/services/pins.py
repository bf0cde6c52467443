"""The kiosk PIN after registration: the desk resets a forgotten one, the worker changes it.

A manager resets a PIN only after checking the ID card in person; the temporary PIN is shown
to them once and must be replaced at the worker's next kiosk sign-in (``must_change_pin``).
"""

from __future__ import annotations

import secrets
from typing import Any

from gigmarket.core import checkin_code
from gigmarket.core import validation as v
from gigmarket.core.errors import ForbiddenError, NotFoundError, ValidationError
from gigmarket.core.model import Role
from gigmarket.core.privacy import mask_phone
from gigmarket.credentials import hash_secret
from gigmarket.services.auth import PIN_BUCKET
from gigmarket.services.context import Context, Principal
from gigmarket.services.tenancy import audit, require_manager_of
from gigmarket.store import checkin_codes, membership, pins

#: Workers listed per search at the desk.
FOUND_MAX = 20


async def reset(ctx: Context, principal: Principal, worker_id: str) -> dict[str, Any]:
    shared = await require_manager_of(ctx, principal, "worker", worker_id)
    worker = await pins.worker(ctx.ledger, worker_id)
    if worker is None:
        raise NotFoundError("no such worker", field="worker_id")
    temporary = f"{secrets.randbelow(1_000_000):06d}"
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        await pins.set_pin(tx, worker_id, hash_secret(temporary), must_change=True)
        # The temporary PIN itself is never logged; only that the desk reset it, and who.
        await tx.event("worker.pin_reset", market_id=shared[0], actor=principal.user_id,
                       subject=worker_id, payload={"id_number": worker["id_number_masked"]})
        await audit(tx, principal, "worker.pin_reset", "worker", worker_id, [shared[0]])
    if worker["id_number_index"]:
        # The wrong PINs that brought the worker to the desk no longer hold the kiosk shut.
        await ctx.live.clear_hits(PIN_BUCKET, worker["id_number_index"])
    return {"worker_id": worker_id, "temporary_pin": temporary}


async def change(ctx: Context, principal: Principal, body: object) -> dict[str, Any]:
    """``PUT /me/pin``: the signed-in worker sets a PIN of their own (also, and only, what a
    session opened with a desk-reset PIN may do)."""
    if principal.role is not Role.WORKER:
        raise ForbiddenError("this needs a worker account", code="wrong_role")
    fields = v.exact_fields(body, required={"pin"}, optional=set())
    pin = v.pin(fields["pin"])
    if len(set(pin)) == 1:
        raise ValidationError("choose a PIN that is not one digit repeated", code="weak_pin",
                              field="pin")
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        await pins.set_pin(tx, principal.user_id, hash_secret(pin), must_change=False)
        await pins.limit_session(tx, principal.token_hash, pin_change_only=False)
        await tx.event("worker.pin_changed", market_id=None, actor=principal.user_id,
                       subject=principal.user_id, payload={})
    return {"ok": True, "must_change_pin": False}


async def find(ctx: Context, principal: Principal, market_id: str,
               text: str | None) -> dict[str, Any]:
    """The desk looks a worker up by the last digits of the ID number or by name."""
    await require_manager_of(ctx, principal, "market", market_id)
    q = (text or "").strip()
    if not q:
        raise ValidationError("type the last digits of the ID number or the name",
                              code="required", field="q")
    q = v.text(q, "q", max_len=20)
    rows = await membership.search_workers(ctx.ledger, [market_id], q, FOUND_MAX)
    # Looking people up shows their names and ID digits: the log says who looked for whom.
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        await audit(tx, principal, "worker.search", "market", market_id, [market_id], q=q,
                    found=[r["id"] for r in rows])
    locked: dict[str, list[dict[str, str]]] = {}
    for a in await checkin_codes.locked_of(ctx.ledger, [r["id"] for r in rows],
                                           checkin_code.MAX_WRONG):
        if a["market_id"] == market_id:
            locked.setdefault(a["worker_id"], []).append({"id": a["id"], "title": a["title"]})
    return {"workers": [{
        "id": r["id"], "name": r["name"], "id_number": r["id_number_masked"],
        "phone": mask_phone(r["phone"]) if r["phone"] else None, "state": r["state"],
        "must_change_pin": bool(r["pin_must_change"]),
        # Check-in codes locked by wrong typing: the desk can unlock them here.
        "locked_assignments": locked.get(r["id"], []),
    } for r in rows]}
