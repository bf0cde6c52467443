"""uvicorn's HTTP protocol, minus the cycle each websocket left behind (issue 13).

Every websocket begins as an HTTP request. uvicorn's httptools protocol object holds its
parser, and the parser holds callbacks bound to the protocol: a reference cycle, so after the
upgrade hands the transport to the websocket protocol, the HTTP one (parser, buffers, flow
control: ~3 KiB) waits for the cyclic collector instead of going at once. With the collector
paced (:mod:`gigmarket.collector`) it waited up to ten minutes: measured at 10k sockets,
5 KiB a socket more. Dropping the parser once the upgrade is done breaks the cycle; nothing
reads it afterwards (the transport now speaks to the websocket protocol).
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class HttpProtocol(HttpToolsProtocol):
    def handle_websocket_upgrade(self) -> None:
        super().handle_websocket_upgrade()
        self.parser = None  # type: ignore[assignment]
