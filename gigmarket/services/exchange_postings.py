"""Postings from a provincial platform (SPEC 11.4, docs/exchange.md "Posting jobs"):
idempotent on (platform, external_id, version), validated and reviewed as any posting, and
updated by a newer version within what the hired or offered workers agreed to."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from gigmarket.core import validation as v
from gigmarket.core.errors import ConflictError, ValidationError
from gigmarket.core.model import JobState
from gigmarket.services import jobs, offers
from gigmarket.services.context import Context, tell_market
from gigmarket.store import exchange as store
from gigmarket.store import locks
from gigmarket.store.ledger import Row, Tx, new_id

#: Once a worker is offered or hired, the work they said yes to may not change under them.
COMMITTED_FIELDS = ("skills", "headcount", "wage", "start_at", "duration_hours", "lat", "lon",
                    "address")
#: A platform may still update its posting in these states; after them the work is settled.
UPDATABLE_STATES = frozenset({JobState.PENDING_REVIEW, JobState.OPEN, JobState.FILLED})


def _body_hash(body: object) -> str:
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _parse_posting(ctx: Context, body: object, now: float) -> tuple[
        str, int, str, v.JobDraft, dict[str, str]]:
    b = v.exact_fields(body, required={
        "external_id", "version", "market_id", "title", "skills", "headcount", "wage",
        "start_at", "duration_hours", "lat", "lon", "address", "employer"},
        optional={"description"})
    external_id = v.text(b["external_id"], "external_id", max_len=64)
    version = b["version"]
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version < 2**53:
        raise ValidationError("version must be a whole number from 1", code="bad_version",
                              field="version")
    market_id = b["market_id"]
    if not isinstance(market_id, str) or market_id not in ctx.settings.markets:
        raise ValidationError("no such market", code="unknown_market", field="market_id")
    market = ctx.market(market_id)
    posting = {k: b[k] for k in b if k not in {"external_id", "version", "market_id",
                                                "employer"}}
    draft = v.parse_job(posting, market, datetime.fromtimestamp(now, ctx.tz(market_id)))
    e = v.exact_fields(b["employer"], required={"org_name", "credit_code", "phone"},
                       optional=set(), field="employer")
    employer = {
        "org_name": v.text(e["org_name"], "employer.org_name", max_len=60),
        "credit_code": v.credit_code(e["credit_code"], "employer.credit_code"),
        "phone": v.phone(e["phone"], "employer.phone"),
    }
    return external_id, version, market_id, draft, employer


async def receive_posting(ctx: Context, platform_id: str,
                          body: object) -> tuple[int, dict[str, str]]:
    """``POST /exchange/jobs``: create the posting's job, answer a repeat as the first time,
    refuse an older version, or apply a newer one. Returns the HTTP status and ``{id, state}``."""
    now = ctx.clock()
    external_id, version, market_id, draft, business = _parse_posting(ctx, body, now)
    body_hash = _body_hash(body)
    newer: Row | None = None
    async with ctx.ledger.transaction(now) as tx:
        # Two deliveries of one posting at once: the second waits, then answers as a repeat
        # (not a unique-key 409 from the link's insert).
        await tx.lock(locks.posting(platform_id, external_id))
        known = await store.posting(tx, platform_id, external_id)
        if known is not None:
            answer = _repeat(known, version, body_hash)
            if answer is not None:
                return answer
            newer = known
        else:
            employer = await _employer(tx, business)
            job_id = new_id("j")
            # Before the job row: its first change in the feed carries the external id.
            await store.link_posting(tx, platform_id, external_id, job_id, version, body_hash,
                                     {"id": job_id, "state": ""})
            job, live = await jobs.insert_job(ctx, tx, employer, market_id, draft, job_id,
                                              actor=f"exchange:{platform_id}", via="exchange")
            response = {"id": job_id, "state": job["state"]}
            await store.record_version(tx, platform_id, external_id, version, body_hash,
                                       response)
    if newer is not None:
        return await _apply_newer(ctx, platform_id, newer, external_id, version, market_id,
                                  draft, body_hash)
    if live:
        await jobs.open_live(ctx, job, employer)
    await ctx.publish(tx)
    return 201, response


async def _employer(tx: Tx, business: dict[str, str]) -> Row:
    """The employer named by credit code; else the account with this phone, if it has no
    business yet; else a new, unverified account."""
    found = await store.employer_by_credit_code(tx, business["credit_code"])
    if found is None:
        by_phone = await store.employer_by_phone(tx, business["phone"])
        if by_phone is not None and by_phone["credit_code"]:
            raise ConflictError("this phone belongs to an employer with another credit code",
                                code="phone_in_use", field="employer.phone")
        if by_phone is not None:
            await store.register_business(tx, by_phone["id"], business["org_name"],
                                          business["credit_code"])
            employer_id = by_phone["id"]
        else:
            employer_id = new_id("e")
            await store.create_employer(tx, employer_id, business["phone"],
                                        business["org_name"], business["credit_code"])
            await tx.event("employer.registered", market_id=None, actor=None,
                           subject=employer_id, payload={"via": "exchange"})
        found = await store.employer_by_credit_code(tx, business["credit_code"])
    assert found is not None
    return found


def _repeat(known: Row, version: int, body_hash: str) -> tuple[int, dict[str, str]] | None:
    """The answer to a version the platform sent before (the first answer again) or an older
    one (409); ``None`` for a newer one, which changes the job."""
    if version == known["version"]:
        if body_hash != known["body_hash"]:
            raise ConflictError("this version was sent before with another body",
                                code="version_reused", field="version")
        return 200, dict(json.loads(known["response"]))
    if version < known["version"]:
        raise ConflictError(f"version {known['version']} of this posting is already here",
                            code="stale_version", field="version")
    return None


async def _apply_newer(ctx: Context, platform_id: str, known: Row, external_id: str,
                       version: int, market_id: str, draft: v.JobDraft,
                       body_hash: str) -> tuple[int, dict[str, str]]:
    now = ctx.clock()
    job_id = known["job_id"]
    before = await store.job(ctx.ledger, job_id)
    assert before is not None
    was_open = before["state"] == JobState.OPEN.value
    taken = 0
    if was_open:
        # No round may offer the old terms while they change; an offer a round made just
        # before is counted by the live gates before the round's commit reaches the ledger.
        await ctx.live.close_job(before["market_id"], job_id)
        taken = await ctx.live.job_taken(before["market_id"], job_id)
    try:
        async with ctx.ledger.transaction(now) as tx:
            await tx.lock(locks.posting(platform_id, external_id))
            fresh = await store.posting(tx, platform_id, external_id)
            assert fresh is not None
            repeat = _repeat(fresh, version, body_hash)
            if repeat is not None:  # another request won meanwhile
                return repeat
            job = await store.job(tx, job_id)
            assert job is not None
            _check_update(job, market_id, draft, taken)
            await store.update_job(tx, job_id, draft)
            await tx.event("job.updated", market_id=job["market_id"],
                           actor=f"exchange:{platform_id}", subject=job_id,
                           payload={"via": "exchange", "version": version})
            await offers.tell_employer(ctx, tx, job_id)
            # An approved job may change after review: its managers see that it did.
            await tell_market(ctx, tx, job["market_id"], "job.updated", job_id=job_id,
                              title=draft.title, via="exchange", version=version)
            response = {"id": job_id, "state": job["state"]}
            await store.record_version(tx, platform_id, external_id, version, body_hash,
                                       response)
            if was_open:
                tx.kicks.add(job["market_id"])
    finally:
        if was_open:
            current = await store.job(ctx.ledger, job_id)
            owner = await store.employer(ctx.ledger, before["employer_id"])
            if current is not None and owner is not None and \
                    current["state"] == JobState.OPEN.value:
                await jobs.open_live(ctx, current, owner)
    await ctx.publish(tx)
    return 200, response


def _check_update(job: Row, market_id: str, draft: v.JobDraft, taken_live: int) -> None:
    """Which fields a newer version may change (docs/exchange.md, "Versions")."""
    if JobState(job["state"]) not in UPDATABLE_STATES:
        raise ConflictError(f"the job is {job['state']}; it can no longer change",
                            code="job_closed", field="version")
    if market_id != job["market_id"]:
        raise ConflictError("a posting stays in the market it was posted to",
                            code="market_fixed", field="market_id")
    if job["accepted"] == 0 and job["pending"] == 0 and taken_live == 0:
        return
    now_values = {
        "skills": tuple(json.loads(job["skills"])), "headcount": job["headcount"],
        "wage": (job["wage_fen"], job["wage_unit"]), "start_at": job["start_at"],
        "duration_hours": job["duration_hours"], "lat": job["lat"], "lon": job["lon"],
        "address": job["address"],
    }
    new_values = {
        "skills": draft.skills, "headcount": draft.headcount,
        "wage": (draft.wage.fen, draft.wage.unit.value), "start_at": draft.start_at.timestamp(),
        "duration_hours": draft.duration_hours, "lat": draft.lat, "lon": draft.lon,
        "address": draft.address,
    }
    for name in COMMITTED_FIELDS:
        if now_values[name] != new_values[name]:
            raise ConflictError(f"workers are offered or hired: {name} can no longer change"
                                " (only title and description can)", code="job_committed",
                                field=name)
