"""Sessions that end (expiry, log out everywhere) and the security headers on every response
(issue 9), against a real server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Callable

import httpx
import websockets

from tests.e2e.people import Person, new_worker
from tests.e2e.server import REPO, ServerProcess


async def _closed_with(ws: websockets.ClientConnection, timeout: float = 20.0) -> int | None:
    """Read until the server closes the socket; its close code."""
    with contextlib.suppress(websockets.ConnectionClosed):
        async with asyncio.timeout(timeout):
            async for _ in ws:
                pass
    return ws.close_code


async def _socket(server: ServerProcess, token: str) -> websockets.ClientConnection:
    ws = await websockets.connect(server.ws_url)
    await ws.send(json.dumps({"type": "auth", "token": token}))
    assert json.loads(await ws.recv())["type"] == "ready"
    return ws


async def test_log_out_everywhere_ends_every_session_and_socket(server: ServerProcess) -> None:
    """A worker signed in on two devices logs out everywhere from one: both sockets close
    with 4401 and both tokens are refused; another worker's session is untouched."""
    phone = await new_worker(server.api, server.ws_url, "13800000001")
    kiosk = Person(server.api, server.ws_url)
    await kiosk.sign_in("13800000001", "worker")
    bystander = await new_worker(server.api, server.ws_url, "13800000002")
    sockets = [await _socket(server, p.token) for p in (phone, kiosk)]
    theirs = await _socket(server, bystander.token)

    out = await kiosk.ok("POST", "/auth/logout_all")
    assert out["sessions_ended"] == 2
    assert [await _closed_with(ws) for ws in sockets] == [4401, 4401]
    for p in (phone, kiosk):
        r = await p.call("GET", "/me")
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    await theirs.send(json.dumps({"type": "ping"}))
    assert json.loads(await theirs.recv())["type"] == "pong"
    await bystander.ok("GET", "/me")
    await theirs.close()


async def test_log_out_everywhere_reaches_every_web_process(
    make_server: Callable[..., ServerProcess],
) -> None:
    """Sockets of one worker on two web processes sharing Redis: logging out everywhere
    through one closes both at once."""
    a = make_server()
    b = a.web_beside()
    try:
        worker = await new_worker(a.api, a.ws_url, "13800000001")
        on_a = await _socket(a, worker.token)
        on_b = await _socket(b, worker.token)
        via_b = Person(b.api, b.ws_url, token=worker.token, user_id=worker.user_id)
        await via_b.ok("POST", "/auth/logout_all")
        assert [await _closed_with(on_a), await _closed_with(on_b)] == [4401, 4401]
    finally:
        b.stop()


async def test_an_expired_token_is_refused_on_http_and_websocket(server: ServerProcess) -> None:
    """A session past its expiry (the ledger's ``expires_at``) is refused everywhere."""
    worker = await new_worker(server.api, server.ws_url, "13800000001")
    with contextlib.closing(server.ledger()) as db:
        db.execute("UPDATE sessions SET expires_at = 0 WHERE user_id = ?", (worker.user_id,))
        db.commit()
    r = await worker.call("GET", "/me")
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    ws = await websockets.connect(server.ws_url)
    await ws.send(json.dumps({"type": "auth", "token": worker.token}))
    assert json.loads(await ws.recv())["error"]["code"] == "unauthorized"
    assert await _closed_with(ws) == 4401


async def test_every_response_carries_the_security_headers(server: ServerProcess) -> None:
    """Pages, API (success and error), static files, health: CSP without inline script or
    outside origin, nosniff, a referrer policy; no cookie is ever set."""
    paths = ["/kiosk", "/m/worker", "/m/employer", "/manage", "/board/shiling",
             "/static/js/client.js", "/static/css/app.css", "/api/v1/markets",
             "/api/v1/me", "/api/v1/nowhere", "/healthz", "/openapi.json"]
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as c:
        responses = [await c.get(p) for p in paths]
        responses.append(await c.post("/api/v1/auth/otp", content=b"[" * 5000))
    assert [r.status_code for r in responses] == [200] * 8 + [401, 404, 200, 200, 400]
    for path, r in zip([*paths, "deep json"], responses, strict=True):
        csp = r.headers["content-security-policy"]
        assert "script-src 'self';" in csp and "style-src 'self';" in csp, path
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, path
        assert "frame-ancestors 'self'" in csp and "connect-src 'self'" in csp, path
        sources = " ".join(re.findall(r"(?:https?|wss?)://\S+", csp))
        assert sources == "", (path, sources)
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin", path
        assert "set-cookie" not in r.headers, path


def test_pages_have_no_inline_script_or_style() -> None:
    """The policy holds only if the pages obey it: no inline script, handler or style."""
    for page in sorted((REPO / "static").glob("*.html")):
        html = page.read_text()
        assert not re.search(r"\sstyle\s*=", html), page.name
        assert not re.search(r"\son[a-z]+\s*=", html), page.name
        for script in re.findall(r"<script\b[^>]*>(.*?)</script>", html, re.S):
            assert script.strip() == "", page.name
