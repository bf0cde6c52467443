"""The manager console's own routes (issue 12): daily reports, rules, what-if."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gigmarket.core import reports
from gigmarket.core.errors import ValidationError
from gigmarket.services import market_rules, whatif
from gigmarket.services import reports as report_service
from gigmarket.services.auth import require_market
from gigmarket.web.api import ctx_of, ok, principal_of, read_json, serve


async def daily_report(request: Request) -> Response:
    """``GET /markets/{m}/reports/daily?from=&to=[&format=csv]`` (SPEC 11.5)."""
    ctx = ctx_of(request)
    market_id = request.path_params["m"]
    require_market(await principal_of(request), market_id)
    ctx.market(market_id)
    q = request.query_params
    fmt = q.get("format", "json")
    if fmt not in ("json", "csv"):
        raise ValidationError("format must be json or csv", code="bad_value", field="format")
    rows = await report_service.daily(ctx.ledger, market_id, ctx.tz(market_id), ctx.clock(),
                                      q.get("from"), q.get("to"))
    if fmt == "csv":
        name = f"gigmarket-{market_id}-daily-{rows[0].date}-{rows[-1].date}.csv"
        return Response(reports.as_csv(rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return ok({"market_id": market_id, "rows": [r.as_json() for r in rows]})


async def change_rules(request: Request) -> Response:
    p = await principal_of(request)
    return ok(await market_rules.change_rules(ctx_of(request), p, request.path_params["m"],
                                              await read_json(request)))


def _runs(request: Request) -> whatif.WhatIfs:
    runs: whatif.WhatIfs = request.app.state.whatifs
    return runs


async def start_whatif(request: Request) -> Response:
    """``POST /markets/{m}/whatif {"rules": {...}, "workers"?, "slots"?, "seed"?}`` -> 202."""
    p = await principal_of(request)
    return ok(await whatif.start(ctx_of(request), _runs(request), p, request.path_params["m"],
                                 await read_json(request)), 202)


async def get_whatif(request: Request) -> Response:
    p = await principal_of(request)
    return ok(await whatif.get(_runs(request), p, request.path_params["m"],
                               request.path_params["id"]))


routes = [
    Route("/markets/{m}/reports/daily", daily_report, methods=["GET"]),
    Route("/markets/{m}/rules", serve(market_rules.get_rules, "m"), methods=["GET"]),
    Route("/markets/{m}/rules", change_rules, methods=["PUT"]),
    Route("/markets/{m}/whatif", start_whatif, methods=["POST"]),
    Route("/markets/{m}/whatif/{id}", get_whatif, methods=["GET"]),
]
