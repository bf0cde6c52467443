"""After the accept (SPEC 5): check-in at the site by QR, no-show, the worker's cancel,
completion with hours and pay, the worker's pay confirmation, wage disputes, ratings both ways,
reliability.

Every step is one ledger transaction with its event, a message to the other side (the worker's
``assignment``, the employer's ``job``) and an entry in the manager's feed; published after the
commit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from gigmarket import protocol
from gigmarket.core import checkin_code
from gigmarket.core import reliability as rel
from gigmarket.core import validation as v
from gigmarket.core.errors import ConflictError, NotFoundError, ValidationError
from gigmarket.core.model import (
    AssignmentState,
    JobState,
    OfferState,
    Role,
    WorkerState,
)
from gigmarket.core.privacy import mask_name
from gigmarket.services import offers as offer_service
from gigmarket.services import site_code, views
from gigmarket.services.auth import require, require_market
from gigmarket.services.context import Context, Principal, tell_market, worker_recipient
from gigmarket.services.live_records import job_record, refresh_employer_jobs, worker_record
from gigmarket.services.tenancy import audit, require_manager_of
from gigmarket.store import (
    assignments,
    checkin_codes,
    employers,
    jobs,
    locks,
    offers,
    ratings,
    transitions,
    trust_reports,
    workers,
)
from gigmarket.store import disputes as dispute_store
from gigmarket.store.ledger import Row, Tx

_A = AssignmentState

#: Assignment states in which the work is over, one way or another.
SETTLED = frozenset({_A.COMPLETED, _A.PAID, _A.DISPUTED, _A.NO_SHOW, _A.CANCELLED})


async def _assignment(ctx: Context, principal: Principal, assignment_id: str) -> tuple[Row, Row]:
    """The assignment and its job, if the caller is its worker, its employer or its manager."""
    a = await assignments.get(ctx.ledger, assignment_id)
    job = None if a is None else await jobs.get(ctx.ledger, a["job_id"])
    if a is None or job is None:
        raise NotFoundError("no such assignment", field="assignment_id")
    if principal.role is Role.MANAGER:
        require_market(principal, a["market_id"])
    elif not ((principal.role is Role.WORKER and a["worker_id"] == principal.user_id)
              or (principal.role is Role.EMPLOYER and job["employer_id"] == principal.user_id)):
        # Another's assignment is reported as missing: its existence is not theirs to learn.
        raise NotFoundError("no such assignment", field="assignment_id")
    return a, job


async def _move(tx: Tx, a: Row, target: AssignmentState, **columns: Any) -> Row:
    """Apply the transition with ``columns`` if the table allows it from the state the row is
    in now: checked and written in one statement, so a concurrent writer cannot slip between."""
    return await transitions.move(tx, target, a["id"], **columns)


async def _tell_both(ctx: Context, tx: Tx, a: Row, type_: str, **feed: Any) -> dict[str, Any]:
    """The worker's ``assignment``, the employer's ``job`` and the manager's feed entry."""
    view = await offer_service.assignment_view(ctx, a, tx)
    await tx.message(worker_recipient(a["worker_id"]), protocol.assignment(view))
    await offer_service.tell_employer(ctx, tx, a["job_id"])
    await tell_market(ctx, tx, a["market_id"], type_, assignment_id=a["id"],
                      job_id=a["job_id"], **feed)
    return view


async def _settle_job(tx: Tx, job_id: str) -> None:
    """The job is completed once every assignment that went ahead is completed or paid."""
    states = [AssignmentState(s) for s in await assignments.states_of_job(tx, job_id)]
    worked = [s for s in states if s not in (_A.NO_SHOW, _A.CANCELLED)]
    if worked and all(s in (_A.COMPLETED, _A.PAID, _A.DISPUTED) for s in worked):
        await transitions.move_if(tx, JobState.COMPLETED, job_id,
                                  only_from={JobState.IN_PROGRESS, JobState.FILLED})


async def recompute_worker(tx: Tx, worker_id: str) -> float:
    w = await workers.get(tx, worker_id)
    assert w is not None
    value = rel.worker_reliability(rel.WorkerRecord(w["kept"], w["no_shows"], w["late_cancels"]))
    await workers.set_reliability(tx, worker_id, value)
    return value


async def recompute_employer(ctx: Context, tx: Tx, employer_id: str) -> float:
    e = await employers.get(tx, employer_id)
    assert e is not None
    value = rel.employer_reliability(rel.EmployerRecord(
        e["kept"], e["no_shows"], e["late_cancels"], e["disputes"], e["upheld_reports"]))
    await employers.set_reliability(tx, employer_id, value)
    rescored(ctx, tx, employer_id)
    return value


def rescored(ctx: Context, tx: Tx, employer_id: str) -> None:
    """The employer's rating or reliability moved: once the change is committed, its open
    jobs' live records are rewritten, so the next round weighs them as they now stand."""
    tx.after_commit[f"rescored:{employer_id}"] = lambda: refresh_employer_jobs(ctx, employer_id)


async def refresh_worker(ctx: Context, worker_id: str) -> None:
    """A waiting worker's live record after their rating or reliability changed."""
    row = await workers.get(ctx.ledger, worker_id)
    if row is None or not row["market_id"] or row["state"] not in ("available", "offered"):
        return
    state = await ctx.live.worker_state(row["market_id"], worker_id)
    if state is None:
        return
    record = await worker_record(ctx.ledger, ctx, row, ctx.clock())
    await ctx.live.put_worker(row["market_id"], worker_id, record, state)


async def _back_to_work(ctx: Context, tx: Tx, worker_id: str) -> dict[str, Any] | None:
    """An assignment ended: a worker still checked in, within the hours they gave, waits for
    the next job of the day (SPEC 11.2). Returns their live record to put in the pool after
    the commit, or ``None`` when they stay out of it."""
    w = await workers.get(tx, worker_id)
    assert w is not None
    if (w["state"] != WorkerState.ASSIGNED.value or not w["market_id"]
            or (w["available_until"] is not None and w["available_until"] <= tx.now)):
        return None
    fresh = await transitions.move(tx, WorkerState.AVAILABLE, worker_id,
                                   only_from={WorkerState.ASSIGNED})
    await tx.event("worker.back_to_work", market_id=w["market_id"], actor="system",
                   subject=worker_id, payload={})
    tx.kicks.add(w["market_id"])
    return {"market_id": w["market_id"], "record": await worker_record(tx, ctx, fresh, tx.now)}


async def _into_pool(ctx: Context, worker_id: str, back: dict[str, Any] | None) -> None:
    if back is not None:
        await ctx.live.put_worker(back["market_id"], worker_id, back["record"], "available")
    else:
        await refresh_worker(ctx, worker_id)


# -- the site -----------------------------------------------------------------------------------

def job_code(ctx: Context, job: Row) -> str:
    """The site's code for a job (the worker scans it on arrival); valid until the job ends."""
    end = job["start_at"] + job["duration_hours"] * 3600 + offer_service.CODE_GRACE_S
    return site_code.sign(job["id"], end, ctx.settings.secret_key)


async def site(ctx: Context, principal: Principal, job_id: str) -> dict[str, Any]:
    require(principal, Role.EMPLOYER)
    job = await jobs.get(ctx.ledger, job_id)
    if job is None or job["employer_id"] != principal.user_id:
        raise NotFoundError("no such job", field="job_id")
    code = job_code(ctx, job)
    expires = float(code.split(".")[2])
    return {"job_id": job_id, "code": code, "qr_svg": site_code.svg(code),
            "digits": checkin_code.digits(job_id, ctx.settings.secret_key),
            "expires_at": ctx.iso(expires, job["market_id"])}


async def checkin(ctx: Context, principal: Principal, assignment_id: str,
                  body: object) -> dict[str, Any]:
    """The employer scans (or types) the worker's slip code, or the worker the site's.

    ``code`` is the QR text or its six digits. Wrong six-digit codes are counted: after
    ``MAX_WRONG`` the assignment refuses typed codes (409 ``code_locked``) until a manager
    unlocks it or a scanned QR checks the worker in.
    """
    require(principal, Role.EMPLOYER, Role.WORKER)
    fields = v.exact_fields(body, required={"code"}, optional=set())
    code = v.text(fields["code"], "code", max_len=200)
    a, job = await _assignment(ctx, principal, assignment_id)
    key = ctx.settings.secret_key
    now = ctx.clock()
    # The employer must hold the worker's own code, the worker the site's: each proves the
    # other was there.
    expected = a["id"] if principal.role is Role.EMPLOYER else job["id"]
    typed = checkin_code.is_digits(code)
    if not typed and site_code.verify(code, key, now) != expected:
        raise ValidationError("this code is not valid for this assignment (or has expired)",
                              code="bad_code", field="code")
    refusal: ValidationError | ConflictError | None = None
    async with ctx.ledger.transaction(now) as tx:
        if typed:
            # Count, compare, add: guesses sent at once are counted one after another.
            await tx.lock(locks.assignment(a["id"]))
            wrong = await checkin_codes.failures(tx, a["id"])
            if wrong >= checkin_code.MAX_WRONG:
                raise ConflictError("too many wrong codes: scan the QR on the slip, or ask the"
                                    " market staff to unlock", code="code_locked", field="code")
            if not checkin_code.matches(code, expected, key):
                # Counted and committed even though the request is refused.
                wrong = await checkin_codes.add_failure(tx, a["id"])
                await tx.event("assignment.code_refused", market_id=a["market_id"],
                               actor=principal.user_id, subject=a["id"],
                               payload={"failures": wrong, "by": principal.role.value})
                left = checkin_code.MAX_WRONG - wrong
                refusal = (ConflictError("too many wrong codes: scan the QR on the slip, or ask"
                                         " the market staff to unlock", code="code_locked",
                                         field="code") if left <= 0 else
                           ValidationError(f"wrong code; {left} tries left", code="bad_code",
                                           field="code"))
        if refusal is None:
            view, leaves_dispatch = await _checked_in(ctx, tx, principal, a, job, code)
    if refusal is not None:
        raise refusal
    await ctx.publish(tx)
    if leaves_dispatch:
        await _stop_recruiting(ctx, job)
    return {"assignment": view}


async def _checked_in(ctx: Context, tx: Tx, principal: Principal, a: Row, job: Row,
                      code: str) -> tuple[dict[str, Any], bool]:
    if await assignments.code_used(tx, code, a["id"]):
        raise ConflictError("this code was already used", code="code_used", field="code")
    await assignments.use_code(tx, code, a["id"])
    # A good code, typed or scanned, ends any lockout (the employer "rescans").
    await checkin_codes.clear(tx, a["id"])
    row = await _move(tx, a, _A.CHECKED_IN, checked_in_at=tx.now)
    fresh_job = await jobs.get(tx, job["id"])
    assert fresh_job is not None
    leaves_dispatch = fresh_job["state"] == JobState.OPEN.value
    await transitions.move_if(tx, JobState.IN_PROGRESS, job["id"],
                              only_from={JobState.OPEN, JobState.FILLED})
    await tx.event("assignment.checked_in", market_id=a["market_id"],
                   actor=principal.user_id, subject=a["id"],
                   event_id=f"assignment:{a['id']}:checked_in",
                   payload={"job_id": job["id"], "by": principal.role.value,
                            "with": "digits" if checkin_code.is_digits(code) else "qr"})
    view = await _tell_both(ctx, tx, row, "assignment.checked_in", by=principal.role.value)
    return view, leaves_dispatch


async def unlock_code(ctx: Context, principal: Principal, assignment_id: str) -> dict[str, Any]:
    """A manager, having seen the worker and the slip, lets typed codes be tried again."""
    markets = await require_manager_of(ctx, principal, "assignment", assignment_id)
    a, _job = await _assignment(ctx, principal, assignment_id)
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        before = await checkin_codes.failures(tx, a["id"])
        await checkin_codes.clear(tx, a["id"])
        await tx.event("assignment.code_unlocked", market_id=a["market_id"],
                       actor=principal.user_id, subject=a["id"],
                       payload={"failures": before})
        await audit(tx, principal, "assignment.code_unlock", "assignment", a["id"], markets,
                    failures=before)
    return {"assignment_id": a["id"], "code_failures": 0, "was": before}


async def _stop_recruiting(ctx: Context, job: Row) -> None:
    """Work has begun: no new offer fits, and the pending ones are withdrawn."""
    await ctx.live.close_job(job["market_id"], job["id"])
    for offer_id in await offers.pending_of_job(ctx.ledger, job["id"]):
        try:
            await offer_service.close(ctx, offer_id, OfferState.WITHDRAWN,
                                      reason_detail="work_begun")
        except (ConflictError, NotFoundError):
            continue  # answered meanwhile


async def no_show(ctx: Context, principal: Principal, assignment_id: str) -> dict[str, Any]:
    require(principal, Role.EMPLOYER)
    a, job = await _assignment(ctx, principal, assignment_id)
    rules = ctx.market(a["market_id"]).rules
    now = ctx.clock()
    if now < a["start_at"] + rules.no_show_grace_minutes * 60:
        raise ConflictError(f"a worker can be marked absent {rules.no_show_grace_minutes:g}"
                            " minutes after the start", code="too_early",
                            field="assignment_id")
    async with ctx.ledger.transaction(now) as tx:
        row = await _move(tx, a, _A.NO_SHOW)
        await workers.count(tx, a["worker_id"], "no_shows")
        value = await recompute_worker(tx, a["worker_id"])
        await _settle_job(tx, job["id"])
        await tx.event("assignment.no_show", market_id=a["market_id"], actor=principal.user_id,
                       subject=a["id"], event_id=f"assignment:{a['id']}:no_show",
                       payload={"job_id": job["id"], "worker_id": a["worker_id"],
                                "reliability": round(value, 4)})
        view = await _tell_both(ctx, tx, row, "assignment.no_show")
        back = await _back_to_work(ctx, tx, a["worker_id"])
    await _into_pool(ctx, a["worker_id"], back)
    await ctx.publish(tx)
    return {"assignment": view}


async def cancel(ctx: Context, principal: Principal, assignment_id: str, *,
                 employer_absent: Callable[[Tx], Awaitable[None]] | None = None,
                 ) -> dict[str, Any]:
    """The worker calls off accepted work before checking in (issue 5, slice 6).

    The slot reopens and is re-offered at once, never to them again; within
    ``late_cancel_hours`` of the start it counts as a late cancel against their reliability.

    ``employer_absent`` (from ``trust.report``) files, in the same transaction, the worker's
    report that nobody came to give the work: then the call-off is not counted against them
    until a manager finds the report false.
    """
    require(principal, Role.WORKER)
    a, job = await _assignment(ctx, principal, assignment_id)
    _only_before_checkin(a)
    market_id = a["market_id"]
    rules = ctx.market(market_id).rules
    # Before the slot is free: no round may offer this worker the job they just gave up.
    await ctx.live.exclude_pairs(market_id, [(a["worker_id"], job["id"])])
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        fresh = await assignments.get(tx, a["id"])
        assert fresh is not None
        _only_before_checkin(fresh)
        row = await transitions.move(tx, _A.CANCELLED, a["id"], only_from={_A.ACCEPTED})
        # Nobody came to give this work (``employer_absent``): sending another worker to the
        # same gate would waste a second morning, so the job stops recruiting (below) and
        # stays as it is; otherwise a filled job reopens for the slot.
        await jobs.release_accepted(tx, job["id"], reopen=employer_absent is None)
        w = await workers.get(tx, a["worker_id"])
        assert w is not None
        back_to_pool = w["state"] == "assigned" and w["market_id"] == market_id
        if back_to_pool:
            await transitions.move(tx, WorkerState.AVAILABLE, w["id"],
                                   only_from={WorkerState.ASSIGNED})
        late = (employer_absent is None
                and rel.is_late(tx.now, a["start_at"], rules.late_cancel_hours))
        if employer_absent is not None:
            await employer_absent(tx)
        reliability = w["reliability"]
        if late:
            await workers.count(tx, w["id"], "late_cancels")
            reliability = await recompute_worker(tx, w["id"])
        await tx.event("assignment.cancelled", market_id=market_id, actor=principal.user_id,
                       subject=a["id"], event_id=f"assignment:{a['id']}:cancelled",
                       payload={"job_id": job["id"], "worker_id": w["id"], "by": "worker",
                                "late": late, "employer_absent": employer_absent is not None,
                                "reliability": round(reliability, 4)})
        view = await _tell_both(ctx, tx, row, "assignment.cancelled", by="worker", late=late,
                                employer_absent=employer_absent is not None)
        job_after = await jobs.get(tx, job["id"])
        employer = await employers.get(tx, job["employer_id"])
        assert job_after is not None and employer is not None
        # An in-progress job stopped recruiting when work began, and one a hired worker
        # found nobody at recruits no more; only an open one reopens.
        absent_reported = await trust_reports.absent_reported(tx, job["id"])
        reopens = job_after["state"] == JobState.OPEN.value and not absent_reported
        w_after = await workers.get(tx, w["id"])
        assert w_after is not None
        record = await worker_record(tx, ctx, w_after, tx.now) if back_to_pool else None
        tx.kicks.add(market_id)
    if employer_absent is not None:
        await ctx.live.close_job(market_id, job["id"])
        for offer_id in await offers.pending_of_job(ctx.ledger, job["id"]):
            with contextlib.suppress(ConflictError, NotFoundError):  # answered meanwhile
                await offer_service.close(ctx, offer_id, OfferState.WITHDRAWN,
                                          reason_detail="employer_absent")
    if reopens:
        await ctx.live.release_slot(market_id, job["id"],
                                    job_record(job_after, employer, ctx.settings.skills),
                                    job_after["headcount"], job_after["accepted"],
                                    job_after["pending"])
    if record is not None:
        await ctx.live.put_worker(market_id, w["id"], record)
    else:
        # Waiting elsewhere in the pool already: their busy hours and reliability changed.
        await refresh_worker(ctx, w["id"])
    await ctx.publish(tx)
    return {"assignment": view}


def _only_before_checkin(a: Row) -> None:
    if a["state"] != _A.ACCEPTED.value:
        raise ConflictError(f"the assignment is {a['state']}; only accepted work not yet begun"
                            " can be called off", code=f"assignment_{a['state']}",
                            field="assignment_id")


def _hours(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError("hours must be a number", code="bad_type", field="hours")
    if not 0 < value <= 24:
        raise ValidationError("hours must be more than 0 and at most 24", code="out_of_range",
                              field="hours")
    return float(value)


async def complete(ctx: Context, principal: Principal, assignment_id: str,
                   body: object) -> dict[str, Any]:
    require(principal, Role.EMPLOYER)
    fields = v.exact_fields(body, required={"hours", "pay"}, optional=set())
    hours = _hours(fields["hours"])
    pay = v.money(fields["pay"], "pay")
    a, job = await _assignment(ctx, principal, assignment_id)
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        row = await _move(tx, a, _A.COMPLETED, completed_at=tx.now, hours=hours,
                          pay_fen=pay.fen, pay_unit=pay.unit.value)
        await workers.count(tx, a["worker_id"], "kept")
        await employers.count(tx, job["employer_id"], "kept")
        await recompute_worker(tx, a["worker_id"])
        await recompute_employer(ctx, tx, job["employer_id"])
        await _settle_job(tx, job["id"])
        await tx.event("assignment.completed", market_id=a["market_id"],
                       actor=principal.user_id, subject=a["id"],
                       event_id=f"assignment:{a['id']}:completed",
                       payload={"job_id": job["id"], "hours": hours, "pay_fen": pay.fen,
                                "pay_unit": pay.unit.value})
        view = await _tell_both(ctx, tx, row, "assignment.completed", hours=hours,
                                pay=pay.as_json())
        back = await _back_to_work(ctx, tx, a["worker_id"])
    await _into_pool(ctx, a["worker_id"], back)
    await ctx.publish(tx)
    return {"assignment": view}


async def paid(ctx: Context, principal: Principal, assignment_id: str) -> dict[str, Any]:
    """The worker confirms the pay arrived; an open dispute over it closes as paid."""
    require(principal, Role.WORKER)
    a, job = await _assignment(ctx, principal, assignment_id)
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        row = await _move(tx, a, _A.PAID, paid_at=tx.now)
        await dispute_store.settle_paid(tx, a["id"], principal.user_id)
        await _settle_job(tx, job["id"])
        await tx.event("assignment.paid", market_id=a["market_id"], actor=principal.user_id,
                       subject=a["id"], event_id=f"assignment:{a['id']}:paid",
                       payload={"job_id": job["id"], "pay_fen": a["pay_fen"]})
        view = await _tell_both(ctx, tx, row, "assignment.paid")
        # Already back after the completion, as a rule; not if the employer skipped it.
        back = await _back_to_work(ctx, tx, a["worker_id"])
    if back is not None:
        await _into_pool(ctx, a["worker_id"], back)
    await ctx.publish(tx)
    return {"assignment": view}


# -- wage disputes --------------------------------------------------------------------------------

async def open_overdue_disputes(ctx: Context, market_id: str) -> int:
    """Completions left unconfirmed past ``pay_confirm_hours`` become disputes (the sweep)."""
    rules = ctx.market(market_id).rules
    now = ctx.clock()
    due = await assignments.unconfirmed_before(ctx.ledger, market_id,
                                               now - rules.pay_confirm_hours * 3600, 100)
    opened = 0
    for a in due:
        async with ctx.ledger.transaction(ctx.clock()) as tx:
            row = await transitions.move_if(tx, _A.DISPUTED, a["id"],
                                            only_from={_A.COMPLETED})
            if row is None:
                continue  # confirmed meanwhile
            dispute_id = await dispute_store.open_(tx, a["id"], market_id)
            await tx.event("dispute.opened", market_id=market_id, actor="system",
                           subject=dispute_id, event_id=f"assignment:{a['id']}:disputed",
                           payload={"assignment_id": a["id"], "job_id": a["job_id"],
                                    "pay_fen": a["pay_fen"]})
            await _tell_both(ctx, tx, row, "dispute.opened", dispute_id=dispute_id)
        await ctx.publish(tx)
        opened += 1
    return opened


def _dispute_view(ctx: Context, r: Row) -> dict[str, Any]:
    m = r["market_id"]
    return {
        "id": r["id"], "state": r["state"], "outcome": r["outcome"], "note": r["note"],
        "opened_at": ctx.iso(r["opened_at"], m), "resolved_at": ctx.iso(r["resolved_at"], m),
        "assignment_id": r["assignment_id"], "job_id": r["job_id"], "title": r["title"],
        "worker": mask_name(r["worker_name"] or ""), "employer": r["org_name"],
        "employer_id": r["employer_id"], "hours": r["hours"],
        "pay": views.money(r["pay_fen"], r["pay_unit"]),
        "completed_at": ctx.iso(r["completed_at"], m),
    }


async def disputes(ctx: Context, principal: Principal, market_id: str) -> dict[str, Any]:
    require_market(principal, market_id)
    rows = await dispute_store.open_of_market(ctx.ledger, market_id)
    return {"market_id": market_id, "disputes": [_dispute_view(ctx, r) for r in rows]}


async def resolve_dispute(ctx: Context, principal: Principal, dispute_id: str,
                          body: object) -> dict[str, Any]:
    require(principal, Role.MANAGER)
    fields = v.exact_fields(body, required={"note", "outcome"}, optional=set())
    note = v.text(fields["note"], "note", max_len=500, multiline=True)
    outcome = fields["outcome"]
    if outcome not in ("paid", "unpaid"):
        raise ValidationError("outcome must be paid or unpaid", code="bad_value",
                              field="outcome")
    d = await dispute_store.get(ctx.ledger, dispute_id)
    if d is None:
        raise NotFoundError("no such dispute", field="dispute_id")
    require_market(principal, d["market_id"])
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        if not await dispute_store.resolve(tx, dispute_id, outcome=outcome, note=note,
                                           by=principal.user_id):
            raise ConflictError("the dispute is already resolved", code="dispute_resolved",
                                field="dispute_id")
        a = await assignments.get(tx, d["assignment_id"])
        assert a is not None
        if outcome == "paid":
            a = await _move(tx, a, _A.PAID, paid_at=tx.now)
        else:
            # Unpaid wages found: the employer's record carries it (根治欠薪).
            await employers.count(tx, d["employer_id"], "disputes")
            await recompute_employer(ctx, tx, d["employer_id"])
        await _settle_job(tx, d["job_id"])
        await audit(tx, principal, "dispute.resolve", "dispute", dispute_id,
                    [d["market_id"]], outcome=outcome)
        await tx.event("dispute.resolved", market_id=d["market_id"], actor=principal.user_id,
                       subject=dispute_id, event_id=f"dispute:{dispute_id}:resolved",
                       payload={"outcome": outcome, "note": note,
                                "assignment_id": d["assignment_id"]})
        await _tell_both(ctx, tx, a, "dispute.resolved", dispute_id=dispute_id, outcome=outcome)
    await ctx.publish(tx)
    out = await dispute_store.get(ctx.ledger, dispute_id)
    assert out is not None
    return _dispute_view(ctx, out)


# -- ratings both ways ----------------------------------------------------------------------------

#: What each side may rate after: the worker once the work is done, the employer also after a
#: no-show (the record of one is the point).
_RATEABLE = {
    Role.WORKER: frozenset({_A.COMPLETED, _A.PAID, _A.DISPUTED}),
    Role.EMPLOYER: frozenset({_A.COMPLETED, _A.PAID, _A.DISPUTED, _A.NO_SHOW}),
}


def _tags(value: object) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValidationError("tags must be a list of strings", code="bad_type", field="tags")
    if len(value) > rel.MAX_TAGS:
        raise ValidationError(f"at most {rel.MAX_TAGS} tags", code="too_many", field="tags")
    return rel.distinct_tags([v.text(t, f"tags[{i}]", max_len=20) for i, t in enumerate(value)])


async def rate(ctx: Context, principal: Principal, assignment_id: str,
               body: object) -> dict[str, Any]:
    require(principal, Role.WORKER, Role.EMPLOYER)
    fields = v.exact_fields(body, required={"stars"}, optional={"tags"})
    stars = rel.check_stars(fields["stars"])
    if stars is None:
        raise ValidationError("stars must be a whole number from 1 to 5", code="out_of_range",
                              field="stars")
    tags = _tags(fields.get("tags"))
    a, job = await _assignment(ctx, principal, assignment_id)
    if AssignmentState(a["state"]) not in _RATEABLE[principal.role]:
        raise ConflictError(f"the assignment is {a['state']}; rate it after the work",
                            code=f"assignment_{a['state']}", field="assignment_id")
    by_worker = principal.role is Role.WORKER
    ratee = job["employer_id"] if by_worker else a["worker_id"]
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        if await ratings.given(tx, a["id"], principal.role.value):
            raise ConflictError("you have already rated this assignment", code="already_rated",
                                field="assignment_id")
        await ratings.add(tx, assignment_id=a["id"], by_role=principal.role.value,
                          rater_id=principal.user_id, ratee_id=ratee, stars=stars, tags=tags)
        rating_sum, rating_count = await (employers.rate if by_worker else workers.rate)(
            tx, ratee, stars)
        await tx.event("rating.given", market_id=a["market_id"], actor=principal.user_id,
                       subject=a["id"], event_id=f"assignment:{a['id']}:rated:{principal.role}",
                       payload={"by": principal.role.value, "ratee": ratee, "stars": stars,
                                "tags": tags})
        await _tell_both(ctx, tx, a, "rating.given", by=principal.role.value, stars=stars)
        if by_worker:
            rescored(ctx, tx, ratee)
    await ctx.publish(tx)
    if not by_worker:
        await refresh_worker(ctx, ratee)
    return {"assignment_id": a["id"], "by": principal.role.value, "stars": stars, "tags": tags,
            "rating": views.rating(rating_sum, rating_count)}

