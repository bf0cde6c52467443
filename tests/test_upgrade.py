"""A websocket leaves no HTTP protocol object behind for the cyclic collector (issue 13):
a real uvicorn server with the web process's settings, real websocket clients, and the
collector off, so anything left in a cycle is still there to count."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

import pytest
import uvicorn
import websockets
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gigmarket.cli import web_config
from gigmarket.settings import load


async def echo(ws: WebSocket) -> None:
    await ws.accept()
    await ws.send_text(await ws.receive_text())
    await ws.close()


def http_protocols() -> int:
    return sum(1 for o in gc.get_objects() if issubclass(type(o), HttpToolsProtocol))


async def test_upgraded_connections_leave_no_http_protocol_for_the_collector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIGMARKET_DATA", str(tmp_path))
    app = Starlette(routes=[WebSocketRoute("/ws", echo)])
    server = uvicorn.Server(web_config(app, load(), "127.0.0.1", 0))
    serving = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(20):
            while not server.started:
                await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        gc.collect()
        gc.disable()
        before = http_protocols()
        for i in range(5):
            async with websockets.connect(f"ws://127.0.0.1:{port}/ws") as ws:
                await ws.send(f"hello {i}")
                assert await ws.recv() == f"hello {i}"
        await asyncio.sleep(0.1)
        assert http_protocols() == before, "an HTTP protocol object outlived its upgrade"
    finally:
        gc.enable()
        server.should_exit = True
        await serving
