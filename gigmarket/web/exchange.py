"""``/api/v1/exchange/*``: the provincial platform's side (SPEC 11.4, docs/exchange.md).

Every request is signed over its exact bytes, so the handler reads the raw body and the path as
it came on the request line before anything parses them.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gigmarket.services import exchange, exchange_postings
from gigmarket.web.api import ctx_of, ok, parse_json, read_body


def _path_with_query(request: Request) -> str:
    """The path and query exactly as the client sent them (percent-encoding kept)."""
    raw_path: bytes = request.scope.get("raw_path") or request.url.path.encode()
    query: bytes = request.scope.get("query_string", b"")
    path = raw_path.decode("latin-1")
    return f"{path}?{query.decode('latin-1')}" if query else path


async def _platform(request: Request, body: bytes) -> str:
    return await exchange.authenticate(ctx_of(request), request.method,
                                       _path_with_query(request), request.headers, body)


async def jobs_feed(request: Request) -> Response:
    platform = await _platform(request, await read_body(request))
    q = request.query_params
    return ok(await exchange.jobs_feed(ctx_of(request), platform, q.get("after"),
                                       q.get("limit")))


async def outcomes_feed(request: Request) -> Response:
    platform = await _platform(request, await read_body(request))
    q = request.query_params
    return ok(await exchange.outcomes_feed(ctx_of(request), platform, q.get("after"),
                                           q.get("limit")))


async def post_job(request: Request) -> Response:
    raw = await read_body(request)
    platform = await _platform(request, raw)
    status, answer = await exchange_postings.receive_posting(ctx_of(request), platform,
                                                    parse_json(raw))
    return ok(answer, status)


routes = [
    Route("/exchange/jobs", jobs_feed, methods=["GET"]),
    Route("/exchange/jobs", post_job, methods=["POST"]),
    Route("/exchange/outcomes", outcomes_feed, methods=["GET"]),
]
