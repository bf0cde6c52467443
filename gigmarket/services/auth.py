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
from gigmarket.store import keys
from gigmarket.store.ledger import Ledger, Tx, new_id

OTP_TTL_S = 300
OTP_MAX_ATTEMPTS = 5
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
    # Generous per address: a market hall's phones often share one Wi-Fi (NAT) address.
    await _limit(ctx, "otp-ip", client_ip, 300, 600)
    code = new_otp_code()
    now = ctx.clock()
    async with ctx.ledger.transaction(now) as tx:
        await tx.execute(
            "INSERT INTO otps (phone, code_hash, expires_at, attempts) VALUES (?, ?, ?, 0)"
            " ON CONFLICT (phone) DO UPDATE SET code_hash = excluded.code_hash,"
            " expires_at = excluded.expires_at, attempts = 0",
            (phone, otp_hash(phone, code, ctx.settings.secret_key), now + OTP_TTL_S),
        )
    await ctx.sender.send(phone, code)
    out: dict[str, Any] = {"sent": True, "expires_in_s": OTP_TTL_S}
    if ctx.settings.dev:
        out["dev_code"] = code
    return out


async def _new_session(tx: Tx, role: Role, user_id: str, ttl_s: float) -> str:
    token = new_token()
    await tx.execute(
        "INSERT INTO sessions (token_hash, role, user_id, created_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (token_hash(token), role.value, user_id, tx.now, tx.now + ttl_s),
    )
    return token


async def verify_otp(ctx: Context, body: object, client_ip: str) -> dict[str, Any]:
    fields = v.exact_fields(body, required={"phone", "code", "role"}, optional=set())
    phone = v.phone(fields["phone"])
    code = v.otp_code(fields["code"])
    if fields["role"] not in ("worker", "employer"):
        raise ValidationError("role must be worker or employer", code="bad_role", field="role")
    role = Role(fields["role"])
    await _limit(ctx, "verify-ip", client_ip, 300, 600)
    table = "workers" if role is Role.WORKER else "employers"
    prefix = "w" if role is Role.WORKER else "e"
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        row = await tx.one("SELECT * FROM otps WHERE phone = ?", (phone,))
        if row is None or row["expires_at"] < tx.now or row["attempts"] >= OTP_MAX_ATTEMPTS:
            raise AuthError("no valid code for this phone; request a new one",
                            code="otp_expired", field="code")
        if row["code_hash"] != otp_hash(phone, code, ctx.settings.secret_key):
            await tx.execute("UPDATE otps SET attempts = attempts + 1 WHERE phone = ?", (phone,))
            # The failed attempt must count even though we refuse: commit it, then raise.
            pending_error: AuthError | None = AuthError("wrong code", code="otp_wrong",
                                                        field="code")
        else:
            pending_error = None
            await tx.execute("DELETE FROM otps WHERE phone = ?", (phone,))
            user = await tx.one(f"SELECT id FROM {table} WHERE phone = ?", (phone,))
            if user is None:
                user_id = new_id(prefix)
                await tx.execute(
                    f"INSERT INTO {table} (id, phone, created_at, updated_at) VALUES (?, ?, ?, ?)",
                    (user_id, phone, tx.now, tx.now),
                )
                await tx.event(f"{role.value}.registered", market_id=None, actor=user_id,
                               subject=user_id, payload={"via": "otp"})
            else:
                user_id = user["id"]
            token = await _new_session(tx, role, user_id, ctx.settings.token_ttl_s)
            await tx.event("session.opened", market_id=None, actor=user_id, subject=user_id,
                           payload={"role": role.value})
    if pending_error is not None:
        raise pending_error
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
        row = await tx.one("SELECT id, markets FROM managers WHERE username = ?", (username,))
        if row is not None:
            merged = sorted(set(json.loads(row["markets"])) | set(markets))
            await tx.execute("UPDATE managers SET password_hash = ?, markets = ? WHERE id = ?",
                             (hash_secret(password), json.dumps(merged), row["id"]))
            manager_id: str = row["id"]
        else:
            manager_id = new_id("m")
            await tx.execute(
                "INSERT INTO managers (id, username, password_hash, markets, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (manager_id, username, hash_secret(password), json.dumps(sorted(markets)), tx.now),
            )
        await tx.event("manager.saved", market_id=None, actor="cli", subject=manager_id,
                       payload={"username": username, "markets": markets})
    return manager_id


async def login(ctx: Context, body: object, client_ip: str) -> dict[str, Any]:
    fields = v.exact_fields(body, required={"username", "password"}, optional=set())
    username = v.text(fields["username"], "username", max_len=40)
    if not isinstance(fields["password"], str):
        raise ValidationError("password must be a string", code="bad_type", field="password")
    await _limit(ctx, "login-user", username, 10, 600)
    await _limit(ctx, "login-ip", client_ip, 30, 600)
    row = await ctx.ledger.one("SELECT * FROM managers WHERE username = ?", (username,))
    if row is None or not verify_secret(row["password_hash"], fields["password"]):
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
    row = await ctx.ledger.one("SELECT * FROM sessions WHERE token_hash = ?", (th,))
    if row is None or row["revoked_at"] is not None or row["expires_at"] < ctx.clock():
        raise AuthError("your sign-in has ended; sign in again", code="unauthorized")
    role = Role(row["role"])
    user_id: str = row["user_id"]
    if role is Role.MANAGER:
        m = await ctx.ledger.one("SELECT markets FROM managers WHERE id = ?", (user_id,))
        markets = tuple(json.loads(m["markets"])) if m else ()
        return Principal(role, user_id, th, markets=markets)
    if role is Role.KIOSK:
        k = await ctx.ledger.one("SELECT market_id, station_id FROM kiosks WHERE id = ?",
                                 (user_id,))
        if k is None:
            raise AuthError("unknown kiosk", code="unauthorized")
        return Principal(role, user_id, th, markets=(k["market_id"],),
                         station_id=k["station_id"])
    if role is Role.EMPLOYER:
        e = await ctx.ledger.one("SELECT state FROM employers WHERE id = ?", (user_id,))
        if e is None or e["state"] == "suspended":
            raise AuthError("this account is suspended", code="suspended")
    return Principal(role, user_id, th)


async def logout(ctx: Context, principal: Principal) -> dict[str, Any]:
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        await tx.execute("UPDATE sessions SET revoked_at = ? WHERE token_hash = ?",
                         (tx.now, principal.token_hash))
        await tx.event("session.closed", market_id=None, actor=principal.user_id,
                       subject=principal.user_id, payload={})
    # Every process closes this session's sockets at once (SPEC 9).
    await ctx.live.publish(keys.REVOKE, json.dumps({"token_hash": principal.token_hash}))
    return {"ok": True}


def require(principal: Principal, *roles: Role) -> None:
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
        await tx.execute(
            "INSERT INTO kiosks (id, market_id, station_id, name, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (kiosk_id, market_id, station.id, name, principal.user_id, tx.now),
        )
        token = await _new_session(tx, Role.KIOSK, kiosk_id, KIOSK_TOKEN_TTL_S)
        await tx.event("kiosk.registered", market_id=market_id, actor=principal.user_id,
                       subject=kiosk_id, payload={"station_id": station.id})
    return {"id": kiosk_id, "token": token, "station_id": station.id, "market_id": market_id}


async def kiosk_signin(ctx: Context, principal: Principal, body: object) -> dict[str, Any]:
    require(principal, Role.KIOSK)
    fields = v.exact_fields(body, required={"id_number", "pin"}, optional=set())
    id_number = v.id_number(fields["id_number"])
    pin = v.pin(fields["pin"])
    index = ctx.sealer.index(id_number)
    # Per ID number, so a stranger cannot walk the PIN space of one worker from many kiosks.
    await _limit(ctx, "pin", index, 5, 900)
    row = await ctx.ledger.one("SELECT id, pin_hash FROM workers WHERE id_number_index = ?",
                               (index,))
    if row is None:
        raise NotFoundError("no worker registered with this ID number", code="not_registered",
                            field="id_number")
    if row["pin_hash"] is None or not verify_secret(row["pin_hash"], pin):
        raise AuthError("wrong PIN", code="bad_pin", field="pin")
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        token = await _new_session(tx, Role.WORKER, row["id"], 4 * 3600)
        await tx.event("session.opened", market_id=principal.markets[0], actor=row["id"],
                       subject=row["id"], payload={"role": "worker", "kiosk": principal.user_id})
    return {"token": token, "role": "worker", "user_id": row["id"]}


async def kiosk_register(ctx: Context, principal: Principal, body: object) -> dict[str, Any]:
    """First visit at a kiosk: the ID reader types the number, the worker picks a PIN."""
    require(principal, Role.KIOSK)
    fields = v.exact_fields(body, required={"id_number", "pin", "name", "phone"}, optional=set())
    id_number = v.id_number(fields["id_number"])
    pin = v.pin(fields["pin"])
    name = v.text(fields["name"], "name", max_len=20)
    phone = v.phone(fields["phone"])
    await _limit(ctx, "kiosk-register", principal.user_id, 60, 600)
    index = ctx.sealer.index(id_number)
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        if await tx.one("SELECT 1 FROM workers WHERE id_number_index = ?", (index,)):
            raise ConflictError("this ID number is already registered; sign in with the PIN",
                                code="already_registered", field="id_number")
        existing = await tx.one("SELECT id, id_number_index FROM workers WHERE phone = ?",
                                (phone,))
        if existing is not None and existing["id_number_index"] is not None:
            raise ConflictError("this phone belongs to another registered worker",
                                code="phone_taken", field="phone")
        worker_id = existing["id"] if existing else new_id("w")
        sealed = ctx.sealer.seal(id_number)
        if existing is None:
            await tx.execute(
                "INSERT INTO workers (id, phone, name, id_number_enc, id_number_index,"
                " id_number_masked, pin_hash, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (worker_id, phone, name, sealed, index, mask_id_number(id_number),
                 hash_secret(pin), tx.now, tx.now),
            )
        else:
            await tx.execute(
                "UPDATE workers SET name = ?, id_number_enc = ?, id_number_index = ?,"
                " id_number_masked = ?, pin_hash = ?, updated_at = ? WHERE id = ?",
                (name, sealed, index, mask_id_number(id_number), hash_secret(pin), tx.now,
                 worker_id),
            )
        await tx.event("worker.registered", market_id=principal.markets[0], actor=worker_id,
                       subject=worker_id, payload={"via": "kiosk", "kiosk": principal.user_id})
        token = await _new_session(tx, Role.WORKER, worker_id, 4 * 3600)
    return {"token": token, "role": "worker", "user_id": worker_id}
