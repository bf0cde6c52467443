"""The provincial exchange v1 (SPEC 11.4): who may call, the two feeds, and the operator's
platform commands (inbound postings: ``exchange_postings``). The wire contract is written out
in ``docs/exchange.md``."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag

from gigmarket.core import exchange as x
from gigmarket.core.errors import AuthError, ConflictError, ValidationError
from gigmarket.credentials import (
    PlatformSealer,
    hmac_sm3_hex,
    new_platform_secret,
    sm3_hex,
    sm4_gcm_seal,
)
from gigmarket.services.context import Context
from gigmarket.settings import Settings
from gigmarket.store import exchange as store
from gigmarket.store.ledger import Ledger, Row

log = logging.getLogger("gigmarket.exchange")

# -- who is calling ---------------------------------------------------------------------------

async def authenticate(ctx: Context, method: str, path_with_query: str,
                       headers: Mapping[str, str], body: bytes) -> str:
    """The platform that signed this request, or a 401 with the documented code."""
    signed = x.parse_headers(headers)
    row = await store.platform(ctx.ledger, signed.platform)
    if row is None or row["revoked_at"] is not None:
        # Same code as a wrong signature (SPEC 11.4 names three), with its own message.
        raise AuthError("unknown or revoked platform", code="bad_signature", field=x.PLATFORM)
    try:
        secret = PlatformSealer(ctx.settings.secret_key).open(
            signed.platform, "secret", bytes(row["secret_sealed"])).decode()
    except InvalidTag:
        # Sealed under another server key (GIGMARKET_SECRET_KEY changed): the operator must
        # add the platform again; the caller can do nothing about it but is told no more.
        log.error("exchange platform %s: its secret cannot be opened with this server's key",
                  signed.platform)
        raise AuthError("unknown or revoked platform", code="bad_signature",
                        field=x.PLATFORM) from None
    expected = hmac_sm3_hex(secret, x.canonical(method, path_with_query, signed.timestamp,
                                                 signed.nonce, sm3_hex(body)))
    x.check(signed, expected, ctx.clock())
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        fresh = await store.remember_request(tx, signed.platform, signed.nonce)
    if not fresh:
        raise AuthError("this nonce was used in the last 10 minutes", code="replayed_nonce",
                        field=x.NONCE)
    return signed.platform


# -- the feeds --------------------------------------------------------------------------------

def _money(fen: int | None, unit: str | None) -> dict[str, Any] | None:
    if fen is None or unit is None:
        return None
    return {"amount": fen // 100 if fen % 100 == 0 else fen / 100, "unit": unit}


def _envelope(items: list[dict[str, Any]], after: int) -> dict[str, Any]:
    # An empty page keeps the cursor it was asked with: the client polls with it again.
    return {"schema": x.SCHEMA, "items": items,
            "next": items[-1]["cursor"] if items else str(after)}


async def jobs_feed(ctx: Context, platform_id: str, after: str | None,
                    limit: str | None) -> dict[str, Any]:
    start, n = x.cursor(after), x.limit(limit)
    rows = await store.job_changes(ctx.ledger, start, n)
    items = [{
        "cursor": str(r["cursor"]), "id": r["job_id"], "external_id": r["external_id"],
        "platform": r["platform_id"], "market_id": r["market_id"], "version": r["version"],
        "state": r["state"], "title": r["title"], "skills": json.loads(r["skills"]),
        "headcount": r["headcount"], "accepted": r["accepted"],
        "wage": _money(r["wage_fen"], r["wage_unit"]),
        "start_at": ctx.iso(r["start_at"], r["market_id"]),
        "duration_hours": r["duration_hours"],
        "place": {"lat": r["lat"], "lon": r["lon"], "address": r["address"]},
        "employer": {"org_name": r["org_name"], "credit_code": r["credit_code"]},
        "updated_at": ctx.iso(r["at"], r["market_id"]),
    } for r in rows]
    return _envelope(items, start)


async def outcomes_feed(ctx: Context, platform_id: str, after: str | None,
                        limit: str | None) -> dict[str, Any]:
    start, n = x.cursor(after), x.limit(limit)
    rows = await store.outcome_changes(ctx.ledger, start, n)
    platform = await store.platform(ctx.ledger, platform_id)
    sm4_key = None
    if platform is not None and platform["sm4_key_sealed"] is not None:
        sm4_key = PlatformSealer(ctx.settings.secret_key).open(
            platform_id, "sm4_key", bytes(platform["sm4_key_sealed"]))
    sealed = await store.sealed_id_numbers(ctx.ledger, [r["worker_id"] for r in rows]) \
        if sm4_key is not None else {}
    items = []
    for r in rows:
        worker: dict[str, Any] = {"id_number_masked": r["id_number_masked"],
                                  "key_group": r["key_group"]}
        if sm4_key is not None:
            number = sealed.get(r["worker_id"])
            worker["id_number_sm4"] = None if number is None else base64.b64encode(
                sm4_gcm_seal(sm4_key, ctx.sealer.open(number), r["assignment_id"])).decode()
        items.append({
            "cursor": str(r["cursor"]), "assignment_id": r["assignment_id"],
            "job_id": r["job_id"], "external_id": r["external_id"],
            "market_id": r["market_id"], "state": r["state"], "worker": worker,
            "hours": r["hours"], "pay": _money(r["pay_fen"], r["pay_unit"]),
            "at": ctx.iso(r["at"], r["market_id"]),
        })
    return _envelope(items, start)


# -- the operator's commands ------------------------------------------------------------------

def _sm4_key(value: str | None) -> bytes | None:
    if value is None:
        return None
    try:
        key = bytes.fromhex(value)
    except ValueError:
        key = b""
    if len(key) != 16:
        raise ValidationError("an SM4 key is 32 hex characters (16 bytes)", code="bad_sm4_key",
                              field="sm4_key")
    return key


async def add_platform(ledger: Ledger, settings: Settings, platform_id: str,
                       sm4_key_hex: str | None) -> str:
    """A new platform; returns its secret (64 hex characters), which is shown only now."""
    pid = x.platform_id(platform_id)
    sm4_key = _sm4_key(sm4_key_hex)
    secret = new_platform_secret()
    sealer = PlatformSealer(settings.secret_key)
    async with ledger.transaction() as tx:
        added = await store.add_platform(
            tx, pid, sealer.seal(pid, "secret", secret.encode()),
            None if sm4_key is None else sealer.seal(pid, "sm4_key", sm4_key))
        if not added:
            raise ConflictError(f"platform {pid!r} exists (revoked ids are not reused)",
                                code="platform_exists", field="platform")
        await tx.event("exchange.platform_added", market_id=None, actor="cli", subject=pid,
                       payload={"sm4_key": sm4_key is not None})
    return secret


async def set_platform_key(ledger: Ledger, settings: Settings, platform_id: str,
                           sm4_key_hex: str | None) -> None:
    """Set (or with ``None`` remove) a platform's SM4 key for full ID numbers."""
    pid = x.platform_id(platform_id)
    sm4_key = _sm4_key(sm4_key_hex)
    sealed = None if sm4_key is None else PlatformSealer(settings.secret_key).seal(
        pid, "sm4_key", sm4_key)
    async with ledger.transaction() as tx:
        if not await store.set_sm4_key(tx, pid, sealed):
            raise ValidationError(f"no platform {pid!r}", code="unknown_platform",
                                  field="platform")
        await tx.event("exchange.platform_key_set", market_id=None, actor="cli", subject=pid,
                       payload={"sm4_key": sm4_key is not None})


async def revoke_platform(ledger: Ledger, platform_id: str) -> None:
    pid = x.platform_id(platform_id)
    async with ledger.transaction() as tx:
        if not await store.revoke_platform(tx, pid):
            raise ValidationError(f"no platform {pid!r}", code="unknown_platform",
                                  field="platform")
        await tx.event("exchange.platform_revoked", market_id=None, actor="cli", subject=pid,
                       payload={})


async def list_platforms(ledger: Ledger) -> list[Row]:
    return await store.platforms(ledger)
