"""The Starlette application: routes, pages, lifespan (ledger, live store, fan-out hub)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
)
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from gigmarket.core.errors import DomainError
from gigmarket.services.context import Context, OtpSender
from gigmarket.settings import Settings
from gigmarket.store import keys
from gigmarket.store.ledger import Ledger
from gigmarket.store.live import LiveStore
from gigmarket.web import api, export, openapi, ws
from gigmarket.web.errors import on_domain_error, on_http_error, on_unexpected
from gigmarket.web.hub import Hub

STATIC = Path(__file__).parent / "static"

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


async def readyz(request: Request) -> Response:
    ctx: Context = request.app.state.ctx
    checks: dict[str, Any] = {}
    ok = True
    try:
        await ctx.ledger.one("SELECT 1")
        checks["ledger"] = "ok"
    except Exception as e:
        checks["ledger"], ok = f"error: {type(e).__name__}", False
    try:
        await ctx.live.redis.ping()
        checks["redis"] = "ok"
        leases = {}
        for m in ctx.settings.markets:
            leases[m] = (await ctx.live.redis.get(keys.lease(m))) is not None
        # Informational: web processes serve even while no dispatcher holds a market.
        checks["dispatch"] = leases
    except Exception as e:
        checks["redis"], ok = f"error: {type(e).__name__}", False
    return JSONResponse({"ready": ok, "checks": checks}, status_code=200 if ok else 503)


async def openapi_endpoint(request: Request) -> Response:
    return JSONResponse(openapi.document(list(request.app.routes)))


async def metrics_endpoint(request: Request) -> Response:
    ctx: Context = request.app.state.ctx
    metrics: Metrics = request.app.state.metrics
    hub: Hub = request.app.state.hub
    metrics.sockets.set(hub.connections)
    for m in ctx.settings.markets:
        last = await ctx.live.last_round(m)
        if last:
            metrics.round_ms.labels(m).set(float(last.get("total_ms", 0)))
            metrics.round_offers.labels(m).set(float(last.get("offers", 0)))
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


def create_app(settings: Settings, redis_url: str, *, sender: OtpSender | None = None) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        ledger = await Ledger.open(settings.ledger_path)
        live = LiveStore.from_url(redis_url)
        try:
            ctx = Context(settings=settings, ledger=ledger, live=live)
            if sender is not None:
                ctx.sender = sender
            hub = Hub(ctx)
            await hub.start()
            app.state.ctx = ctx
            app.state.hub = hub
            app.state.started = time.time()
            try:
                yield
            finally:
                await hub.aclose()
        finally:
            await live.aclose()
            await ledger.aclose()

    STATIC.mkdir(exist_ok=True)
    routes = [
        Mount("/api/v1", routes=[*api.routes(), *export.routes]),
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
        middleware=[Middleware(CountRequests), Middleware(GZipMiddleware, minimum_size=1024)],
        exception_handlers={
            DomainError: on_domain_error,
            HTTPException: on_http_error,
            Exception: on_unexpected,
        },
    )
    app.state.metrics = Metrics()
    return app
