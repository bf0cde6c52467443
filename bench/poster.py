"""Employers posting jobs, in a process of their own, as fast as the server answers.

    python bench/poster.py HOST PORT MARKET TOKENS_FILE --clients 32 --seconds 12 [--warm 2]

Each client holds one keep-alive HTTP/1.1 connection and posts one job after another with the
next employer's token (one per line in TOKENS_FILE), waiting for each answer. After ``--warm``
seconds of the same it prints ``{"warm": posts, "errors": n}``, and at the end one JSON line,
``{"posts", "errors", "seconds", "first_error", "cpu_s"}``, for the measured ``--seconds``,
``cpu_s`` being this process's own CPU time then.

Why not httpx: at 32 clients an ``httpx.AsyncClient`` used a whole core of the bench process
for ~200 posts/s (measured with top on this 2-core machine), so the figure was the client's
pace, not the server's. Here a request is one pre-formatted write and an answer is a status
line, headers and a ``Content-Length`` body read off the stream; the JSON line's ``cpu_s``
shows how much of a core it took.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import time
from pathlib import Path
from typing import Any

import orjson


def job_body(lat: float, lon: float, n: int) -> dict[str, Any]:
    start = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() + 3600))
    return {"title": "陪护", "skills": ["caregiver"], "headcount": 1,
            "wage": {"amount": 300, "unit": "day"}, "start_at": start, "duration_hours": 8,
            "lat": lat, "lon": lon, "address": f"狮岭镇 {n}"}


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                   request: bytes) -> tuple[int, bytes]:
    """One request on a keep-alive connection: its status and body."""
    writer.write(request)
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


def post_request(host: str, path: str, token: str, body: Any) -> bytes:
    data = orjson.dumps(body)
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n")
    return head.encode() + data


class Connections:
    """Keep-alive connections to one server, each used by one request at a time; a request
    that finds none free opens another (an open-loop poster's requests overlap)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.free: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def post(self, path: str, token: str, body: Any) -> tuple[int, bytes]:
        conn = self.free.pop() if self.free else await asyncio.open_connection(
            self.host, self.port)
        answer = await exchange(*conn, post_request(self.host, path, token, body))
        self.free.append(conn)
        return answer

    def close(self) -> None:
        for _, writer in self.free:
            writer.close()
        self.free.clear()


class Posters:
    def __init__(self, host: str, port: int, market: str, tokens: list[str],
                 at: tuple[float, float]) -> None:
        self.host, self.port, self.tokens, self.at = host, port, tokens, at
        self.path = f"/api/v1/markets/{market}/jobs"
        self.sent = 0
        self.posts = 0
        self.errors = 0
        self.first_error: str | None = None

    async def client(self, end: float) -> None:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            while time.monotonic() < end:
                self.sent += 1
                status, answer = await exchange(reader, writer, post_request(
                    self.host, self.path, self.tokens[self.sent % len(self.tokens)],
                    job_body(*self.at, self.sent)))
                if status == 201:
                    self.posts += 1
                else:
                    self.errors += 1
                    if self.first_error is None:
                        self.first_error = f"{status} {answer[:160].decode(errors='replace')}"
        finally:
            writer.close()

    async def run(self, clients: int, seconds: float) -> None:
        end = time.monotonic() + seconds
        await asyncio.gather(*(self.client(end) for _ in range(clients)))


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("market")
    p.add_argument("tokens", type=Path)
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--seconds", type=float, default=12.0)
    p.add_argument("--warm", type=float, default=0.0)
    p.add_argument("--at", type=float, nargs=2, default=(23.4646, 113.1532))
    args = p.parse_args()
    tokens = args.tokens.read_text().split()
    gen = Posters(args.host, args.port, args.market, tokens, tuple(args.at))
    if args.warm:
        await gen.run(args.clients, args.warm)
    # The caller starts its own counters on this line.
    print(orjson.dumps({"warm": gen.posts, "errors": gen.errors}).decode(), flush=True)
    gen.posts = gen.errors = 0
    # The instrument's own pauses must not show as the server's (see loadgen.py).
    gc.disable()
    cpu0, t0 = time.process_time(), time.monotonic()
    await gen.run(args.clients, args.seconds)
    took = time.monotonic() - t0
    print(orjson.dumps({"posts": gen.posts, "errors": gen.errors, "seconds": round(took, 3),
                        "first_error": gen.first_error,
                        "cpu_s": round(time.process_time() - cpu0, 3)}).decode(), flush=True)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
