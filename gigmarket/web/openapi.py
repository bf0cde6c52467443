"""The OpenAPI document at ``/openapi.json``, generated from the route table so it never
drifts from what is served; bodies of the main requests are described here (SPEC 6)."""

from __future__ import annotations

import re
from typing import Any

from starlette.routing import BaseRoute, Mount, Route

from gigmarket import __version__

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message", "field"],
                             "properties": {"code": {"type": "string"},
                                            "message": {"type": "string"},
                                            "field": {"type": ["string", "null"]}}}},
}
_MONEY = {"type": "object", "required": ["amount", "unit"], "additionalProperties": False,
          "properties": {"amount": {"type": "number", "exclusiveMinimum": 0},
                         "unit": {"enum": ["hour", "day", "piece"]}}}
_LATLON = {"lat": {"type": "number"}, "lon": {"type": "number"}}

#: Request bodies by (method, path).
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/auth/otp"): {"required": ["phone"],
                                   "properties": {"phone": {"type": "string",
                                                            "pattern": "^1[3-9][0-9]{9}$"}}},
    ("POST", "/api/v1/auth/verify"): {
        "required": ["phone", "code", "role"],
        "properties": {"phone": {"type": "string"}, "code": {"type": "string"},
                       "role": {"enum": ["worker", "employer"]}}},
    ("POST", "/api/v1/auth/login"): {"required": ["username", "password"],
                                     "properties": {"username": {"type": "string"},
                                                    "password": {"type": "string"}}},
    ("PUT", "/api/v1/me/profile"): {
        "description": "worker: name, skills, min_wage, id_number, max_travel_minutes "
                       "(5..180, null: the market's reach alone; left out: unchanged); "
                       "employer: name, org_name, credit_code",
        "properties": {"name": {"type": "string"}, "skills": {"type": "array",
                                                              "items": {"type": "string"}},
                       "min_wage": _MONEY, "id_number": {"type": "string"},
                       "max_travel_minutes": {"type": ["integer", "null"], "minimum": 5,
                                              "maximum": 180},
                       "certificates": {"type": "array", "items": {
                           "type": "object", "required": ["skill", "number", "expires_on"],
                           "additionalProperties": False,
                           "properties": {"skill": {"type": "string"},
                                          "number": {"type": "string", "maxLength": 40},
                                          "expires_on": {"type": "string", "format": "date"}}}},
                       "org_name": {"type": "string"}, "credit_code": {"type": "string"}}},
    ("POST", "/api/v1/markets/{m}/checkin"): {
        "properties": {**_LATLON, "station_id": {"type": "string"},
                       "available_until": {"type": "string", "format": "date-time"}}},
    ("POST", "/api/v1/markets/{m}/jobs"): {
        "required": ["title", "skills", "headcount", "wage", "start_at", "duration_hours",
                     "lat", "lon", "address"],
        "properties": {"title": {"type": "string", "maxLength": 40},
                       "skills": {"type": "array", "items": {"type": "string"}},
                       "headcount": {"type": "integer", "minimum": 1, "maximum": 50},
                       "wage": _MONEY, "start_at": {"type": "string", "format": "date-time"},
                       "duration_hours": {"type": "number", "exclusiveMinimum": 0,
                                          "maximum": 24},
                       **_LATLON, "address": {"type": "string"},
                       "description": {"type": "string"}}},
    ("POST", "/api/v1/markets/{m}/kiosks"): {"required": ["station_id"],
                                             "properties": {"station_id": {"type": "string"},
                                                            "name": {"type": "string"}}},
    ("POST", "/api/v1/kiosk/signin"): {"required": ["id_number", "pin"],
                                       "properties": {"id_number": {"type": "string"},
                                                      "pin": {"type": "string"}}},
    ("POST", "/api/v1/kiosk/register"): {
        "required": ["id_number", "pin", "name"],
        "properties": {"id_number": {"type": "string"}, "pin": {"type": "string"},
                       "name": {"type": "string"}, "phone": {"type": "string"},
                       "consent": {"type": "string", "description": "the version of the "
                                   "privacy notice the worker agreed to"}}},
    ("PUT", "/api/v1/me/pin"): {"required": ["pin"], "properties": {
        "pin": {"type": "string", "pattern": "^[0-9]{4,6}$"}}},
    ("POST", "/api/v1/assignments/{id}/checkin"): {"required": ["code"], "properties": {
        "code": {"type": "string", "description": "the QR text, or its six digits"}}},
    ("POST", "/api/v1/workers/{id}/certificates/{skill}/reject"): {
        "required": ["note"], "properties": {"note": {"type": "string", "maxLength": 200}}},
    ("PUT", "/api/v1/workers/{id}/key_group"): {
        "required": ["key_group"],
        "properties": {"key_group": {"type": ["string", "null"]}}},
}

PUBLIC = {"/api/v1/markets", "/api/v1/skills", "/api/v1/markets/{m}/board",
          "/api/v1/markets/{m}/board/qr.svg", "/healthz",
          "/readyz", "/metrics", "/openapi.json", "/api/v1/auth/otp", "/api/v1/auth/verify",
          "/api/v1/auth/login"}


def _routes(routes: list[BaseRoute], prefix: str = "") -> list[tuple[str, Route]]:
    out: list[tuple[str, Route]] = []
    for r in routes:
        if isinstance(r, Mount) and r.routes:
            out += _routes(list(r.routes), prefix + r.path)
        elif isinstance(r, Route):
            out.append((prefix + r.path, r))
    return out


def _summary(route: Route) -> str:
    return route.name.replace("_", " ").capitalize()


def document(routes: list[BaseRoute]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for path, route in _routes(routes):
        if path.startswith("/static") or route.name in {"serve", "board_page"}:
            continue
        for method in sorted((route.methods or set()) - {"HEAD"}):
            op: dict[str, Any] = {
                "summary": _summary(route),
                "tags": [path.split("/")[3] if path.startswith("/api/v1/") else "service"],
                "responses": {
                    "200": {"description": "OK"},
                    **{str(s): {"description": d, "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
                       for s, d in ((400, "malformed request"), (401, "not signed in"),
                                    (403, "not yours"), (404, "no such thing"),
                                    (409, "the state says no"), (422, "a bad value"),
                                    (429, "too many requests"))},
                },
            }
            params = re.findall(r"{(\w+)}", path)
            if params:
                op["parameters"] = [{"name": p, "in": "path", "required": True,
                                     "schema": {"type": "string"}} for p in params]
            if path.startswith("/api/v1/exchange/"):
                op["security"] = [{"exchange_signature": []}]
            elif path not in PUBLIC:
                op["security"] = [{"bearer": []}]
            body = BODIES.get((method, path))
            if body is not None:
                schema = {"type": "object", "additionalProperties": False, **body}
                op["requestBody"] = {"required": True,
                                     "content": {"application/json": {"schema": schema}}}
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "gigmarket", "version": __version__,
                 "description": "Real-time dispatch for public gig markets (零工市场). "
                                "The websocket /ws is described in docs/api.md."},
        "paths": paths,
        "components": {
            "schemas": {"Error": _ERROR, "Money": _MONEY},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                # The platform signs each request (X-GM-Platform, -Timestamp, -Nonce too).
                "exchange_signature": {"type": "apiKey", "in": "header", "name": "X-GM-Signature",
                                       "description": "HMAC-SM3 request signature: see"
                                                      " docs/exchange.md"},
            },
        },
    }
