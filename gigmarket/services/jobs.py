"""Employers and their jobs: profile, posting (idempotent), reading, cancelling; and the
manager's review of both."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from gigmarket import protocol
from gigmarket.core import validation as v
from gigmarket.core.errors import (
    ConflictError,
    DomainError,
    ForbiddenError,
    NotFoundError,
    ValidationError,
)
from gigmarket.core.model import (
    AssignmentState,
    JobState,
    KeyGroup,
    OfferState,
    Role,
    WorkerState,
    can_transition,
    check_transition,
)
from gigmarket.core.reliability import is_late
from gigmarket.services import lifecycle, views
from gigmarket.services import offers as offer_service
from gigmarket.services.auth import require, require_market
from gigmarket.services.context import (
    Context,
    Principal,
    employer_recipient,
    market_event,
    market_recipient,
    tell_market,
    worker_recipient,
)
from gigmarket.services.live_records import job_record, worker_record
from gigmarket.services.tenancy import audit, require_manager_of
from gigmarket.store import (
    assignments,
    blocks,
    employers,
    idempotency,
    jobs,
    membership,
    transitions,
    workers,
)
from gigmarket.store import offers as offer_store
from gigmarket.store.ledger import Row, Tx, new_id


async def put_employer_profile(ctx: Context, principal: Principal,
                               body: object) -> dict[str, Any]:
    require(principal, Role.EMPLOYER)
    draft = v.parse_employer_profile(body)
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        before = await employers.get(tx, principal.user_id)
        assert before is not None
        # A changed credit code is a different business: it must be verified again.
        verified = before["verified"] if before["credit_code"] == draft.credit_code else 0
        row = await employers.save_profile(tx, principal.user_id, name=draft.name,
                                           org_name=draft.org_name,
                                           credit_code=draft.credit_code, verified=verified)
        await tx.event("employer.profile_saved", market_id=None, actor=principal.user_id,
                       subject=principal.user_id,
                       payload={"org_name": draft.org_name, "credit_code": draft.credit_code})
    return views.employer_me(row)


def _request_hash(method_path: str, body: object) -> str:
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{method_path}\n{canonical}".encode()).hexdigest()


async def _replay(tx: Tx, user_id: str, key: str | None, request_hash: str) -> Any | None:
    """A repeat of an ``Idempotency-Key`` returns the first result; another body is a 422."""
    if key is None:
        return None
    row = await idempotency.recall(tx, user_id, key)
    if row is None:
        return None
    if row["request_hash"] != request_hash:
        raise ValidationError("this Idempotency-Key was used with another request",
                              code="idempotency_key_reused", field="Idempotency-Key")
    return json.loads(row["response"])


async def _remember(tx: Tx, user_id: str, key: str | None, request_hash: str, status: int,
                    response: Any) -> None:
    if key is not None:
        await idempotency.remember(tx, user_id, key, request_hash, status, response)


def check_idempotency_key(key: str | None) -> str | None:
    if key is not None and not (1 <= len(key) <= 200 and key.isprintable()):
        raise ValidationError("Idempotency-Key must be 1 to 200 printable characters",
                              code="bad_idempotency_key", field="Idempotency-Key")
    return key


async def post_job(ctx: Context, principal: Principal, market_id: str, body: object,
                   idempotency_key: str | None) -> dict[str, Any]:
    require(principal, Role.EMPLOYER)
    market = ctx.market(market_id)
    key = check_idempotency_key(idempotency_key)
    now = ctx.clock()
    request_hash = _request_hash(f"POST /markets/{market_id}/jobs", body)
    async with ctx.ledger.transaction(now) as tx:
        replay = await _replay(tx, principal.user_id, key, request_hash)
        if replay is not None:
            return dict(replay)
        draft = v.parse_job(body, market, datetime.fromtimestamp(now, ctx.tz(market_id)))
        employer = await employers.get(tx, principal.user_id)
        assert employer is not None
        if not employer["org_name"] or not employer["credit_code"]:
            raise ConflictError("register your business (name and credit code) before posting",
                                code="profile_incomplete", field="credit_code")
        job_id = new_id("j")
        job, live = await insert_job(ctx, tx, employer, market_id, draft, job_id,
                                     actor=principal.user_id)
        view = await offer_service.job_view(ctx, tx, job_id)
        await _remember(tx, principal.user_id, key, request_hash, 201, view)
        # Read here, inside the write, rather than after it: a block added meanwhile either
        # came before (read here) or after (and excludes this job itself, see trust.block).
        blocked = await blocks.workers_blocked_by(tx, employer["id"]) if live else []
    if live:
        await open_live(ctx, job, employer, blocked)
    await ctx.publish(tx)
    return view


async def insert_job(ctx: Context, tx: Tx, employer: Row, market_id: str, draft: v.JobDraft,
                     job_id: str, *, actor: str, via: str = "phone") -> tuple[Row, bool]:
    """A validated posting becomes a job, reviewed as every posting is (by the employer's
    phone or through the provincial exchange); returns the job and whether it went live (the
    caller opens it in the live store after the commit)."""
    if employer["state"] != "active" or market_id in await membership.employer_suspended_in(
            tx, employer["id"]):
        raise ForbiddenError("this employer is suspended", code="suspended")
    live = bool(employer["verified"]) and ctx.market(market_id).rules.auto_approve_verified
    state = JobState.OPEN if live else JobState.PENDING_REVIEW
    await jobs.insert(tx, job_id=job_id, employer_id=employer["id"], market_id=market_id,
                      title=draft.title, skills=list(draft.skills), headcount=draft.headcount,
                      wage_fen=draft.wage.fen, wage_unit=draft.wage.unit.value,
                      start_at=draft.start_at.timestamp(), duration_hours=draft.duration_hours,
                      lat=draft.lat, lon=draft.lon, address=draft.address,
                      description=draft.description, state=state.value)
    payload: dict[str, Any] = {"state": state.value, "headcount": draft.headcount,
                               "skills": list(draft.skills)}
    if via != "phone":
        payload["via"] = via
    await tx.event("job.posted", market_id=market_id, actor=actor, subject=job_id,
                   payload=payload)
    await membership.join(tx, "employer", employer["id"], market_id)
    await offer_service.tell_employer(ctx, tx, job_id)
    await tell_market(ctx, tx, market_id, "job.posted", job_id=job_id, title=draft.title,
                      state=state.value, headcount=draft.headcount)
    job = await jobs.get(tx, job_id)
    assert job is not None
    if live:
        tx.kicks.add(market_id)
    return job, live


async def open_live(ctx: Context, job: Row, employer: Row,
                    blocked: list[str] | None = None) -> None:
    """The job in the live store, after its commit; ``blocked``, the workers its employer
    has blocked or been blocked by, if the caller read them in its transaction."""
    if blocked is None:
        blocked = await blocks.workers_blocked_by(ctx.ledger, job["employer_id"])
    # Blocked pairs first: no round may see the job before its exclusions.
    await ctx.live.exclude_pairs(job["market_id"], [(w, job["id"]) for w in blocked])
    await ctx.live.put_job(job["market_id"], job["id"],
                           job_record(job, employer, ctx.settings.skills),
                           job["headcount"], job["accepted"], job["pending"])


async def _own_job(ctx: Context, principal: Principal, job_id: str) -> Row:
    job = await jobs.get(ctx.ledger, job_id)
    visible = job is not None and (
        (principal.role is Role.EMPLOYER and job["employer_id"] == principal.user_id)
        or (principal.role is Role.MANAGER and job["market_id"] in principal.markets)
    )
    if not visible:
        if job is not None and principal.role is Role.MANAGER:
            raise ForbiddenError("not your market", code="not_your_market", field="market")
        raise NotFoundError("no such job", field="job_id")
    assert job is not None
    return job


async def get_job(ctx: Context, principal: Principal, job_id: str) -> dict[str, Any]:
    await _own_job(ctx, principal, job_id)
    return await offer_service.job_view(ctx, ctx.ledger, job_id,
                                        contact=principal.role is Role.EMPLOYER)


async def my_jobs(ctx: Context, principal: Principal) -> list[dict[str, Any]]:
    require(principal, Role.EMPLOYER)
    ids = await jobs.ids_of_employer(ctx.ledger, principal.user_id)
    return [await offer_service.job_view(ctx, ctx.ledger, i, contact=True) for i in ids]


async def cancel_job(ctx: Context, principal: Principal, job_id: str,
                     *, reason: str = "cancelled_by_employer") -> dict[str, Any]:
    """Cancel (employer) or reject/withdraw (manager): pending offers are withdrawn, accepted
    workers are told, and those still checked in go back to the pool."""
    if principal.role is Role.MANAGER:
        # A manager's cancel is a rejection: checked for tenancy and audited as one.
        return await reject_job(ctx, principal, job_id)
    job = await _own_job(ctx, principal, job_id)
    return await withdraw_job(ctx, principal.user_id, job, reason=reason,
                              by_employer=principal.role is Role.EMPLOYER)


async def withdraw_job(ctx: Context, actor_id: str, job: Row, *, reason: str,
                       by_employer: bool) -> dict[str, Any]:
    """Cancel ``job`` whoever asks (its employer, a manager). An employer who calls off
    accepted work within ``late_cancel_hours`` of the start loses reliability."""
    check_transition(JobState(job["state"]), JobState.CANCELLED, what="job")
    if not await withdraw_jobs(ctx, actor_id, [job], reason=reason, by_employer=by_employer):
        fresh = await jobs.get(ctx.ledger, job["id"])
        assert fresh is not None
        # It moved on meanwhile (work began, or another cancel won): say so.
        check_transition(JobState(fresh["state"]), JobState.CANCELLED, what="job")
    return await offer_service.job_view(ctx, ctx.ledger, job["id"])


async def withdraw_jobs(ctx: Context, actor_id: str, jobs_: Sequence[Row], *, reason: str,
                        by_employer: bool,
                        also: Callable[[Tx], Awaitable[None]] | None = None) -> list[str]:
    """Cancel several jobs in one transaction; returns the ids cancelled (a job that began or
    was cancelled meanwhile is skipped). Their pending offers close as ``withdrawn``, hired
    workers are told and those still checked in go back to the pool.

    One transaction for all, not one per job and offer: a suspended employer's hundred jobs
    and their offers reach every worker's socket at once, in about a second's budget, where
    a commit per offer would take several seconds of fsyncs. ``also`` adds its writes (a
    manager's audit row) to that transaction when anything was cancelled.
    """
    if not jobs_:
        return []
    # No new offer can fit from here on (headcount 0 in the live store).
    for job in jobs_:
        await ctx.live.close_job(job["market_id"], job["id"])
    by_id = {j["id"]: j for j in jobs_}

    async def gate(o: Row) -> Row | None:
        try:
            await ctx.live.close_offer(o["market_id"], o["id"])
        except NotFoundError:
            pass  # not pending in Redis: lost with a restart; the ledger still closes it
        except DomainError:
            return None  # accepted meanwhile: the hire is cancelled with the others below
        return o

    pending = await offer_store.pending_of_jobs(ctx.ledger, list(by_id))
    offers = [o for o in await asyncio.gather(*(gate(o) for o in pending)) if o is not None]
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        fresh = await jobs.of_ids(tx, list(by_id))
        # A job that began or was cancelled meanwhile is left as it is.
        going = [j for j in fresh if can_transition(JobState(j["state"]), JobState.CANCELLED)]
        cancelled = {j["id"] for j in going}
        await _close_offers(tx, [o for o in offers if o["job_id"] in cancelled], actor_id)
        back_to_pool = await _cancel_jobs(ctx, tx, going, actor_id, reason=reason,
                                          by_employer=by_employer)
        tx.kicks.update(j["market_id"] for j in going)
        if going and also is not None:
            await also(tx)
    for job in going:
        await ctx.live.forget_job(job["market_id"], job["id"])
    for w, record in back_to_pool:
        await ctx.live.put_worker(w["market_id"], w["id"], record)
    await ctx.publish(tx)
    return [j["id"] for j in going]


async def _close_offers(tx: Tx, offers: list[Row], actor_id: str) -> None:
    """Close pending offers as withdrawn (already closed in the live store), in a few
    statements however many there are."""
    ids = [o["id"] for o in offers]
    if not ids:
        return
    marks = ",".join("?" * len(ids))
    # Only those still pending move: one answered meanwhile keeps its answer.
    still = {r["id"] for r in await transitions.move_where(
        tx, OfferState.WITHDRAWN, f"id IN ({marks})", ids, only_from={OfferState.PENDING},
        closed_at=tx.now)}
    offers = [o for o in offers if o["id"] in still]
    await jobs.release_pending_many(tx, dict(Counter(o["job_id"] for o in offers)))
    worker_ids = [o["worker_id"] for o in offers]
    if worker_ids:
        await transitions.move_where(tx, WorkerState.AVAILABLE,
                                     f"id IN ({','.join('?' * len(worker_ids))})", worker_ids,
                                     only_from={WorkerState.OFFERED})
    for market_id in {o["market_id"] for o in offers}:
        await tx.event_many("offer.withdrawn", market_id, actor_id, [
            (f"offer:{o['id']}:withdrawn", o["id"],
             {"job_id": o["job_id"], "worker_id": o["worker_id"], "detail": "job_cancelled"})
            for o in offers if o["market_id"] == market_id])
    await tx.message_many([
        (worker_recipient(o["worker_id"]),
         protocol.offer_closed(o["id"], OfferState.WITHDRAWN.value))
        for o in offers])


async def _cancel_jobs(ctx: Context, tx: Tx, jobs_: list[Row], actor_id: str, *,
                       reason: str, by_employer: bool) -> list[tuple[Row, dict[str, Any]]]:
    """The jobs cancelled with their hires, everyone concerned told; returns the hired
    workers who go back to the pool, with their live records."""
    if not jobs_:
        return []
    ids = [j["id"] for j in jobs_]
    for job_id in ids:
        await transitions.move(tx, JobState.CANCELLED, job_id)
    told = await assignments.live_of_jobs(tx, ids)
    freed: list[Row] = []
    for a in told:
        await transitions.move(tx, AssignmentState.CANCELLED, a["id"])
        await tx.message(worker_recipient(a["worker_id"]),
                         protocol.job_cancelled(a["job_id"], a["id"]))
        w = await workers.get(tx, a["worker_id"])
        if w is not None and w["state"] == "assigned" and w["market_id"]:
            await transitions.move(tx, WorkerState.AVAILABLE, w["id"],
                                   only_from={WorkerState.ASSIGNED})
            freed.append(w)
    hires = Counter(a["job_id"] for a in told)
    views_ = await offer_service.job_views(ctx, tx, ids)
    feed: list[tuple[str, protocol.ServerMessage]] = []
    events: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for job in jobs_:
        market_id = job["market_id"]
        late = by_employer and hires[job["id"]] > 0 and is_late(
            tx.now, job["start_at"], ctx.market(market_id).rules.late_cancel_hours)
        if late:
            await employers.count(tx, job["employer_id"], "late_cancels")
            await lifecycle.recompute_employer(ctx, tx, job["employer_id"])
        event_id = f"job:{job['id']}:cancelled"
        events.setdefault(market_id, []).append(
            (event_id, job["id"],
             {"reason": reason, "late": late, "workers_told": hires[job["id"]]}))
        feed.append((employer_recipient(job["employer_id"]),
                     protocol.job(views_[job["id"]])))
        feed.append((market_recipient(market_id), market_event(
            event_id, "job.cancelled", ctx.iso(tx.now, market_id),
            {"job_id": job["id"], "title": job["title"], "reason": reason})))
    for market_id, items in events.items():
        await tx.event_many("job.cancelled", market_id, actor_id, items)
    await tx.message_many(feed)
    records = []
    for w in freed:
        fresh_w = await workers.get(tx, w["id"])
        assert fresh_w is not None
        records.append((fresh_w, await worker_record(tx, ctx, fresh_w, tx.now)))
    return records


# -- the manager's side ---------------------------------------------------------------------

async def approve_job(ctx: Context, principal: Principal, job_id: str) -> dict[str, Any]:
    await require_manager_of(ctx, principal, "job", job_id)
    await _open_jobs(ctx, principal, [job_id])
    return await offer_service.job_view(ctx, ctx.ledger, job_id)


async def _open_jobs(ctx: Context, principal: Principal, job_ids: list[str]) -> None:
    opened: list[tuple[Row, Row]] = []
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        for job_id in job_ids:
            job = await transitions.move(tx, JobState.OPEN, job_id)
            await tx.event("job.approved", market_id=job["market_id"], actor=principal.user_id,
                           subject=job_id, event_id=f"job:{job_id}:approved", payload={})
            await audit(tx, principal, "job.approve", "job", job_id, [job["market_id"]])
            await offer_service.tell_employer(ctx, tx, job_id)
            fresh = await jobs.get(tx, job_id)
            employer = await employers.get(tx, job["employer_id"])
            assert fresh is not None and employer is not None
            opened.append((fresh, employer))
            tx.kicks.add(job["market_id"])
    for job, employer in opened:
        await open_live(ctx, job, employer)
    await ctx.publish(tx)


async def reject_job(ctx: Context, principal: Principal, job_id: str) -> dict[str, Any]:
    markets = await require_manager_of(ctx, principal, "job", job_id)
    job = await _own_job(ctx, principal, job_id)

    async def record(tx: Tx) -> None:
        await audit(tx, principal, "job.reject", "job", job_id, markets)

    check_transition(JobState(job["state"]), JobState.CANCELLED, what="job")
    if not await withdraw_jobs(ctx, principal.user_id, [job], reason="rejected_by_manager",
                               by_employer=False, also=record):
        fresh = await jobs.get(ctx.ledger, job_id)
        assert fresh is not None
        check_transition(JobState(fresh["state"]), JobState.CANCELLED, what="job")
    return await offer_service.job_view(ctx, ctx.ledger, job_id)


async def verify_employer(ctx: Context, principal: Principal,
                          employer_id: str) -> dict[str, Any]:
    """Verify an employer; with ``auto_approve_verified`` its waiting jobs go live too."""
    require(principal, Role.MANAGER)
    employer = await employers.get(ctx.ledger, employer_id)
    if employer is None:
        raise NotFoundError("no such employer", field="employer_id")
    # A business that has posted nowhere yet belongs to no market: the manager who verifies
    # it registers it with their market (SPEC 11.3, "registered with").
    unattached = not await membership.markets_of(ctx.ledger, "employer", employer_id)
    markets = ((principal.markets[0],) if unattached and principal.markets
               else await require_manager_of(ctx, principal, "employer", employer_id))
    if not employer["credit_code"]:
        raise ConflictError("the employer has not registered a credit code yet",
                            code="profile_incomplete", field="credit_code")
    # A manager reviews the employers that post (or will post) in their markets.
    waiting = await jobs.awaiting_review_of_employer(ctx.ledger, employer_id)
    mine = [j["id"] for j in waiting if j["market_id"] in markets and
            ctx.market(j["market_id"]).rules.auto_approve_verified]
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        await employers.verify(tx, employer_id)
        for market_id in markets:
            await membership.join(tx, "employer", employer_id, market_id)
            await tx.event("employer.verified", market_id=market_id,
                           actor=principal.user_id, subject=employer_id,
                           event_id=f"employer:{employer_id}:verified:{employer['credit_code']}"
                                    f":{market_id}",
                           payload={"credit_code": employer["credit_code"]})
        await audit(tx, principal, "employer.verify", "employer", employer_id, markets,
                    credit_code=employer["credit_code"])
    if mine:
        await _open_jobs(ctx, principal, mine)
    row = await employers.get(ctx.ledger, employer_id)
    assert row is not None
    return views.employer_me(row)


async def set_key_group(ctx: Context, principal: Principal, worker_id: str,
                        body: object) -> dict[str, Any]:
    require(principal, Role.MANAGER)
    fields = v.exact_fields(body, required={"key_group"}, optional=set())
    value = fields["key_group"]
    if value is not None and (not isinstance(value, str)
                              or value not in {k.value for k in KeyGroup}):
        raise ValidationError("unknown key group", code="unknown_key_group", field="key_group")
    markets = await require_manager_of(ctx, principal, "worker", worker_id)
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        row = await workers.set_key_group(tx, worker_id, value)
        for market_id in markets:
            await tx.event("worker.key_group_set", market_id=market_id,
                           actor=principal.user_id, subject=worker_id,
                           payload={"key_group": value})
        await audit(tx, principal, "worker.key_group", "worker", worker_id, markets,
                    key_group=value)
        assert row is not None
        record = None
        if row["market_id"] and row["state"] in ("available", "offered"):
            record = await worker_record(tx, ctx, row, tx.now)
    if record is not None:
        state = await ctx.live.worker_state(row["market_id"], worker_id)
        await ctx.live.put_worker(row["market_id"], worker_id, record, state or "available")
    return {"worker_id": worker_id, "key_group": value}


async def review(ctx: Context, principal: Principal, market_id: str) -> dict[str, Any]:
    require_market(principal, market_id)
    waiting = await jobs.awaiting_review_in(ctx.ledger, market_id)
    # Every registered, unverified business: an employer who has not posted yet (or whose
    # first job was approved on its own) still needs checking before the next posting.
    unverified = await employers.unverified(ctx.ledger)
    # Only this market's businesses, and those not yet registered with any market (SPEC 11.3).
    ours = await membership.members_of(ctx.ledger, "employer", market_id)
    nowhere = await membership.members_without_market(ctx.ledger, "employer",
                                                      [e["id"] for e in unverified])
    return {
        "employers": [views.employer_me(e) for e in unverified if e["id"] in ours | nowhere],
        "jobs": [await offer_service.job_view(ctx, ctx.ledger, j) for j in waiting],
    }


async def expire_stale_jobs(ctx: Context, market_id: str) -> int:
    """Open jobs whose start (plus the arrival grace) has passed stop taking offers; those
    with nobody hired become ``expired`` and their employer is told. Returns how many expired.

    Nobody could arrive in time any more, so the rounds would never offer them again anyway;
    this makes the state say so instead of leaving the posting "open" on every board.
    """
    rules = ctx.market(market_id).rules
    now = ctx.clock()
    stale = await jobs.open_started_before(ctx.ledger, market_id,
                                           now - rules.arrival_grace_minutes * 60)
    expired = 0
    for job_id in stale:
        await ctx.live.close_job(market_id, job_id)
        for offer_id in await offer_store.pending_of_job(ctx.ledger, job_id):
            with contextlib.suppress(ConflictError, NotFoundError):
                await offer_service.close(ctx, offer_id, OfferState.WITHDRAWN,
                                          reason_detail="job_expired")
        async with ctx.ledger.transaction(ctx.clock()) as tx:
            fresh = await jobs.get(tx, job_id)
            assert fresh is not None
            if fresh["state"] != JobState.OPEN.value or fresh["accepted"] > 0:
                continue  # hired or closed meanwhile: the work goes ahead as it is
            await transitions.move(tx, JobState.EXPIRED, job_id)
            await tx.event("job.expired", market_id=market_id, actor="dispatcher",
                           subject=job_id, event_id=f"job:{job_id}:expired", payload={})
            await offer_service.tell_employer(ctx, tx, job_id)
            await tell_market(ctx, tx, market_id, "job.expired", job_id=job_id,
                              title=fresh["title"])
        await ctx.live.forget_job(market_id, job_id)
        await ctx.publish(tx)
        expired += 1
    return expired
