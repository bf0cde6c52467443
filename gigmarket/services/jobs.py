"""Employers and their jobs: profile, posting (idempotent), reading, cancelling; and the
manager's review of both."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gigmarket.core import validation as v
from gigmarket.core.errors import (
    ConflictError,
    DomainError,
    ForbiddenError,
    NotFoundError,
    ValidationError,
)
from gigmarket.core.model import (
    JobState,
    KeyGroup,
    OfferState,
    Role,
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
from gigmarket.store.ledger import Row, Tx, dumps, new_id


async def put_employer_profile(ctx: Context, principal: Principal,
                               body: object) -> dict[str, Any]:
    require(principal, Role.EMPLOYER)
    draft = v.parse_employer_profile(body)
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        before = await tx.one("SELECT credit_code, verified FROM employers WHERE id = ?",
                              (principal.user_id,))
        assert before is not None
        # A changed credit code is a different business: it must be verified again.
        verified = before["verified"] if before["credit_code"] == draft.credit_code else 0
        await tx.execute(
            "UPDATE employers SET name = ?, org_name = ?, credit_code = ?, verified = ?,"
            " updated_at = ? WHERE id = ?",
            (draft.name, draft.org_name, draft.credit_code, verified, tx.now, principal.user_id),
        )
        await tx.event("employer.profile_saved", market_id=None, actor=principal.user_id,
                       subject=principal.user_id,
                       payload={"org_name": draft.org_name, "credit_code": draft.credit_code})
        row = await tx.one("SELECT * FROM employers WHERE id = ?", (principal.user_id,))
        assert row is not None
    return views.employer_me(row)


def _request_hash(method_path: str, body: object) -> str:
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{method_path}\n{canonical}".encode()).hexdigest()


async def _replay(tx: Tx, user_id: str, key: str | None, request_hash: str) -> Any | None:
    """A repeat of an ``Idempotency-Key`` returns the first result; another body is a 422."""
    if key is None:
        return None
    row = await tx.one("SELECT request_hash, response FROM idempotency WHERE user_id = ?"
                       " AND key = ?", (user_id, key))
    if row is None:
        return None
    if row["request_hash"] != request_hash:
        raise ValidationError("this Idempotency-Key was used with another request",
                              code="idempotency_key_reused", field="Idempotency-Key")
    return json.loads(row["response"])


async def _remember(tx: Tx, user_id: str, key: str | None, request_hash: str, status: int,
                    response: Any) -> None:
    if key is not None:
        await tx.execute(
            "INSERT INTO idempotency (user_id, key, request_hash, status, response, at)"
            " VALUES (?, ?, ?, ?, ?, ?)", (user_id, key, request_hash, status, dumps(response),
                                           tx.now),
        )


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
        employer = await tx.one("SELECT * FROM employers WHERE id = ?", (principal.user_id,))
        assert employer is not None
        if not employer["org_name"] or not employer["credit_code"]:
            raise ConflictError("register your business (name and credit code) before posting",
                                code="profile_incomplete", field="credit_code")
        if employer["state"] != "active":
            raise ForbiddenError("this employer is suspended", code="suspended")
        live = bool(employer["verified"]) and market.rules.auto_approve_verified
        state = JobState.OPEN if live else JobState.PENDING_REVIEW
        job_id = new_id("j")
        await tx.execute(
            "INSERT INTO jobs (id, employer_id, market_id, title, skills, headcount, wage_fen,"
            " wage_unit, start_at, duration_hours, lat, lon, address, description, state,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (job_id, principal.user_id, market_id, draft.title, json.dumps(list(draft.skills)),
             draft.headcount, draft.wage.fen, draft.wage.unit.value,
             draft.start_at.timestamp(), draft.duration_hours, draft.lat, draft.lon,
             draft.address, draft.description, state.value, now, now),
        )
        await tx.event("job.posted", market_id=market_id, actor=principal.user_id,
                       subject=job_id, payload={"state": state.value,
                                                "headcount": draft.headcount,
                                                "skills": list(draft.skills)})
        await offer_service.tell_employer(ctx, tx, job_id)
        await tell_market(ctx, tx, market_id, "job.posted", job_id=job_id, title=draft.title,
                          state=state.value, headcount=draft.headcount)
        view = await offer_service.job_view(ctx, tx, job_id)
        await _remember(tx, principal.user_id, key, request_hash, 201, view)
        job = await tx.one("SELECT * FROM jobs WHERE id = ?", (job_id,))
        assert job is not None
        if live:
            tx.kicks.add(market_id)
    if live:
        await _open_live(ctx, job, employer)
    await ctx.publish(tx)
    return view


async def _open_live(ctx: Context, job: Row, employer: Row) -> None:
    # Blocked pairs first: no round may see the job before its exclusions.
    blocked = await ctx.ledger.all("SELECT DISTINCT worker_id FROM blocks WHERE employer_id = ?",
                                   (job["employer_id"],))
    await ctx.live.exclude_pairs(job["market_id"], [(b["worker_id"], job["id"]) for b in blocked])
    await ctx.live.put_job(job["market_id"], job["id"],
                           job_record(job, employer, ctx.settings.skills),
                           job["headcount"], job["accepted"], job["pending"])


async def _own_job(ctx: Context, principal: Principal, job_id: str) -> Row:
    job = await ctx.ledger.one("SELECT * FROM jobs WHERE id = ?", (job_id,))
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
    return await offer_service.job_view(ctx, ctx.ledger, job_id)


async def my_jobs(ctx: Context, principal: Principal) -> list[dict[str, Any]]:
    require(principal, Role.EMPLOYER)
    rows = await ctx.ledger.all(
        "SELECT id FROM jobs WHERE employer_id = ? ORDER BY created_at DESC LIMIT 100",
        (principal.user_id,),
    )
    return [await offer_service.job_view(ctx, ctx.ledger, r["id"]) for r in rows]


async def cancel_job(ctx: Context, principal: Principal, job_id: str,
                     *, reason: str = "cancelled_by_employer") -> dict[str, Any]:
    """Cancel (employer) or reject/withdraw (manager): pending offers are withdrawn, accepted
    workers are told, and those still checked in go back to the pool."""
    job = await _own_job(ctx, principal, job_id)
    return await withdraw_job(ctx, principal.user_id, job, reason=reason,
                              by_employer=principal.role is Role.EMPLOYER)


async def withdraw_job(ctx: Context, actor_id: str, job: Row, *, reason: str,
                       by_employer: bool) -> dict[str, Any]:
    """Cancel ``job`` whoever asks (its employer, a manager). An employer who calls off
    accepted work within ``late_cancel_hours`` of the start loses reliability."""
    check_transition(JobState(job["state"]), JobState.CANCELLED, what="job")
    if not await withdraw_jobs(ctx, actor_id, [job], reason=reason, by_employer=by_employer):
        fresh = await ctx.ledger.one("SELECT state FROM jobs WHERE id = ?", (job["id"],))
        assert fresh is not None
        # It moved on meanwhile (work began, or another cancel won): say so.
        check_transition(JobState(fresh["state"]), JobState.CANCELLED, what="job")
    return await offer_service.job_view(ctx, ctx.ledger, job["id"])


async def withdraw_jobs(ctx: Context, actor_id: str, jobs: Sequence[Row], *, reason: str,
                        by_employer: bool) -> list[str]:
    """Cancel several jobs in one transaction; returns the ids cancelled (a job that began or
    was cancelled meanwhile is skipped). Their pending offers close as ``withdrawn``, hired
    workers are told and those still checked in go back to the pool.

    One transaction for all, not one per job and offer: a suspended employer's hundred jobs
    and their offers reach every worker's socket at once, in about a second's budget, where
    a commit per offer would take several seconds of fsyncs.
    """
    if not jobs:
        return []
    # No new offer can fit from here on (headcount 0 in the live store).
    for job in jobs:
        await ctx.live.close_job(job["market_id"], job["id"])
    by_id = {j["id"]: j for j in jobs}
    marks = ",".join("?" * len(by_id))

    async def gate(o: Row) -> Row | None:
        try:
            await ctx.live.close_offer(o["market_id"], o["id"])
        except NotFoundError:
            pass  # not pending in Redis: lost with a restart; the ledger still closes it
        except DomainError:
            return None  # accepted meanwhile: the hire is cancelled with the others below
        return o

    pending = await ctx.ledger.all(f"SELECT * FROM offers WHERE job_id IN ({marks})"
                                   " AND state = 'pending'", list(by_id))
    offers = [o for o in await asyncio.gather(*(gate(o) for o in pending)) if o is not None]
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        fresh = await tx.all(f"SELECT * FROM jobs WHERE id IN ({marks})", list(by_id))
        # A job that began or was cancelled meanwhile is left as it is.
        going = [j for j in fresh if can_transition(JobState(j["state"]), JobState.CANCELLED)]
        cancelled = {j["id"] for j in going}
        await _close_offers(tx, [o for o in offers if o["job_id"] in cancelled], actor_id)
        back_to_pool = await _cancel_jobs(ctx, tx, going, actor_id, reason=reason,
                                          by_employer=by_employer)
        tx.kicks.update(j["market_id"] for j in going)
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
    still = {r["id"] for r in await tx.all(
        f"SELECT id FROM offers WHERE id IN ({marks}) AND state = 'pending'", ids)}
    offers = [o for o in offers if o["id"] in still]
    await tx.executemany("UPDATE offers SET state = 'withdrawn', closed_at = ? WHERE id = ?",
                         [(tx.now, o["id"]) for o in offers])
    per_job = Counter(o["job_id"] for o in offers)
    await tx.executemany("UPDATE jobs SET pending = pending - ?, updated_at = ? WHERE id = ?",
                         [(n, tx.now, job_id) for job_id, n in per_job.items()])
    await tx.executemany("UPDATE workers SET state = 'available', updated_at = ?"
                         " WHERE id = ? AND state = 'offered'",
                         [(tx.now, o["worker_id"]) for o in offers])
    for market_id in {o["market_id"] for o in offers}:
        await tx.event_many("offer.withdrawn", market_id, actor_id, [
            (f"offer:{o['id']}:withdrawn", o["id"],
             {"job_id": o["job_id"], "worker_id": o["worker_id"], "detail": "job_cancelled"})
            for o in offers if o["market_id"] == market_id])
    await tx.message_many([
        (worker_recipient(o["worker_id"]),
         {"type": "offer_closed", "offer_id": o["id"], "reason": OfferState.WITHDRAWN.value})
        for o in offers])


async def _cancel_jobs(ctx: Context, tx: Tx, jobs: list[Row], actor_id: str, *, reason: str,
                       by_employer: bool) -> list[tuple[Row, dict[str, Any]]]:
    """The jobs cancelled with their hires, everyone concerned told; returns the hired
    workers who go back to the pool, with their live records."""
    if not jobs:
        return []
    ids = [j["id"] for j in jobs]
    marks = ",".join("?" * len(ids))
    await tx.executemany("UPDATE jobs SET state = 'cancelled', updated_at = ? WHERE id = ?",
                         [(tx.now, job_id) for job_id in ids])
    told = await tx.all(f"SELECT * FROM assignments WHERE job_id IN ({marks}) AND state IN"
                        " ('accepted', 'checked_in')", ids)
    freed: list[Row] = []
    for a in told:
        await tx.execute("UPDATE assignments SET state = 'cancelled', updated_at = ?"
                         " WHERE id = ?", (tx.now, a["id"]))
        await tx.message(worker_recipient(a["worker_id"]), {
            "type": "job_cancelled", "job_id": a["job_id"], "assignment_id": a["id"]})
        w = await tx.one("SELECT * FROM workers WHERE id = ?", (a["worker_id"],))
        if w is not None and w["state"] == "assigned" and w["market_id"]:
            await tx.execute("UPDATE workers SET state = 'available', updated_at = ?"
                             " WHERE id = ?", (tx.now, w["id"]))
            freed.append(w)
    hires = Counter(a["job_id"] for a in told)
    views_ = await offer_service.job_views(ctx, tx, ids)
    feed: list[tuple[str, dict[str, Any]]] = []
    events: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for job in jobs:
        market_id = job["market_id"]
        late = by_employer and hires[job["id"]] > 0 and is_late(
            tx.now, job["start_at"], ctx.market(market_id).rules.late_cancel_hours)
        if late:
            await tx.execute("UPDATE employers SET late_cancels = late_cancels + 1"
                             " WHERE id = ?", (job["employer_id"],))
            await lifecycle.recompute_employer(ctx, tx, job["employer_id"])
        event_id = f"job:{job['id']}:cancelled"
        events.setdefault(market_id, []).append(
            (event_id, job["id"],
             {"reason": reason, "late": late, "workers_told": hires[job["id"]]}))
        feed.append((employer_recipient(job["employer_id"]),
                     {"type": "job", "job": views_[job["id"]]}))
        feed.append((market_recipient(market_id), market_event(
            event_id, "job.cancelled", ctx.iso(tx.now, market_id),
            {"job_id": job["id"], "title": job["title"], "reason": reason})))
    for market_id, items in events.items():
        await tx.event_many("job.cancelled", market_id, actor_id, items)
    await tx.message_many(feed)
    records = []
    for w in freed:
        fresh_w = await tx.one("SELECT * FROM workers WHERE id = ?", (w["id"],))
        assert fresh_w is not None
        records.append((fresh_w, await worker_record(tx, ctx, fresh_w, tx.now)))
    return records


# -- the manager's side ---------------------------------------------------------------------

async def approve_job(ctx: Context, principal: Principal, job_id: str) -> dict[str, Any]:
    job = await _own_job(ctx, principal, job_id)
    require_market(principal, job["market_id"])
    await _open_jobs(ctx, principal, [job_id])
    return await offer_service.job_view(ctx, ctx.ledger, job_id)


async def _open_jobs(ctx: Context, principal: Principal, job_ids: list[str]) -> None:
    opened: list[tuple[Row, Row]] = []
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        for job_id in job_ids:
            job = await tx.one("SELECT * FROM jobs WHERE id = ?", (job_id,))
            assert job is not None
            check_transition(JobState(job["state"]), JobState.OPEN, what="job")
            await tx.execute("UPDATE jobs SET state = 'open', updated_at = ? WHERE id = ?",
                             (tx.now, job_id))
            await tx.event("job.approved", market_id=job["market_id"], actor=principal.user_id,
                           subject=job_id, event_id=f"job:{job_id}:approved", payload={})
            await offer_service.tell_employer(ctx, tx, job_id)
            fresh = await tx.one("SELECT * FROM jobs WHERE id = ?", (job_id,))
            employer = await tx.one("SELECT * FROM employers WHERE id = ?", (job["employer_id"],))
            assert fresh is not None and employer is not None
            opened.append((fresh, employer))
            tx.kicks.add(job["market_id"])
    for job, employer in opened:
        await _open_live(ctx, job, employer)
    await ctx.publish(tx)


async def reject_job(ctx: Context, principal: Principal, job_id: str) -> dict[str, Any]:
    job = await _own_job(ctx, principal, job_id)
    require_market(principal, job["market_id"])
    return await cancel_job(ctx, principal, job_id, reason="rejected_by_manager")


async def verify_employer(ctx: Context, principal: Principal,
                          employer_id: str) -> dict[str, Any]:
    """Verify an employer; with ``auto_approve_verified`` its waiting jobs go live too."""
    require(principal, Role.MANAGER)
    employer = await ctx.ledger.one("SELECT * FROM employers WHERE id = ?", (employer_id,))
    if employer is None:
        raise NotFoundError("no such employer", field="employer_id")
    if not employer["credit_code"]:
        raise ConflictError("the employer has not registered a credit code yet",
                            code="profile_incomplete", field="credit_code")
    # A manager reviews the employers that post (or will post) in their markets.
    waiting = await ctx.ledger.all(
        "SELECT id, market_id FROM jobs WHERE employer_id = ? AND state = 'pending_review'",
        (employer_id,),
    )
    mine = [j["id"] for j in waiting if j["market_id"] in principal.markets and
            ctx.market(j["market_id"]).rules.auto_approve_verified]
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        await tx.execute("UPDATE employers SET verified = 1, updated_at = ? WHERE id = ?",
                         (tx.now, employer_id))
        await tx.event("employer.verified", market_id=principal.markets[0],
                       actor=principal.user_id, subject=employer_id,
                       event_id=f"employer:{employer_id}:verified:{employer['credit_code']}",
                       payload={"credit_code": employer["credit_code"]})
    if mine:
        await _open_jobs(ctx, principal, mine)
    row = await ctx.ledger.one("SELECT * FROM employers WHERE id = ?", (employer_id,))
    assert row is not None
    return views.employer_me(row)


async def set_key_group(ctx: Context, principal: Principal, worker_id: str,
                        body: object) -> dict[str, Any]:
    require(principal, Role.MANAGER)
    fields = v.exact_fields(body, required={"key_group"}, optional=set())
    value = fields["key_group"]
    if value is not None and value not in {k.value for k in KeyGroup}:
        raise ValidationError("unknown key group", code="unknown_key_group", field="key_group")
    worker = await ctx.ledger.one("SELECT * FROM workers WHERE id = ?", (worker_id,))
    if worker is None:
        raise NotFoundError("no such worker", field="worker_id")
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        await tx.execute("UPDATE workers SET key_group = ?, updated_at = ? WHERE id = ?",
                         (value, tx.now, worker_id))
        await tx.event("worker.key_group_set", market_id=principal.markets[0],
                       actor=principal.user_id, subject=worker_id,
                       payload={"key_group": value})
        row = await tx.one("SELECT * FROM workers WHERE id = ?", (worker_id,))
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
    jobs = await ctx.ledger.all(
        "SELECT id, employer_id FROM jobs WHERE market_id = ? AND state = 'pending_review'"
        " ORDER BY created_at", (market_id,),
    )
    # Every registered, unverified business: an employer who has not posted yet (or whose
    # first job was approved on its own) still needs checking before the next posting.
    employers = [views.employer_me(e) for e in await ctx.ledger.all(
        "SELECT * FROM employers WHERE verified = 0 AND credit_code IS NOT NULL"
        " AND state = 'active' ORDER BY updated_at")]
    return {
        "employers": employers,
        "jobs": [await offer_service.job_view(ctx, ctx.ledger, j["id"]) for j in jobs],
    }


async def expire_stale_jobs(ctx: Context, market_id: str) -> int:
    """Open jobs whose start (plus the arrival grace) has passed stop taking offers; those
    with nobody hired become ``expired`` and their employer is told. Returns how many expired.

    Nobody could arrive in time any more, so the rounds would never offer them again anyway;
    this makes the state say so instead of leaving the posting "open" on every board.
    """
    rules = ctx.market(market_id).rules
    now = ctx.clock()
    stale = await ctx.ledger.all(
        "SELECT id FROM jobs WHERE market_id = ? AND state = 'open' AND start_at + ? < ?",
        (market_id, rules.arrival_grace_minutes * 60, now),
    )
    expired = 0
    for row in stale:
        job_id = row["id"]
        await ctx.live.close_job(market_id, job_id)
        for o in await ctx.ledger.all(
            "SELECT id FROM offers WHERE job_id = ? AND state = 'pending'", (job_id,)
        ):
            with contextlib.suppress(ConflictError, NotFoundError):
                await offer_service.close(ctx, o["id"], OfferState.WITHDRAWN,
                                          reason_detail="job_expired")
        async with ctx.ledger.transaction(ctx.clock()) as tx:
            fresh = await tx.one("SELECT * FROM jobs WHERE id = ?", (job_id,))
            assert fresh is not None
            if fresh["state"] != JobState.OPEN.value or fresh["accepted"] > 0:
                continue  # hired or closed meanwhile: the work goes ahead as it is
            await tx.execute("UPDATE jobs SET state = 'expired', updated_at = ? WHERE id = ?",
                             (tx.now, job_id))
            await tx.event("job.expired", market_id=market_id, actor="dispatcher",
                           subject=job_id, event_id=f"job:{job_id}:expired", payload={})
            await offer_service.tell_employer(ctx, tx, job_id)
            await tell_market(ctx, tx, market_id, "job.expired", job_id=job_id,
                              title=fresh["title"])
        await ctx.live.forget_job(market_id, job_id)
        await ctx.publish(tx)
        expired += 1
    return expired
