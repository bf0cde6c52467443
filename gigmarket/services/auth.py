"""Signing in: one-time codes, manager passwords, kiosk devices, sessions and sign-out."""

from __future__ import annotations

import json
from typing import Any

from gigmarket.core import validation as v
from gigmarket.core.errors import (
    AuthError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
    ValidationError,
)
from gigmarket.core.model import Role
from gigmarket.core.privacy import mask_id_number
from gigmarket.credentials import (
    hash_secret,
    new_otp_code,
    new_token,
    otp_hash,
    token_hash,
    verify_secret,
)
from gigmarket.services.context import Context, Principal
from gigmarket.settings import Settings
from gigmarket.store import audit as audit_log
from gigmarket.store import consent as consent_store
from gigmarket.store import employers, keys, kiosks, managers, membership, pins, sessions, workers
from gigmarket.store.ledger import Ledger, Row, Tx, new_id

OTP_TTL_S = 300
OTP_MAX_ATTEMPTS = 5
#: The kiosk sign-in's rate-limit bucket, per ID number (a desk PIN reset clears it).
PIN_BUCKET = "pin"
#: Per address and 10 minutes: one-time codes sent and not used to sign in, and wrong or
#: expired codes tried. Far above a hall's honest mistakes, far below a guessing robot.
OTP_UNUSED_PER_ADDRESS = 300
FAILURES_PER_ADDRESS = 300
#: Kiosk device tokens live until revoked; a year is the practical bound.
KIOSK_TOKEN_TTL_S = 365 * 24 * 3600


async def _limit(ctx: Context, bucket: str, ident: str, limit: int, window_s: int) -> None:
    if not await ctx.live.hit(bucket, ident, limit, window_s):
        raise RateLimitedError(
            f"too many attempts; try again in {window_s // 60 or 1} minute(s)",
            retry_after_s=window_s,
        )


async def request_otp(ctx: Context, body: object, client_ip: str) -> dict[str, Any]:
    fields = v.exact_fields(body, required={"phone"}, optional=set())
    phone = v.phone(fields["phone"])
    await _limit(ctx, "otp-phone", phone, 5, 600)
    # A market hall's phones share one Wi-Fi (NAT) address: the address's budget counts
    # only codes not (yet) used to sign in, since a sign-in gives its code back (verify_otp),
    # so a hall of workers signing in never runs it down.
    await _limit(ctx, "otp-ip", client_ip, OTP_UNUSED_PER_ADDRESS, 600)
    code = new_otp_code()
    now = ctx.clock()
    async with ctx.ledger.transaction(now) as tx:
        await sessions.put_otp(tx, phone, otp_hash(phone, code, ctx.settings.secret_key),
                               now + OTP_TTL_S)
    await ctx.sender.send(phone, code)
    out: dict[str, Any] = {"sent": True, "expires_in_s": OTP_TTL_S}
    if ctx.settings.dev:
        out["dev_code"] = code
    return out


async def _new_session(tx: Tx, role: Role, user_id: str, ttl_s: float) -> str:
    token = new_token()
    await sessions.open_(tx, token_hash(token), role.value, user_id, ttl_s)
    return token


async def verify_otp(ctx: Context, body: object, client_ip: str) -> dict[str, Any]:
    fields = v.exact_fields(body, required={"phone", "code", "role"}, optional=set())
    phone = v.phone(fields["phone"])
    code = v.otp_code(fields["code"])
    if fields["role"] not in ("worker", "employer"):
        raise ValidationError("role must be worker or employer", code="bad_role", field="role")
    role = Role(fields["role"])
    # Per address, only failures count (a hall's successful sign-ins never lock it out).
    if await ctx.live.spent("verify-ip", client_ip, FAILURES_PER_ADDRESS):
        raise RateLimitedError("too many wrong codes from this address; try again in 10"
                               " minute(s)", retry_after_s=600)
    accounts = workers if role is Role.WORKER else employers
    prefix = "w" if role is Role.WORKER else "e"
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        row = await sessions.otp(tx, phone)
        if row is None or row["expires_at"] < tx.now or row["attempts"] >= OTP_MAX_ATTEMPTS:
            raise AuthError("no valid code for this phone; request a new one",
                            code="otp_expired", field="code")
        if row["code_hash"] != otp_hash(phone, code, ctx.settings.secret_key):
            await sessions.otp_failed(tx, phone)
            # The failed attempt must count even though we refuse: commit it, then raise.
            pending_error: AuthError | None = AuthError("wrong code", code="otp_wrong",
                                                        field="code")
        else:
            pending_error = None
            await sessions.otp_used(tx, phone)
            known = await accounts.id_by_phone(tx, phone)
            if known is None:
                user_id = new_id(prefix)
                await accounts.create_with_phone(tx, user_id, phone)
                await tx.event(f"{role.value}.registered", market_id=None, actor=user_id,
                               subject=user_id, payload={"via": "otp"})
            else:
                user_id = known
            token = await _new_session(tx, role, user_id, ctx.settings.token_ttl_s)
            await tx.event("session.opened", market_id=None, actor=user_id, subject=user_id,
                           payload={"role": role.value})
    if pending_error is not None:
        await ctx.live.hit("verify-ip", client_ip, FAILURES_PER_ADDRESS, 600)
        raise pending_error
    await ctx.live.refund("otp-ip", client_ip)
    return {"token": token, "role": role.value, "user_id": user_id}


async def add_manager(ledger: Ledger, settings: Settings, username: str, password: str,
                      markets: list[str]) -> str:
    """Create a manager (or reset their password and add markets): the CLI's, not the API's."""
    for m in markets:
        if m not in settings.markets:
            raise ValidationError(f"no market {m!r}", code="unknown_market", field="market")
    username = v.text(username, "username", max_len=40)
    if len(password) < 8:
        raise ValidationError("password must have at least 8 characters", code="too_short",
                              field="password")
    async with ledger.transaction() as tx:
        row = await managers.by_username(tx, username)
        if row is not None:
            merged = sorted(set(json.loads(row["markets"])) | set(markets))
            await managers.set_password(tx, row["id"], hash_secret(password), merged)
            manager_id: str = row["id"]
        else:
            manager_id = new_id("m")
            await managers.create(tx, manager_id, username, hash_secret(password),
                                  sorted(markets))
        await tx.event("manager.saved", market_id=None, actor="cli", subject=manager_id,
                       payload={"username": username, "markets": markets})
    return manager_id


async def login(ctx: Context, body: object, client_ip: str) -> dict[str, Any]:
    fields = v.exact_fields(body, required={"username", "password"}, optional=set())
    username = v.text(fields["username"], "username", max_len=40)
    if not isinstance(fields["password"], str):
        raise ValidationError("password must be a string", code="bad_type", field="password")
    await _limit(ctx, "login-user", username, 10, 600)
    if await ctx.live.spent("login-ip", client_ip, 30):
        raise RateLimitedError("too many failed sign-ins from this address; try again in 10"
                               " minute(s)", retry_after_s=600)
    row = await managers.by_username(ctx.ledger, username)
    if row is None or not verify_secret(row["password_hash"], fields["password"]):
        # Only failures count per address: managers of one office share it.
        await ctx.live.hit("login-ip", client_ip, 30, 600)
        raise AuthError("wrong username or password", code="bad_credentials", field="password")
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        token = await _new_session(tx, Role.MANAGER, row["id"], 12 * 3600)
        await tx.event("session.opened", market_id=None, actor=row["id"], subject=row["id"],
                       payload={"role": "manager"})
    return {"token": token, "role": "manager", "user_id": row["id"],
            "markets": json.loads(row["markets"])}


async def authenticate(ctx: Context, token: str | None) -> Principal:
    if not token:
        raise AuthError("sign in first", code="unauthorized")
    th = token_hash(token)
    row = await sessions.get(ctx.ledger, th)
    if row is None or row["revoked_at"] is not None or row["expires_at"] < ctx.clock():
        raise AuthError("your sign-in has ended; sign in again", code="unauthorized")
    role = Role(row["role"])
    user_id: str = row["user_id"]
    if role is Role.MANAGER:
        markets = await managers.markets_of(ctx.ledger, user_id)
        return Principal(role, user_id, th, markets=markets)
    if role is Role.KIOSK:
        k = await kiosks.device(ctx.ledger, user_id)
        if k is None or k["revoked_at"] is not None:
            raise AuthError("unknown kiosk", code="unauthorized")
        heard = k["last_contact_at"]
        if heard is None or heard < ctx.clock() - kiosks.CONTACT_EVERY_S:
            await kiosks.contact(ctx.ledger, user_id, ctx.clock())
        return Principal(role, user_id, th, markets=(k["market_id"],),
                         station_id=k["station_id"])
    if role is Role.EMPLOYER:
        e = await employers.get(ctx.ledger, user_id)
        if e is None or e["state"] == "suspended":
            raise AuthError("this account is suspended", code="suspended")
    return Principal(role, user_id, th, must_change_pin=bool(row["pin_change_only"]))


async def logout(ctx: Context, principal: Principal) -> dict[str, Any]:
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        await sessions.revoke(tx, principal.token_hash)
        await tx.event("session.closed", market_id=None, actor=principal.user_id,
                       subject=principal.user_id, payload={})
    # Every process closes this session's sockets at once (SPEC 9).
    await ctx.live.publish(keys.REVOKE, json.dumps({"token_hash": principal.token_hash}))
    return {"ok": True}


async def logout_all(ctx: Context, principal: Principal) -> dict[str, Any]:
    """Log out everywhere: every session of this user ends, and every web process closes
    every socket of theirs at once (a lost phone, a shared kiosk left signed in)."""
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        ended = await sessions.revoke_all(tx, principal.user_id)
        await tx.event("session.closed_all", market_id=None, actor=principal.user_id,
                       subject=principal.user_id, payload={"sessions": ended})
    await ctx.live.publish(keys.REVOKE, json.dumps({"user_id": principal.user_id}))
    return {"ok": True, "sessions_ended": ended}


def require(principal: Principal, *roles: Role) -> None:
    if principal.must_change_pin:
        raise ForbiddenError("choose a new PIN first (PUT /me/pin)", code="pin_change_required")
    if principal.role not in roles:
        raise ForbiddenError(
            f"this needs a {' or '.join(r.value for r in roles)} account", code="wrong_role"
        )


def require_market(principal: Principal, market_id: str) -> None:
    """Managers act only on their own markets (SPEC 9)."""
    if principal.role is not Role.MANAGER or market_id not in principal.markets:
        raise ForbiddenError("not your market", code="not_your_market", field="market")


async def register_kiosk(ctx: Context, principal: Principal, market_id: str,
                         body: object) -> dict[str, Any]:
    require_market(principal, market_id)
    market = ctx.market(market_id)
    fields = v.exact_fields(body, required={"station_id"}, optional={"name"})
    station = market.station(str(fields["station_id"]))
    if station is None:
        raise ValidationError("no such station in this market", code="unknown_station",
                              field="station_id")
    name = v.text(fields.get("name") or station.name, "name", max_len=40)
    kiosk_id = new_id("k")
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        await kiosks.register(tx, kiosk_id, market_id, station.id, name, principal.user_id)
        token = await _new_session(tx, Role.KIOSK, kiosk_id, KIOSK_TOKEN_TTL_S)
        await tx.event("kiosk.registered", market_id=market_id, actor=principal.user_id,
                       subject=kiosk_id, payload={"station_id": station.id})
        await audit_log.append(tx, manager_id=principal.user_id, action="kiosk.register",
                               target_kind="kiosk", target_id=kiosk_id, market_id=market_id,
                               address=principal.address, detail={"station_id": station.id})
    return {"id": kiosk_id, "token": token, "station_id": station.id, "market_id": market_id}


def _kiosk_view(ctx: Context, k: Row) -> dict[str, Any]:
    market = ctx.market(k["market_id"])
    station = market.station(k["station_id"])
    m = k["market_id"]
    return {"id": k["id"], "name": k["name"], "market_id": m,
            "station_id": k["station_id"], "station_name": station.name if station else None,
            "created_at": ctx.iso(k["created_at"], m),
            "last_contact_at": ctx.iso(k["last_contact_at"], m),
            "revoked_at": ctx.iso(k["revoked_at"], m),
            "state": "revoked" if k["revoked_at"] else "active"}


async def list_kiosks(ctx: Context, principal: Principal, market_id: str) -> dict[str, Any]:
    require_market(principal, market_id)
    ctx.market(market_id)
    return {"market_id": market_id,
            "kiosks": [_kiosk_view(ctx, k) for k in await kiosks.of_market(ctx.ledger, market_id)]}


async def revoke_kiosk(ctx: Context, principal: Principal, kiosk_id: str) -> dict[str, Any]:
    """A lost or replaced kiosk: its device token stops working at once, everywhere."""
    # Imported here: tenancy builds on this module's role checks.
    from gigmarket.services.tenancy import audit, require_manager_of

    markets = await require_manager_of(ctx, principal, "kiosk", kiosk_id)
    k = await kiosks.device(ctx.ledger, kiosk_id)
    if k is None:
        raise NotFoundError("no such kiosk", field="kiosk_id")
    if k["revoked_at"] is not None:
        raise ConflictError("this kiosk is already revoked", code="kiosk_revoked",
                            field="kiosk_id")
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        hashes = await kiosks.revoke(tx, kiosk_id, principal.user_id)
        await tx.event("kiosk.revoked", market_id=k["market_id"], actor=principal.user_id,
                       subject=kiosk_id, payload={"station_id": k["station_id"]})
        await audit(tx, principal, "kiosk.revoke", "kiosk", kiosk_id, markets,
                    station_id=k["station_id"])
    for th in hashes:
        await ctx.live.publish(keys.REVOKE, json.dumps({"token_hash": th}))
    fresh = await kiosks.device(ctx.ledger, kiosk_id)
    assert fresh is not None
    return _kiosk_view(ctx, fresh)


async def kiosk_signin(ctx: Context, principal: Principal, body: object) -> dict[str, Any]:
    require(principal, Role.KIOSK)
    fields = v.exact_fields(body, required={"id_number", "pin"}, optional=set())
    id_number = v.id_number(fields["id_number"])
    pin = v.pin(fields["pin"])
    index = ctx.sealer.index(id_number)
    # Per ID number, so a stranger cannot walk the PIN space of one worker from many kiosks.
    await _limit(ctx, PIN_BUCKET, index, 5, 900)
    row = await workers.by_id_number(ctx.ledger, index)
    if row is None:
        raise NotFoundError("no worker registered with this ID number", code="not_registered",
                            field="id_number")
    if row["pin_hash"] is None or not verify_secret(row["pin_hash"], pin):
        raise AuthError("wrong PIN", code="bad_pin", field="pin")
    # Signed in with a PIN the desk handed out: the session can only choose a new one.
    must_change = await pins.must_change(ctx.ledger, row["id"])
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        token = await _new_session(tx, Role.WORKER, row["id"], 4 * 3600)
        if must_change:
            await pins.limit_session(tx, token_hash(token), pin_change_only=True)
        await tx.event("session.opened", market_id=principal.markets[0], actor=row["id"],
                       subject=row["id"], payload={"role": "worker", "kiosk": principal.user_id})
    return {"token": token, "role": "worker", "user_id": row["id"],
            "must_change_pin": must_change}


async def kiosk_register(ctx: Context, principal: Principal, body: object) -> dict[str, Any]:
    """First visit at a kiosk: the ID reader types the number, the worker picks a PIN."""
    require(principal, Role.KIOSK)
    fields = v.exact_fields(body, required={"id_number", "pin", "name"},
                            optional={"phone", "consent"})
    id_number = v.id_number(fields["id_number"])
    pin = v.pin(fields["pin"])
    name = v.text(fields["name"], "name", max_len=20)
    # Phoneless workers are who the kiosk is for (SPEC 11.2): a phone is checked when given.
    phone = None if fields.get("phone") in (None, "") else v.phone(fields["phone"])
    # The version of the privacy notice the worker agreed to before the ID was read.
    consent = (None if fields.get("consent") is None
               else v.text(fields["consent"], "consent", max_len=40))
    await _limit(ctx, "kiosk-register", principal.user_id, 60, 600)
    index = ctx.sealer.index(id_number)
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        if await workers.by_id_number(tx, index) is not None:
            raise ConflictError("this ID number is already registered; sign in with the PIN",
                                code="already_registered", field="id_number")
        existing = None if phone is None else await workers.by_phone(tx, phone)
        if existing is not None and existing["id_number_index"] is not None:
            raise ConflictError("this phone belongs to another registered worker",
                                code="phone_taken", field="phone")
        worker_id = existing["id"] if existing else new_id("w")
        sealed = ctx.sealer.seal(id_number)
        await workers.register_identity(tx, worker_id, phone=phone, name=name,
                                        id_number_enc=sealed, id_number_index=index,
                                        id_number_masked=mask_id_number(id_number),
                                        pin_hash=hash_secret(pin), new=existing is None)
        if consent is not None:
            await consent_store.record(tx, worker_id, consent)
        await membership.join(tx, "worker", worker_id, principal.markets[0])
        await tx.event("worker.registered", market_id=principal.markets[0], actor=worker_id,
                       subject=worker_id, payload={"via": "kiosk", "kiosk": principal.user_id,
                                                   "phone": phone is not None,
                                                   "consent": consent})
        token = await _new_session(tx, Role.WORKER, worker_id, 4 * 3600)
    return {"token": token, "role": "worker", "user_id": worker_id, "must_change_pin": False}
