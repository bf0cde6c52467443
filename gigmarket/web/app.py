"""The Starlette application: routes, pages, lifespan (ledger, live store, fan-out hub)."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
import unicodedata
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import unquote_plus

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from gigmarket.core.errors import DomainError, ValidationError
from gigmarket.services import market_rules, whatif
from gigmarket.services.context import Context, OtpSender
from gigmarket.settings import Settings, shipped
from gigmarket.store import recoveries
from gigmarket.store.ledger import Ledger, LedgerUnavailable
from gigmarket.store.live import LiveStore
from gigmarket.store.recoveries import Recovery
from gigmarket.web import access, api, console, exchange, export, openapi, ws
from gigmarket.web.errors import (
    error_response,
    on_client_gone,
    on_domain_error,
    on_http_error,
    on_unavailable,
    on_unexpected,
    unavailable,
)
from gigmarket.web.headers import SecurityHeaders
from gigmarket.web.hub import Hub

STATIC = shipped("static")

PAGES = {
    "/kiosk": "kiosk.html",
    "/m/worker": "worker.html",
    "/m/employer": "employer.html",
    "/manage": "manage.html",
}


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("gigmarket_http_requests", "HTTP requests", ["method", "status"],
                                registry=self.registry)
        self.sockets = Gauge("gigmarket_websockets", "Open websockets in this process",
                             registry=self.registry)
        self.round_ms = Gauge("gigmarket_last_round_ms", "Duration of the last round",
                              ["market"], registry=self.registry)
        self.round_offers = Gauge("gigmarket_last_round_offers", "Offers in the last round",
                                  ["market"], registry=self.registry)
        #: Per channel: a process hears only the markets of its sockets (issue 11).
        self.fanout = Gauge("gigmarket_fanout_payloads", "Fan-out payloads this process "
                            "received, per channel", ["channel"], registry=self.registry)
        self.recoveries = RecoveryCounts()
        self.registry.register(self.recoveries)


class RecoveryCounts(Collector):
    """Restarts, rebuilds and lease changes of every process on the ledger, as counters.

    They are counted in the ledger by the processes that recover (``store/recoveries.py``);
    ``/metrics`` reads them just before it renders (:attr:`latest`).
    """

    def __init__(self) -> None:
        self.latest: dict[Recovery, int] = {}

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "gigmarket_recoveries", "Recoveries: restarts of the dispatcher, solver and "
            "embedded Redis, rebuilds of the live pools, lease changes", labels=["kind"])
        for kind, n in self.latest.items():
            family.add_metric([kind.value], n)
        yield family


class CountRequests:
    """Counts responses by status; a tiny ASGI middleware so it sees every route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        metrics: Metrics = scope["app"].state.metrics

        async def counting_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                metrics.requests.labels(scope["method"], str(message["status"])).inc()
            await send(message)

        await self.app(scope, receive, counting_send)


class WritesNeedRedis:
    """A write while Redis is unreachable answers 503 ``unavailable`` before it reaches the
    ledger (issue 8). Most writes commit to the ledger first and update Redis after; without
    this, a check-in would be recorded and yet answered 503. One PING on a local socket."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("POST", "PUT", "PATCH", "DELETE"):
            ctx: Context = scope["app"].state.ctx
            try:
                async with asyncio.timeout(READY_TIMEOUT_S):
                    await ctx.live.redis.ping()
            except (RedisError, OSError, TimeoutError):
                await unavailable()(scope, receive, send)
                return
        await self.app(scope, receive, send)


class ControlCharactersRefused:
    """A path or query with a control character (``%00`` and the like) answers 400 naming
    ``path`` or ``query``, before any route: no id or cursor holds one, and PostgreSQL's text
    cannot even store a NUL, so such a request would otherwise reach the ledger and fail there
    (found by the fuzz test on the second backend)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = unquote_plus(scope.get("query_string", b"").decode("latin-1"))
            for field, text in (("path", scope["path"]), ("query", query)):
                if any(unicodedata.category(c) == "Cc" for c in text):
                    refusal = ValidationError(f"the {field} contains a control character",
                                              code="bad_text", field=field)
                    await error_response(refusal)(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def page(name: str) -> Route:
    async def serve(request: Request) -> Response:
        path = STATIC / name
        if not path.exists():
            raise HTTPException(404, f"page {name} is not built")
        return FileResponse(path, headers={"Cache-Control": "no-cache"})

    return Route(next(k for k, v in PAGES.items() if v == name), serve)


async def board_page(request: Request) -> Response:
    path = STATIC / "board.html"
    if not path.exists():
        raise HTTPException(404, "page board.html is not built")
    return FileResponse(path, headers={"Cache-Control": "no-cache"})


async def healthz(request: Request) -> Response:
    return JSONResponse({"ok": True})


#: How long readyz waits for Redis and for the ledger's probe commit before saying "slow".
READY_TIMEOUT_S = 2.0
#: A probe commit is reused this long: a load balancer polling readyz must not fsync a
#: ledger write each time.
LEDGER_PROBE_TTL_S = 1.0


async def _ledger_check(app: Starlette) -> str | None:
    """None when the ledger can commit now, else what is wrong."""
    ctx: Context = app.state.ctx
    probe: asyncio.Task[None] | None = app.state.ledger_probe
    if probe is None or (probe.done() and time.monotonic() - app.state.ledger_probe_at
                         > LEDGER_PROBE_TTL_S):
        # A task of its own, awaited through shield: a probe that times out here goes on to
        # finish its transaction rather than being cancelled halfway through BEGIN/COMMIT.
        probe = asyncio.create_task(recoveries.ledger_commits(ctx.ledger))
        app.state.ledger_probe, app.state.ledger_probe_at = probe, time.monotonic()
    try:
        await asyncio.wait_for(asyncio.shield(probe), READY_TIMEOUT_S)
    except TimeoutError:
        return "the ledger did not commit in time"
    except Exception as e:
        return f"the ledger cannot commit ({type(e).__name__}: {e})"
    return None


async def readyz(request: Request) -> Response:
    """503, naming each problem, when this process cannot serve writes or a market has no
    dispatcher (issue 8); the lease holders and tokens per market (SPEC 11.6)."""
    ctx: Context = request.app.state.ctx
    checks: dict[str, Any] = {}
    problems: list[str] = []
    ledger_problem = await _ledger_check(request.app)
    checks["ledger"] = ledger_problem or "ok"
    if ledger_problem:
        problems.append(ledger_problem)
    dispatch: dict[str, dict[str, Any] | None] = {m: None for m in ctx.settings.markets}
    try:
        async with asyncio.timeout(READY_TIMEOUT_S):
            await ctx.live.redis.ping()
            for m in ctx.settings.markets:
                held = await ctx.live.lease_holder(m)
                if held is not None:
                    dispatch[m] = {"holder": held[0], "token": held[1]}
        checks["redis"] = "ok"
        # The lease lapses a few seconds after its holder stops renewing it (LEASE_TTL_S).
        problems += [f"no dispatcher holds market {m}" for m, v in dispatch.items() if v is None]
    except Exception as e:
        checks["redis"] = f"unreachable ({type(e).__name__})"
        problems.append("Redis is unreachable")
    checks["dispatch"] = dispatch
    ok = not problems
    return JSONResponse({"ready": ok, "problems": problems, "checks": checks},
                        status_code=200 if ok else 503)


async def openapi_endpoint(request: Request) -> Response:
    return JSONResponse(openapi.document(list(request.app.routes)))


async def metrics_endpoint(request: Request) -> Response:
    ctx: Context = request.app.state.ctx
    metrics: Metrics = request.app.state.metrics
    hub: Hub = request.app.state.hub
    metrics.sockets.set(hub.connections)
    for channel, n in hub.feed.received.items():
        metrics.fanout.labels(channel).set(n)
    with contextlib.suppress(Exception):
        metrics.recoveries.latest = await recoveries.counts(ctx.ledger)
    for m in ctx.settings.markets:
        try:
            last = await ctx.live.last_round(m)
        except RedisError:
            break  # /readyz says so; the figures from Redis are missing meanwhile
        if last:
            metrics.round_ms.labels(m).set(float(last.get("total_ms", 0)))
            metrics.round_offers.labels(m).set(float(last.get("offers", 0)))
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


def create_app(settings: Settings, redis_url: str, *, sender: OtpSender | None = None) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        ledger = await Ledger.open(settings.ledger_path)
        live = LiveStore.from_url(redis_url, cluster=settings.redis_cluster)
        try:
            ctx = Context(settings=settings, ledger=ledger, live=live)
            if sender is not None:
                ctx.sender = sender
            hub = Hub(ctx)
            await hub.start()
            app.state.ctx = ctx
            app.state.hub = hub
            app.state.started = time.time()
            await market_rules.refresh(ctx)
            rules_watch = asyncio.create_task(market_rules.watch(ctx))
            app.state.whatifs = whatif.WhatIfs()
            app.state.ledger_probe = None
            try:
                yield
            finally:
                await app.state.whatifs.aclose()
                rules_watch.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await rules_watch
                await hub.aclose()
        finally:
            await live.aclose()
            await ledger.aclose()

    routes = [
        Mount("/api/v1", routes=[*api.routes(), *export.routes, *console.routes,
                                 *exchange.routes]),
        WebSocketRoute("/ws", ws.endpoint),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics_endpoint),
        Route("/openapi.json", openapi_endpoint),
        Route("/board/{m}", board_page),
        *[page(name) for name in PAGES.values()],
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(SecurityHeaders, frame_ancestors=settings.allowed_origins),
                    Middleware(CountRequests), Middleware(ControlCharactersRefused),
                    Middleware(WritesNeedRedis),
                    Middleware(GZipMiddleware, minimum_size=1024)],
        exception_handlers={
            DomainError: on_domain_error,
            ClientDisconnect: on_client_gone,
            RedisConnectionError: on_unavailable,
            RedisTimeoutError: on_unavailable,
            sqlite3.OperationalError: on_unavailable,
            LedgerUnavailable: on_unavailable,
            HTTPException: on_http_error,
            Exception: on_unexpected,
        },
    )
    app.state.metrics = Metrics()
    app.state.access = access.rules_by_endpoint(routes)
    return app
