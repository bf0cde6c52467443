"""A load generator in its own process: holds many authenticated worker sockets.

    python bench/loadgen.py WS_URL TOKENS_FILE [--decline]

Reads one session token per line from TOKENS_FILE, opens a socket per token, all at once,
authenticates each, and prints one JSON line when they are ready:
``{"ready": n, "refused": k, "seconds": s}``. Then it obeys lines on stdin:

- ``reconnect``: closes every socket at once and opens them all again at once (a web process
  restarted under its clients); prints the same line;
- ``stop`` (or end of input): prints ``{"offers": [[job_id, monotonic_s], ...], "hops":
  [[tag, monotonic_s], ...]}`` and exits.

Every ``offer`` is stamped with ``time.monotonic()`` on arrival (the system-wide monotonic
clock, so the posting process's stamps compare); with ``--decline`` it is declined at once,
so its worker waits again. ``retried`` counts sockets whose first attempt failed and were
tried again (up to three times); ``refused`` those that never got in. A message of type
``hop`` (the bare PUBLISH -> socket floor) is stamped by its ``tag``.

The generator is the measuring instrument, so its own pauses must not show as the server's:
its cyclic garbage collector is off (measured with it on, at 5,000 sockets: full collections
of 100-300 ms, which stamped a bare hop's p99 at 250 ms against a p50 of 1 ms). A run lasts a
minute or two, and what it drops is freed by reference counting.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import time
from typing import Any

import orjson
import websockets


class Crowd:
    def __init__(self, url: str, tokens: list[str], decline: bool) -> None:
        self.url, self.tokens, self.decline = url, tokens, decline
        self.sockets: list[Any] = []
        self.readers: list[asyncio.Task[None]] = []
        self.offers: list[tuple[str, float]] = []
        self.hops: list[tuple[str, float]] = []
        #: Sockets whose first attempt failed (refused, closed 4401, timed out).
        self.retried = 0

    async def _one(self, token: str) -> Any:
        for attempt in range(3):
            if attempt:
                self.retried += 1
            try:
                ws = await websockets.connect(self.url, max_queue=None, open_timeout=120,
                                              compression=None, ping_interval=None)
                await ws.send(json.dumps({"type": "auth", "token": token}))
                first = orjson.loads(await ws.recv())
                if first.get("type") == "ready":
                    return ws
                await ws.close()
                return None
            except (OSError, websockets.ConnectionClosed, websockets.InvalidHandshake,
                    TimeoutError):
                await asyncio.sleep(0.5 * (attempt + 1))
        return None

    async def _read(self, ws: Any) -> None:
        try:
            async for raw in ws:
                at = time.monotonic()
                msg = orjson.loads(raw)
                kind = msg.get("type")
                if kind == "offer":
                    self.offers.append((msg["job"]["id"], at))
                    if self.decline:
                        await ws.send(json.dumps({"type": "decline",
                                                  "offer_id": msg["offer_id"]}))
                elif kind == "hop":
                    self.hops.append((msg["tag"], at))
        except websockets.ConnectionClosed:
            pass

    async def connect(self) -> dict[str, Any]:
        t0 = time.monotonic()
        self.retried = 0
        got = await asyncio.gather(*(self._one(t) for t in self.tokens))
        seconds = time.monotonic() - t0
        self.sockets = [ws for ws in got if ws is not None]
        self.readers = [asyncio.create_task(self._read(ws)) for ws in self.sockets]
        return {"ready": len(self.sockets), "refused": len(got) - len(self.sockets),
                "retried": self.retried,
                "seconds": round(seconds, 2)}

    async def close(self) -> None:
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)
        for task in self.readers:
            task.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)
        self.sockets, self.readers = [], []


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("tokens")
    parser.add_argument("--decline", action="store_true")
    args = parser.parse_args()
    with open(args.tokens) as f:
        tokens = [line.strip() for line in f if line.strip()]
    crowd = Crowd(args.url, tokens, args.decline)
    print(json.dumps(await crowd.connect()), flush=True)
    loop = asyncio.get_running_loop()
    while True:
        line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
        if line == "reconnect":
            # Cut every socket at once, as a dying web process would, then all come back.
            for ws in crowd.sockets:
                ws.transport.abort()
            await crowd.close()
            print(json.dumps(await crowd.connect()), flush=True)
        elif line in ("stop", ""):
            print(json.dumps({"offers": crowd.offers, "hops": crowd.hops}), flush=True)
            await crowd.close()
            return


if __name__ == "__main__":
    gc.disable()
    asyncio.run(main())
