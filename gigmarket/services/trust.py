"""Keeping the market honest: workers' reports on postings (虚假招聘, 黑中介), the manager's
review of them, suspending an employer, and blocks between a worker and an employer."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from gigmarket.core import validation as v
from gigmarket.core.errors import ConflictError, NotFoundError, ValidationError
from gigmarket.core.model import OfferState, Role
from gigmarket.core.privacy import mask_name
from gigmarket.services import lifecycle
from gigmarket.services import offers as offer_service
from gigmarket.services.auth import require, require_market
from gigmarket.services.context import Context, Principal, tell_market
from gigmarket.services.jobs import withdraw_jobs
from gigmarket.services.tenancy import audit, require_manager_of
from gigmarket.store import (
    assignments,
    blocks,
    employers,
    jobs,
    keys,
    membership,
    offers,
    sessions,
    trust_reports,
    workers,
)
from gigmarket.store.ledger import Row, Tx, new_id

#: ``no_show``: the worker came and nobody was there to give the work (雇主未到场).
REPORT_REASONS = ("fake", "not_as_described", "unpaid", "no_show")
#: Jobs a suspension withdraws: everything not yet under way.
WITHDRAWN_ON_SUSPENSION = ("pending_review", "open", "filled")


# -- reports ----------------------------------------------------------------------------------

async def report(ctx: Context, principal: Principal, job_id: str,
                 body: object) -> dict[str, Any]:
    """A worker who was offered or hired for a job reports it.

    A ``no_show`` report also ends the worker's accepted work on the job (they are free to
    be dispatched again at once), without counting against them; see :func:`resolve_report`.
    """
    require(principal, Role.WORKER)
    fields = v.exact_fields(body, required={"reason"}, optional={"note"})
    reason = fields["reason"]
    if reason not in REPORT_REASONS:
        raise ValidationError(f"reason must be one of {', '.join(REPORT_REASONS)}",
                              code="bad_value", field="reason")
    note = v.text(fields.get("note"), "note", max_len=500, required=False, multiline=True)
    job = await jobs.get(ctx.ledger, job_id)
    met = job is not None and (
        await offers.met(ctx.ledger, job_id, principal.user_id)
        or await assignments.of_pair(ctx.ledger, job_id, principal.user_id) is not None)
    if job is None or not met:
        # Only who met the posting may report it: a rival cannot flood the queue.
        raise NotFoundError("no such job among your offers and work", field="job_id")
    report_id = new_id("rp")

    async def file(tx: Tx) -> None:
        if await trust_reports.filed(tx, job_id, principal.user_id):
            raise ConflictError("you have already reported this job", code="already_reported",
                                field="job_id")
        await trust_reports.file(tx, report_id=report_id, job=job, worker_id=principal.user_id,
                                 reason=reason, note=note)
        await tx.event("report.filed", market_id=job["market_id"], actor=principal.user_id,
                       subject=report_id, payload={"job_id": job_id, "reason": reason})
        await tell_market(ctx, tx, job["market_id"], "report.filed", report_id=report_id,
                          job_id=job_id, title=job["title"], reason=reason)

    if reason == "no_show":
        waiting = await _awaited_work(ctx, job, principal.user_id)
        await lifecycle.cancel(ctx, principal, waiting["id"], employer_absent=file)
    else:
        async with ctx.ledger.transaction(ctx.clock()) as tx:
            await file(tx)
        await ctx.publish(tx)
    return {"id": report_id, "job_id": job_id, "reason": reason, "note": note, "state": "open"}


async def _awaited_work(ctx: Context, job: Row, worker_id: str) -> Row:
    """The worker's accepted, not yet begun work on ``job``, once nobody came to give it."""
    a = await assignments.of_pair(ctx.ledger, job["id"], worker_id)
    if a is None or a["state"] != "accepted":
        raise ConflictError("nobody-came reports are for work you accepted and have not begun",
                            code="no_awaited_work", field="reason")
    grace = ctx.market(job["market_id"]).rules.no_show_grace_minutes
    if ctx.clock() < a["start_at"] + grace * 60:
        raise ConflictError(f"an employer can be reported absent {grace:g} minutes after the"
                            " start", code="too_early", field="reason")
    return a


def _report_view(ctx: Context, r: Row) -> dict[str, Any]:
    m = r["market_id"]
    return {
        "id": r["id"], "job_id": r["job_id"], "title": r["title"], "job_state": r["job_state"],
        "employer_id": r["employer_id"], "employer": r["org_name"],
        "employer_state": r["employer_state"], "worker": mask_name(r["worker_name"] or ""),
        "reason": r["reason"], "note": r["note"], "at": ctx.iso(r["at"], m),
        "state": r["state"], "upheld": None if r["upheld"] is None else bool(r["upheld"]),
        "resolution_note": r["resolution_note"], "resolved_at": ctx.iso(r["resolved_at"], m),
    }


async def reports(ctx: Context, principal: Principal, market_id: str) -> dict[str, Any]:
    require_market(principal, market_id)
    rows = await trust_reports.open_of_market(ctx.ledger, market_id)
    return {"market_id": market_id, "reports": [_report_view(ctx, r) for r in rows]}


async def resolve_report(ctx: Context, principal: Principal, report_id: str,
                         body: object) -> dict[str, Any]:
    require(principal, Role.MANAGER)
    fields = v.exact_fields(body, required={"upheld", "note"}, optional=set())
    upheld = fields["upheld"]
    if not isinstance(upheld, bool):
        raise ValidationError("upheld must be true or false", code="bad_type", field="upheld")
    note = v.text(fields["note"], "note", max_len=500, multiline=True)
    row = await trust_reports.get(ctx.ledger, report_id)
    if row is None:
        raise NotFoundError("no such report", field="report_id")
    require_market(principal, row["market_id"])
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        if not await trust_reports.resolve(tx, report_id, upheld=upheld, note=note,
                                           by=principal.user_id):
            raise ConflictError("the report is already resolved", code="report_resolved",
                                field="report_id")
        absent = row["reason"] == "no_show"
        if upheld:
            # An employer who left a hired worker standing is a no-show, the worst lapse
            # after unpaid wages; any other upheld report counts as one of its own.
            await employers.count(tx, row["employer_id"],
                                  "no_shows" if absent else "upheld_reports")
            await lifecycle.recompute_employer(ctx, tx, row["employer_id"])
        elif absent:
            # The employer was there: the worker's call-off was a late cancel after all.
            await workers.count(tx, row["worker_id"], "late_cancels")
            await lifecycle.recompute_worker(tx, row["worker_id"])
        await audit(tx, principal, "report.resolve", "report", report_id, [row["market_id"]],
                    upheld=upheld)
        await tx.event("report.resolved", market_id=row["market_id"], actor=principal.user_id,
                       subject=report_id, event_id=f"report:{report_id}:resolved",
                       payload={"upheld": upheld, "note": note,
                                "employer_id": row["employer_id"]})
        await tell_market(ctx, tx, row["market_id"], "report.resolved", report_id=report_id,
                          upheld=upheld)
    await ctx.publish(tx)
    if not upheld and row["reason"] == "no_show":
        await lifecycle.refresh_worker(ctx, row["worker_id"])
    out = await trust_reports.get(ctx.ledger, report_id)
    assert out is not None
    return _report_view(ctx, out)


# -- suspension -------------------------------------------------------------------------------

async def suspend(ctx: Context, principal: Principal, employer_id: str,
                  body: object | None = None) -> dict[str, Any]:
    """Suspend an employer in the manager's markets (SPEC 11.3): it can no longer post there,
    and its jobs there not yet under way are withdrawn (pending offers close as
    ``withdrawn``, hired workers get ``job_cancelled``); its jobs in other markets are
    untouched. Once it is suspended in every market it belongs to, the account itself is
    suspended: its sessions end and its sockets close at once."""
    require(principal, Role.MANAGER)
    fields = v.exact_fields(body if body is not None else {}, required=set(),
                            optional={"note"})
    note = v.text(fields.get("note"), "note", max_len=500, required=False, multiline=True)
    employer = await employers.get(ctx.ledger, employer_id)
    if employer is None:
        raise NotFoundError("no such employer", field="employer_id")
    markets = await require_manager_of(ctx, principal, "employer", employer_id)
    already = await membership.employer_suspended_in(ctx.ledger, employer_id)
    if employer["state"] == "suspended" or set(markets) <= set(already):
        raise ConflictError("the employer is already suspended", code="employer_suspended",
                            field="employer_id")
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        for market_id in markets:
            await membership.suspend_employer_in(tx, employer_id, market_id, principal.user_id)
            await tx.event("employer.suspended", market_id=market_id,
                           actor=principal.user_id, subject=employer_id,
                           payload={"note": note})
            await tell_market(ctx, tx, market_id, "employer.suspended",
                              employer_id=employer_id, org_name=employer["org_name"])
        everywhere = set(await membership.markets_of(tx, "employer", employer_id)) <= set(
            await membership.employer_suspended_in(tx, employer_id))
        if everywhere:
            await employers.suspend(tx, employer_id)
            await sessions.revoke_all(tx, employer_id)
        await audit(tx, principal, "employer.suspend", "employer", employer_id, markets,
                    note=note, account_suspended=everywhere)
    await ctx.publish(tx)
    if everywhere:
        # Every process closes the employer's sockets (SPEC 9).
        await ctx.live.publish(keys.REVOKE, json.dumps({"user_id": employer_id}))
    going = await jobs.of_employer_in(ctx.ledger, employer_id, WITHDRAWN_ON_SUSPENSION)
    withdrawn = await withdraw_jobs(ctx, principal.user_id,
                                    [j for j in going if j["market_id"] in markets],
                                    reason="employer_suspended", by_employer=False)
    return {"employer_id": employer_id, "state": "suspended" if everywhere else "active",
            "suspended_in": list(markets), "jobs_withdrawn": withdrawn}


# -- blocks -----------------------------------------------------------------------------------

async def block(ctx: Context, principal: Principal, body: object) -> dict[str, Any]:
    """A worker blocks an employer, or an employer a worker, that they have met: never
    matched again, and no claim across the block."""
    require(principal, Role.WORKER, Role.EMPLOYER)
    if principal.role is Role.WORKER:
        fields = v.exact_fields(body, required={"employer_id"}, optional=set())
        worker_id, employer_id = principal.user_id, v.text(fields["employer_id"], "employer_id",
                                                           max_len=64)
        other_field = "employer_id"
    else:
        fields = v.exact_fields(body, required={"worker_id"}, optional=set())
        worker_id = v.text(fields["worker_id"], "worker_id", max_len=64)
        employer_id = principal.user_id
        other_field = "worker_id"
    if not await blocks.met(ctx.ledger, worker_id, employer_id):
        raise NotFoundError("you can block only someone you were matched with",
                            field=other_field)
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        await blocks.add(tx, worker_id, employer_id, principal.role.value)
        await tx.event("block.added", market_id=None, actor=principal.user_id,
                       subject=worker_id if principal.role is Role.EMPLOYER else employer_id,
                       event_id=f"block:{worker_id}:{employer_id}:{principal.role.value}",
                       payload={"worker_id": worker_id, "employer_id": employer_id,
                                "by": principal.role.value})
        live_jobs = await jobs.of_employer_in(tx, employer_id,
                                              ("pending_review", "open", "filled"))
    await ctx.publish(tx)
    # The round's exclusions hold blocked pairs (jobs opened later add theirs on opening).
    by_market: dict[str, list[tuple[str, str]]] = {}
    for j in live_jobs:
        by_market.setdefault(j["market_id"], []).append((worker_id, j["id"]))
    for market_id, pairs in by_market.items():
        await ctx.live.exclude_pairs(market_id, pairs)
    for offer_id in await offers.pending_between(ctx.ledger, worker_id, employer_id):
        with contextlib.suppress(ConflictError, NotFoundError):
            await offer_service.close(ctx, offer_id, OfferState.WITHDRAWN, reason_detail="blocked")
    return {"worker_id": worker_id, "employer_id": employer_id, "by": principal.role.value}
