"""Domain errors to HTTP, once (SPEC 6 error format; never a stack trace)."""

from __future__ import annotations

import logging
import sqlite3

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gigmarket.core.errors import (
    AuthError,
    ConflictError,
    DomainError,
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
    ValidationError,
)
from gigmarket.core.privacy import redact

log = logging.getLogger("gigmarket.web")

STATUS: dict[type[DomainError], int] = {
    ValidationError: 422,
    AuthError: 401,
    ForbiddenError: 403,
    NotFoundError: 404,
    ConflictError: 409,
    RateLimitedError: 429,
}

#: Codes that are about the request's form rather than its content: 400, not 422.
BAD_REQUEST_CODES = frozenset({"bad_json", "bad_body", "body_too_large", "bad_content_type",
                               "too_deep"})


def status_of(exc: DomainError) -> int:
    if exc.code in BAD_REQUEST_CODES:
        return 413 if exc.code == "body_too_large" else 400
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def error_response(exc: DomainError) -> JSONResponse:
    headers = {}
    if isinstance(exc, RateLimitedError):
        headers["Retry-After"] = str(exc.retry_after_s)
    return JSONResponse({"error": exc.as_dict()}, status_code=status_of(exc), headers=headers)


async def on_domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return error_response(exc)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    codes = {404: "not_found", 405: "method_not_allowed"}
    code = codes.get(exc.status_code, "http_error")
    return JSONResponse({"error": {"code": code, "message": str(exc.detail), "field": None}},
                        status_code=exc.status_code)


#: SQLite's words for a ledger that cannot take a write now (as opposed to a bug in a query).
_LEDGER_DOWN = ("database is locked", "disk i/o error", "database or disk is full",
                "readonly database", "unable to open")


async def on_unavailable(request: Request, exc: Exception) -> Response:
    """Redis unreachable, or the ledger unable to write: 503 ``unavailable``, never a 500
    (issue 8). The request changed nothing that was acknowledged; the client may retry."""
    if isinstance(exc, sqlite3.OperationalError) and not any(
            w in str(exc).lower() for w in _LEDGER_DOWN):
        return await on_unexpected(request, exc)
    log.warning("%s %s answered 503: %s", request.method, request.url.path,
                redact(repr(exc)))
    return unavailable()


def unavailable() -> JSONResponse:
    return JSONResponse({"error": {"code": "unavailable", "message": "the service is briefly"
                                   " unavailable; try again in a moment", "field": None}},
                        status_code=503, headers={"Retry-After": "2"})


async def on_client_gone(request: Request, exc: Exception) -> Response:
    """The client hung up before its body arrived (a phone losing signal, a timed-out
    client): nothing was read, so nothing changed, and there is nobody left to answer. Not an
    error of ours, so no traceback; the status is only for the access log."""
    log.info("client left during %s %s before its body arrived", request.method,
             request.url.path)
    return Response(status_code=400)


async def on_unexpected(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s %s: %s", request.method, request.url.path,
              redact(repr(exc)), exc_info=exc)
    return JSONResponse({"error": {"code": "internal", "message": "something went wrong on our"
                                   " side; nothing was changed", "field": None}},
                        status_code=500)
