"""The websocket endpoint ``/ws`` (SPEC 7): auth, origin, resume, accept/decline, ping."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from gigmarket import codec, protocol
from gigmarket.core.errors import DomainError, RateLimitedError
from gigmarket.core.model import Role
from gigmarket.services import auth, jobs, markets, offers, presence, workers
from gigmarket.services.context import Context, Principal, market_recipient
from gigmarket.store import membership
from gigmarket.web.hub import Connection, Hub

log = logging.getLogger("gigmarket.ws")

AUTH_TIMEOUT_S = 5.0
#: The auth wait is counted in slices of this much loop time (see :func:`_first_message`).
AUTH_SLICE_S = 0.25
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


async def _snapshot(ctx: Context, principal: Principal, recipient: str) -> protocol.Snapshot:
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
    return protocol.snapshot(seq, state)


async def _markets_of(ctx: Context, principal: Principal, recipient: str) -> tuple[str, ...]:
    """The markets whose channels carry this socket's messages (issue 11): a manager's stream
    is its market's; a worker or an employer hears each market they belong to."""
    kind, _, ident = recipient.partition(":")
    if kind == "market":
        return (ident,)
    if principal.role is Role.WORKER:
        return await membership.markets_of(ctx.ledger, "worker", principal.user_id)
    return await membership.markets_of(ctx.ledger, "employer", principal.user_id)


async def send_json(ws: WebSocket, body: Mapping[str, Any]) -> None:
    """orjson, not Starlette's ``send_json`` (stdlib json): every message to every socket
    passes here (issue 13)."""
    await ws.send_text(codec.dumps(body))


async def _sender(ctx: Context, conn: Connection) -> None:
    async def send(body: Mapping[str, Any]) -> None:
        await send_json(conn.ws, body)

    async def replay(after: int, upto: int | None = None) -> None:
        # The replay window is the history kept per recipient: further behind, a snapshot.
        msgs = await ctx.ledger.messages_after(conn.recipient, after,
                                               limit=ctx.settings.history_per_recipient)
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

    while conn.pending:
        kind, item = conn.pending.popleft()
        if kind == "msg":
            body, text = item  # encoded once by the hub for all its sockets
            seq = int(body["seq"])
            if seq <= conn.last_seq:
                continue  # already sent (replayed, or published twice)
            if seq > conn.last_seq + 1:
                await replay(conn.last_seq, seq - 1)  # a gap: the ledger has it
                if seq <= conn.last_seq:
                    continue
            await conn.ws.send_text(text)
            conn.last_seq = seq
        elif kind == "catch_up":
            # A subscription had a gap, or this socket's market channel was just joined: what
            # was published meanwhile is in the ledger, after what we sent last.
            await replay(conn.last_seq)
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
        conn.push("direct", protocol.pong())
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


async def _receive(ws: WebSocket) -> str | bytes:
    """The next frame, text or binary: a binary frame is answered like any bad message,
    never with a dropped socket (``receive_text`` would raise ``KeyError('text')``)."""
    message = await ws.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
    text = message.get("text")
    if text is not None:
        return str(text)
    return bytes(message.get("bytes") or b"")


def _parse(raw: str | bytes) -> protocol.ClientMessage:
    if isinstance(raw, bytes):
        raise protocol.ProtocolError("binary frames are not accepted; send JSON text",
                                     code="binary_frame")
    return protocol.parse_client(raw)


async def _receiver(ctx: Context, conn: Connection) -> None:
    window_start, count = time.monotonic(), 0
    while not conn.closing:
        raw = await _receive(conn.ws)
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
            await _handle(ctx, conn, _parse(raw))
        except DomainError as e:
            conn.push("direct", protocol.error(e))


async def _first_message(ws: WebSocket) -> str | bytes:
    """The client's first frame, or TimeoutError after AUTH_TIMEOUT_S of its silence.

    Silence is counted in slices of loop time, not by the wall clock: when 10k clients
    reconnect at once (a web process restarted) the loop runs late, and a wall-clock
    deadline closed sockets whose auth had long arrived but not yet been read (issue 13).
    A late slice counts as one slice, so an idle client on a quiet server still goes at 5 s.
    """
    for _ in range(round(AUTH_TIMEOUT_S / AUTH_SLICE_S)):
        # Cancelling a receive loses nothing: the frame stays queued for the next one.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(AUTH_SLICE_S):
                return await _receive(ws)
    raise TimeoutError


async def _authenticate(ctx: Context, ws: WebSocket) -> tuple[Principal, str] | None:
    try:
        message = _parse(await _first_message(ws))
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
                await send_json(ws, protocol.error(e))
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
    conn = Connection(ws=ws, principal=principal, recipient=recipient, last_seq=last,
                      markets=set(await _markets_of(ctx, principal, recipient)))
    await hub.add(conn)
    try:
        # A worker's socket is their presence: offers expiring while none is up cost no
        # work. Marked once the hub holds the socket (the round it asks for may offer them
        # something at once) and before "ready"; the hub renews it while the socket lives.
        if principal.role is Role.WORKER:
            conn.presence = await presence.arrive(ctx, principal.user_id)
        await send_json(ws, protocol.ready(last, recipient))
        # An idle socket has this one task, which reads what the client sends; a sender runs
        # only while something waits to be sent. At 10k sockets every task per socket is
        # memory (issue 13: a receiver task of its own cost ~0.9 KiB a socket).
        sending: list[asyncio.Task[None]] = []

        def sent(t: asyncio.Task[None]) -> None:
            if t.cancelled() or t.exception() is not None:
                conn.close()
            elif conn.pending:
                wake()  # pushed while the last send was finishing

        def wake() -> None:
            if not sending or sending[-1].done():
                sending[:] = [asyncio.create_task(_sender(ctx, conn))]
                sending[0].add_done_callback(sent)

        conn.wake = wake
        if conn.pending:
            wake()
        me = asyncio.current_task()
        assert me is not None

        def stop() -> None:
            # The hub closing the socket, or a send failing, ends the read by cancelling
            # this task; from within it (a rate limit, a full queue while answering) the
            # read loop sees ``closing`` itself. A cancel not ours (the server stopping)
            # goes on up.
            if asyncio.current_task() is not me:
                me.cancel()

        conn.on_close = stop
        try:
            if not conn.closing:
                await _receiver(ctx, conn)
        except asyncio.CancelledError:
            if not conn.closing or me.uncancel() > 0:
                raise
        except Exception as exc:
            # Logged here: kept past this block, the exception's traceback would hold this
            # frame, a cycle per closed socket left to the collector (gigmarket.collector).
            if not isinstance(exc, WebSocketDisconnect):
                log.warning("socket of %s ended: %r", recipient, exc)
        finally:
            conn.on_close = None
            conn.wake = None
            conn.closing = True
            for t in sending:
                t.cancel()
            # Waited for, not awaited: awaiting a task re-raised its exception here, and the
            # exception's traceback then held this frame, which holds the tasks, which hold
            # the exception: a cycle of ~84 objects per closed socket left to the collector
            # (issue 13: see gigmarket.collector).
            if sending:
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait(sending)
        for t in sending:
            failed = None if t.cancelled() else t.exception()
            if failed is not None and not isinstance(failed, WebSocketDisconnect):
                log.warning("socket of %s ended: %r", recipient, failed)
        if conn.close_code is not None:
            with contextlib.suppress(Exception):
                await ws.close(conn.close_code)
    finally:
        await hub.remove(conn)
        if conn.presence is not None:
            await presence.leave(ctx, principal.user_id, conn.presence)
