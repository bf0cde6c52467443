"""``GET /api/v1/markets/{m}/ledger.csv?from=YYYY-MM-DD&to=YYYY-MM-DD`` (managers)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from gigmarket.services import ledger_export
from gigmarket.services.tenancy import audit, require_manager_of
from gigmarket.web.api import ctx_of, principal_of


async def ledger_csv(request: Request) -> Response:
    ctx = ctx_of(request)
    market_id = request.path_params["m"]
    principal = await principal_of(request)
    markets = await require_manager_of(ctx, principal, "market", market_id)
    tz = ctx.tz(market_id)
    lo, hi = ledger_export.parse_range(tz, ctx.clock(), request.query_params.get("from"),
                                       request.query_params.get("to"))
    # The export carries people's records out of the server: the log says who took which days.
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        await audit(tx, principal, "ledger.export", "market", market_id, markets,
                    **{"from": request.query_params.get("from"),
                       "to": request.query_params.get("to")})
    name = f"gigmarket-{market_id}-{request.query_params.get('from', 'today')}.csv"
    return StreamingResponse(
        ledger_export.rows(ctx.ledger, tz, market_id, lo, hi),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


routes = [Route("/markets/{m}/ledger.csv", ledger_csv, methods=["GET"])]
