"""The HTTP API of SPEC 6 under ``/api/v1``: each handler parses, calls one service, replies."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gigmarket.core import limits
from gigmarket.core.errors import RateLimitedError, ValidationError
from gigmarket.core.model import Role
from gigmarket.services import audit as audit_service
from gigmarket.services import (
    auth,
    certificates,
    claims,
    jobs,
    lifecycle,
    markets,
    offers,
    pins,
    site_code,
    trust,
    workers,
)
from gigmarket.services.context import Context, Principal
from gigmarket.web import access

MAX_BODY = 64 * 1024

Handler = Callable[[Request], Awaitable[Response]]


def ctx_of(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def read_json(request: Request) -> Any:
    """The body as JSON: at most 64 KiB (see :func:`read_body`)."""
    return parse_json(await read_body(request))


def parse_json(raw: bytes) -> Any:
    """A required JSON body, within the nesting limit (core.limits), for bearer and signed
    (exchange) routes alike."""
    if not raw:
        raise ValidationError("a JSON body is required", code="bad_body")
    return limits.parse_json(raw)


async def read_body(request: Request) -> bytes:
    """The raw body: at most 64 KiB, read incrementally so a liar's Content-Length or a
    chunked flood never makes us buffer more."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise ValidationError("request body over 64 KiB", code="body_too_large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise ValidationError("request body over 64 KiB", code="body_too_large")
        chunks.append(chunk)
    return b"".join(chunks)


async def principal_of(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else None
    principal = await auth.authenticate(ctx_of(request), token)
    # The access matrix's row for this route: the wrong role is refused before any service.
    rule = request.app.state.access.get(request.scope.get("endpoint"))
    if rule is not None:
        access.require_role(rule, principal.role)
    # The address goes into the audit log of managers' actions.
    return dataclasses.replace(principal, address=client_ip(request))


async def limit(request: Request, bucket: str, ident: str, n: int, window_s: int) -> None:
    if not await ctx_of(request).live.hit(bucket, ident, n, window_s):
        raise RateLimitedError("too many requests; slow down", retry_after_s=window_s)


def ok(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status)


def serve(service: Callable[..., Awaitable[Any]], param: str, *,
          body: bool = False) -> Handler:
    """The usual handler: who is calling, one path parameter, maybe a JSON body, one service.

    Handlers that do more (rate limits, another status) are written out below.
    """

    async def handler(request: Request) -> Response:
        p = await principal_of(request)
        args = [await read_json(request)] if body else []
        return ok(await service(ctx_of(request), p, request.path_params[param], *args))

    handler.__name__ = service.__name__
    return handler


# -- auth -------------------------------------------------------------------------------------

async def otp(request: Request) -> Response:
    return ok(await auth.request_otp(ctx_of(request), await read_json(request),
                                     client_ip(request)))


async def verify(request: Request) -> Response:
    return ok(await auth.verify_otp(ctx_of(request), await read_json(request),
                                    client_ip(request)))


async def login(request: Request) -> Response:
    return ok(await auth.login(ctx_of(request), await read_json(request), client_ip(request)))


async def logout(request: Request) -> Response:
    return ok(await auth.logout(ctx_of(request), await principal_of(request)))


async def logout_all(request: Request) -> Response:
    return ok(await auth.logout_all(ctx_of(request), await principal_of(request)))


async def kiosk_register_device(request: Request) -> Response:
    p = await principal_of(request)
    made = await auth.register_kiosk(ctx_of(request), p, request.path_params["m"],
                                     await read_json(request))
    # The link that opens the kiosk page already set up, on the host the manager is using;
    # the device token rides in the fragment, which browsers never send to a server.
    # The market too: station ids are a market's own, and two markets may both have a "hall".
    made["setup_url"] = (f"{str(request.base_url).rstrip('/')}/kiosk?market="
                         f"{quote(request.path_params['m'])}&station="
                         f"{quote(made['station_id'])}#kiosk_token={made['token']}")
    made["setup_qr_svg"] = site_code.svg(made["setup_url"])
    return ok(made, 201)


async def kiosk_signin(request: Request) -> Response:
    p = await principal_of(request)
    return ok(await auth.kiosk_signin(ctx_of(request), p, await read_json(request)))


async def kiosk_register(request: Request) -> Response:
    p = await principal_of(request)
    return ok(await auth.kiosk_register(ctx_of(request), p, await read_json(request)), 201)


async def find_workers(request: Request) -> Response:
    p = await principal_of(request)
    return ok(await pins.find(ctx_of(request), p, request.path_params["m"],
                              request.query_params.get("q")))


async def change_pin(request: Request) -> Response:
    p = await principal_of(request)
    await limit(request, "pin-change", p.user_id, 10, 600)
    return ok(await pins.change(ctx_of(request), p, await read_json(request)))


# -- me ---------------------------------------------------------------------------------------

async def me(request: Request) -> Response:
    return ok(await workers.me(ctx_of(request), await principal_of(request)))


async def put_profile(request: Request) -> Response:
    p = await principal_of(request)
    body = await read_json(request)
    if p.role is Role.EMPLOYER:
        return ok(await jobs.put_employer_profile(ctx_of(request), p, body))
    return ok(await workers.put_profile(ctx_of(request), p, body))


async def my_offers(request: Request) -> Response:
    return ok(await workers.my_offers(ctx_of(request), await principal_of(request)))


async def my_assignments(request: Request) -> Response:
    return ok(await workers.my_assignments(ctx_of(request), await principal_of(request)))


async def my_jobs(request: Request) -> Response:
    return ok(await jobs.my_jobs(ctx_of(request), await principal_of(request)))


async def my_why(request: Request) -> Response:
    return ok(await workers.why(ctx_of(request), await principal_of(request)))


# -- worker -----------------------------------------------------------------------------------

async def checkin(request: Request) -> Response:
    p = await principal_of(request)
    await limit(request, "checkin", p.user_id, 30, 60)
    return ok(await workers.checkin(ctx_of(request), p, request.path_params["m"],
                                    await read_json(request)))


async def accept(request: Request) -> Response:
    p = await principal_of(request)
    await limit(request, "answer", p.user_id, 60, 60)
    return ok(await offers.accept(ctx_of(request), p, request.path_params["id"]))


async def decline(request: Request) -> Response:
    p = await principal_of(request)
    await limit(request, "answer", p.user_id, 60, 60)
    return ok(await offers.decline(ctx_of(request), p, request.path_params["id"]))


# -- employer ---------------------------------------------------------------------------------

async def post_job(request: Request) -> Response:
    p = await principal_of(request)
    await limit(request, "post", p.user_id, 30, 600)
    view = await jobs.post_job(ctx_of(request), p, request.path_params["m"],
                               await read_json(request), request.headers.get("idempotency-key"))
    return ok(view, 201)


# -- manager ----------------------------------------------------------------------------------

async def stats_history(request: Request) -> Response:
    p = await principal_of(request)
    return ok(await markets.history(ctx_of(request), p, request.path_params["m"],
                                    request.query_params.get("date")))


# -- certificates (issue 10) ------------------------------------------------------------------

async def certificate_queue(request: Request) -> Response:
    p = await principal_of(request)
    return ok(await certificates.queue(ctx_of(request), p, request.path_params["m"],
                                       request.query_params.get("state")))


async def certificate_verify(request: Request) -> Response:
    p = await principal_of(request)
    return ok(await certificates.verify(ctx_of(request), p, request.path_params["id"],
                                        request.path_params["skill"]))


async def certificate_reject(request: Request) -> Response:
    p = await principal_of(request)
    return ok(await certificates.reject(ctx_of(request), p, request.path_params["id"],
                                        request.path_params["skill"], await read_json(request)))


async def audit_page(request: Request) -> Response:
    p = await principal_of(request)
    return ok(await audit_service.page(ctx_of(request), p, request.path_params["m"],
                                       request.query_params.get("limit"),
                                       request.query_params.get("before")))


# -- claims (issue 5) -------------------------------------------------------------------------

async def claim(request: Request) -> Response:
    p = await principal_of(request)
    await limit(request, "answer", p.user_id, 60, 60)
    return ok(await claims.claim(ctx_of(request), p, request.path_params["id"]), 201)


# -- after the accept (issue 5) -------------------------------------------------------------

async def assignment_checkin(request: Request) -> Response:
    p = await principal_of(request)
    await limit(request, "answer", p.user_id, 60, 60)
    return ok(await lifecycle.checkin(ctx_of(request), p, request.path_params["id"],
                                      await read_json(request)))


async def report(request: Request) -> Response:
    p = await principal_of(request)
    await limit(request, "report", p.user_id, 20, 3600)
    return ok(await trust.report(ctx_of(request), p, request.path_params["id"],
                                 await read_json(request)), 201)


async def suspend_employer(request: Request) -> Response:
    p = await principal_of(request)
    # The note is optional: a bare POST suspends too.
    empty = request.headers.get("content-length", "0") == "0"
    body = None if empty else await read_json(request)
    return ok(await trust.suspend(ctx_of(request), p, request.path_params["id"], body))


async def add_block(request: Request) -> Response:
    p = await principal_of(request)
    return ok(await trust.block(ctx_of(request), p, await read_json(request)), 201)


# -- public -----------------------------------------------------------------------------------

async def list_markets(request: Request) -> Response:
    return ok(markets.list_markets(ctx_of(request)))


async def list_skills(request: Request) -> Response:
    return ok(markets.list_skills(ctx_of(request)))


async def board(request: Request) -> Response:
    await limit(request, "board", client_ip(request), 120, 60)
    return ok(await markets.board(ctx_of(request), request.path_params["m"]))


async def board_qr(request: Request) -> Response:
    """The board's QR (SVG, drawn here with ``qrcode``): the worker page, on the host the board
    itself was opened from, so a phone in the hall reaches the same server."""
    await limit(request, "board", client_ip(request), 120, 60)
    market_id = request.path_params["m"]
    ctx_of(request).market(market_id)
    url = f"{str(request.base_url).rstrip('/')}/m/worker?market={quote(market_id)}"
    return Response(site_code.svg(url), media_type="image/svg+xml",
                    headers={"Cache-Control": "no-cache", "X-Worker-Url": url})


def routes() -> list[Route]:
    post, get, put = ["POST"], ["GET"], ["PUT"]
    return [
        Route("/auth/otp", otp, methods=post),
        Route("/auth/verify", verify, methods=post),
        Route("/auth/login", login, methods=post),
        Route("/auth/logout", logout, methods=post),
        Route("/auth/logout_all", logout_all, methods=post),
        Route("/kiosk/signin", kiosk_signin, methods=post),
        Route("/kiosk/register", kiosk_register, methods=post),
        Route("/me", me, methods=get),
        Route("/me/profile", put_profile, methods=put),
        Route("/me/pin", change_pin, methods=put),
        Route("/workers/{id}/pin_reset", serve(pins.reset, "id"), methods=post),
        Route("/markets/{m}/workers", find_workers, methods=get),
        Route("/me/offers", my_offers, methods=get),
        Route("/me/assignments", my_assignments, methods=get),
        Route("/me/jobs", my_jobs, methods=get),
        Route("/me/why", my_why, methods=get),
        Route("/markets", list_markets, methods=get),
        Route("/skills", list_skills, methods=get),
        Route("/markets/{m}/board", board, methods=get),
        Route("/markets/{m}/board/qr.svg", board_qr, methods=get),
        Route("/markets/{m}/checkin", checkin, methods=post),
        Route("/markets/{m}/checkout", serve(workers.checkout, "m"), methods=post),
        Route("/markets/{m}/jobs", post_job, methods=post),
        Route("/markets/{m}/kiosks", kiosk_register_device, methods=post),
        Route("/markets/{m}/kiosks", serve(auth.list_kiosks, "m"), methods=get),
        Route("/kiosks/{id}/revoke", serve(auth.revoke_kiosk, "id"), methods=post),
        Route("/markets/{m}/stats", serve(markets.manager_stats, "m"), methods=get),
        Route("/markets/{m}/stats/history", stats_history, methods=get),
        Route("/markets/{m}/pool", serve(markets.pool, "m"), methods=get),
        Route("/markets/{m}/unmatched", serve(markets.unmatched, "m"), methods=get),
        Route("/markets/{m}/review", serve(jobs.review, "m"), methods=get),
        Route("/markets/{m}/audit", audit_page, methods=get),
        Route("/offers/{id}/accept", accept, methods=post),
        Route("/offers/{id}/decline", decline, methods=post),
        Route("/offers/{id}/why", serve(offers.why, "id"), methods=get),
        Route("/jobs/{id}", serve(jobs.get_job, "id"), methods=get),
        Route("/jobs/{id}/cancel", serve(jobs.cancel_job, "id"), methods=post),
        Route("/jobs/{id}/approve", serve(jobs.approve_job, "id"), methods=post),
        Route("/jobs/{id}/reject", serve(jobs.reject_job, "id"), methods=post),
        Route("/employers/{id}/verify", serve(jobs.verify_employer, "id"), methods=post),
        Route("/workers/{id}/key_group", serve(jobs.set_key_group, "id", body=True), methods=put),
        Route("/markets/{m}/certificates", certificate_queue, methods=get),
        Route("/workers/{id}/certificates/{skill}/verify", certificate_verify, methods=post),
        Route("/workers/{id}/certificates/{skill}/reject", certificate_reject, methods=post),
        Route("/markets/{m}/claimable", serve(claims.claimable, "m"), methods=get),
        Route("/jobs/{id}/claim", claim, methods=post),
        Route("/jobs/{id}/site_code", serve(lifecycle.site, "id"), methods=get),
        Route("/assignments/{id}/checkin", assignment_checkin, methods=post),
        Route("/assignments/{id}/unlock_code", serve(lifecycle.unlock_code, "id"),
              methods=post),
        Route("/assignments/{id}/no_show", serve(lifecycle.no_show, "id"), methods=post),
        Route("/assignments/{id}/cancel", serve(lifecycle.cancel, "id"), methods=post),
        Route("/assignments/{id}/complete", serve(lifecycle.complete, "id", body=True),
              methods=post),
        Route("/assignments/{id}/paid", serve(lifecycle.paid, "id"), methods=post),
        Route("/assignments/{id}/rate", serve(lifecycle.rate, "id", body=True), methods=post),
        Route("/markets/{m}/disputes", serve(lifecycle.disputes, "m"), methods=get),
        Route("/disputes/{id}/resolve", serve(lifecycle.resolve_dispute, "id", body=True),
              methods=post),
        Route("/jobs/{id}/report", report, methods=post),
        Route("/markets/{m}/reports", serve(trust.reports, "m"), methods=get),
        Route("/reports/{id}/resolve", serve(trust.resolve_report, "id", body=True), methods=post),
        Route("/employers/{id}/suspend", suspend_employer, methods=post),
        Route("/blocks", add_block, methods=post),
    ]
