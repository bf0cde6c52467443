"""The websocket endpoint ``/ws`` (SPEC 7): auth, origin, resume, accept/decline, ping."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from gigmarket import protocol
from gigmarket.core.errors import DomainError, RateLimitedError
from gigmarket.core.model import Role
from gigmarket.services import auth, jobs, markets, offers, workers
from gigmarket.services.context import Context, Principal, market_recipient
from gigmarket.web.hub import Connection, Hub

log = logging.getLogger("gigmarket.ws")

AUTH_TIMEOUT_S = 5.0
#: Client messages allowed per window; beyond, an error; far beyond, the socket closes.
RATE_LIMIT = 20
RATE_WINDOW_S = 10.0


def origin_allowed(ws: WebSocket, extra: tuple[str, ...]) -> bool:
    """Browsers always send ``Origin``; it must be this server's own or a configured one.

    Clients that are not browsers (kiosk shells, the tests' ``websockets`` client) send none;
    they cannot be the victim of a cross-site socket, so no Origin is allowed.
    """
    origin = ws.headers.get("origin")
    if origin is None:
        return True
    host = ws.headers.get("host", "")
    return origin in {f"http://{host}", f"https://{host}", *extra}


async def _snapshot(ctx: Context, principal: Principal, recipient: str) -> dict[str, Any]:
    seq = await ctx.ledger.last_seq(recipient)
    if principal.role is Role.WORKER:
        state: dict[str, Any] = {
            "me": await workers.me(ctx, principal),
            "offers": [o for o in await workers.my_offers(ctx, principal)
                       if o["state"] == "pending"],
            "assignments": await workers.my_assignments(ctx, principal),
        }
    elif principal.role is Role.EMPLOYER:
        state = {"jobs": await jobs.my_jobs(ctx, principal)}
    else:
        state = {"stats": await markets.stats(ctx, recipient.split(":", 1)[1])}
    return {"type": "snapshot", "seq": seq, "state": state}


async def _sender(ctx: Context, conn: Connection) -> None:
    async def send(body: dict[str, Any]) -> None:
        await conn.ws.send_json(body)

    async def replay(after: int, upto: int | None = None) -> None:
        msgs = await ctx.ledger.messages_after(conn.recipient, after)
        if msgs is None:
            snap = await _snapshot(ctx, conn.principal, conn.recipient)
            await send(snap)
            conn.last_seq = snap["seq"]
            return
        for body in msgs:
            if upto is not None and body["seq"] > upto:
                break
            await send(body)
            conn.last_seq = body["seq"]

    while True:
        kind, item = await conn.queue.get()
        if kind == "msg":
            seq = int(item["seq"])
            if seq <= conn.last_seq:
                continue  # already sent (replayed, or published twice)
            if seq > conn.last_seq + 1:
                await replay(conn.last_seq, seq - 1)  # a gap: the ledger has it
                if seq <= conn.last_seq:
                    continue
            await send(item)
            conn.last_seq = seq
        elif kind == "eph":
            await send({**item, "seq": conn.last_seq})
        elif kind == "resume":
            after = int(item)
            if after > await ctx.ledger.last_seq(conn.recipient):
                # The client is ahead of our history (e.g. the data was reset): start afresh.
                snap = await _snapshot(ctx, conn.principal, conn.recipient)
                await send(snap)
                conn.last_seq = snap["seq"]
            else:
                await replay(after)
        else:  # "direct": replies that are not part of the stream
            await send(item)


async def _handle(ctx: Context, conn: Connection, message: protocol.ClientMessage) -> None:
    kind = message["type"]
    if kind == "ping":
        conn.push("direct", {"type": "pong"})
    elif kind == "resume":
        conn.push("resume", message["after"])  # type: ignore[typeddict-item]
    elif kind in ("accept", "decline"):
        offer_id: str = message["offer_id"]  # type: ignore[typeddict-item]
        if kind == "accept":
            await offers.accept(ctx, conn.principal, offer_id)
        else:
            await offers.decline(ctx, conn.principal, offer_id)
    elif kind == "auth":
        raise protocol.ProtocolError("already signed in", code="already_authenticated",
                                     field="type")


async def _receiver(ctx: Context, conn: Connection) -> None:
    window_start, count = time.monotonic(), 0
    while True:
        raw = await conn.ws.receive_text()
        now = time.monotonic()
        if now - window_start > RATE_WINDOW_S:
            window_start, count = now, 0
        count += 1
        if count > RATE_LIMIT * 5:
            conn.close(protocol.CLOSE_RATE)
            return
        try:
            if count > RATE_LIMIT:
                raise RateLimitedError("too many messages; slow down", retry_after_s=10)
            await _handle(ctx, conn, protocol.parse_client(raw))
        except DomainError as e:
            conn.push("direct", protocol.error(e))


async def _authenticate(ctx: Context, ws: WebSocket) -> tuple[Principal, str] | None:
    try:
        async with asyncio.timeout(AUTH_TIMEOUT_S):
            raw = await ws.receive_text()
        message = protocol.parse_client(raw)
        if message["type"] != "auth":
            raise protocol.ProtocolError("the first message must be auth", code="auth_first")
        principal = await auth.authenticate(ctx, message["token"])
        if principal.role is Role.MANAGER:
            wanted = str(message.get("market") or principal.markets[0])
            auth.require_market(principal, wanted)
            return principal, market_recipient(wanted)
        if principal.role not in (Role.WORKER, Role.EMPLOYER):
            raise protocol.ProtocolError("this account has no message stream", code="no_stream")
        return principal, principal.recipient
    except (TimeoutError, DomainError, WebSocketDisconnect, KeyError) as e:
        with contextlib.suppress(Exception):
            if isinstance(e, DomainError):
                await ws.send_json(protocol.error(e))
            await ws.close(protocol.CLOSE_AUTH)
        return None


async def endpoint(ws: WebSocket) -> None:
    ctx: Context = ws.app.state.ctx
    hub: Hub = ws.app.state.hub
    await ws.accept()
    if not origin_allowed(ws, ctx.settings.allowed_origins):
        await ws.close(protocol.CLOSE_ORIGIN)
        return
    who = await _authenticate(ctx, ws)
    if who is None:
        return
    principal, recipient = who
    last = await ctx.ledger.last_seq(recipient)
    conn = Connection(ws=ws, principal=principal, recipient=recipient, last_seq=last)
    hub.add(conn)
    try:
        await ws.send_json({"type": "ready", "seq": last, "recipient": recipient})
        tasks = [asyncio.create_task(_sender(ctx, conn)),
                 asyncio.create_task(_receiver(ctx, conn)),
                 asyncio.create_task(conn.closed.wait())]
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for t in pending:
            t.cancel()
        for t in pending:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        for t in done:
            exc = t.exception()
            if exc is not None and not isinstance(exc, WebSocketDisconnect):
                log.warning("socket of %s ended: %r", recipient, exc)
        if conn.close_code is not None:
            with contextlib.suppress(Exception):
                await ws.close(conn.close_code)
    finally:
        hub.remove(conn)
