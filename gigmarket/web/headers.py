"""Security headers on every HTTP response: pages, API, static files (issue 9).

The Content-Security-Policy allows nothing from outside this server:

- scripts: only module files from ``/static`` (``script-src 'self'``; no inline script, no
  ``eval``);
- styles: only ``/static/css`` (``style-src 'self'``): the pages carry no ``style``
  attributes, and scripts style elements through the CSSOM, which the policy permits;
- connections: this host only (``connect-src 'self'``, which covers the ``/ws`` websocket on
  the same host and port);
- images, media: this host plus ``data:``/``blob:`` (QR codes drawn in the page, the camera
  preview of the worker's QR scanner);
- ``frame-ancestors 'self'`` plus the configured ``GIGMARKET_ALLOWED_ORIGINS``: kiosk shells
  either run the page as a top-level window (a browser in kiosk mode: no framing involved) or
  embed it in a frame from a page of their own, which must then be this server or an origin
  the operator named, the same list trusted to open websockets; every other site is refused,
  so no one can frame the pages to trick a worker's tap (clickjacking).

``Permissions-Policy`` lets only this origin use the camera (QR scanning) and location (phone
check-in) and nobody the microphone.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send


def content_security_policy(frame_ancestors: tuple[str, ...] = ()) -> str:
    ancestors = " ".join(("'self'", *frame_ancestors))
    return "; ".join((
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        f"frame-ancestors {ancestors}",
    ))


class SecurityHeaders:
    """Adds the headers to every HTTP response (a pure ASGI middleware, so it also sees the
    static files and the error responses)."""

    def __init__(self, app: ASGIApp, frame_ancestors: tuple[str, ...] = ()) -> None:
        self.app = app
        self.headers: list[tuple[bytes, bytes]] = [
            (b"content-security-policy", content_security_policy(frame_ancestors).encode()),
            (b"x-content-type-options", b"nosniff"),
            # Page addresses carry market ids and job ids: other sites learn the origin only.
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
            (b"permissions-policy", b"camera=(self), geolocation=(self), microphone=()"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *(h for h in self.headers if h[0] not in names)]
            await send(message)

        await self.app(scope, receive, with_headers)
