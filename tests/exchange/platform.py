"""A fake provincial platform: the client another team would write from docs/exchange.md.

It signs on its own (its canonical string and HMAC-SM3 written here from the document, not
imported from gigmarket), so a test that passes proves the server follows the document, not
merely that the server agrees with itself.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
from cryptography.hazmat.primitives import hashes, hmac

from tests.exchange.doc import conforms

PREFIX = "/api/v1"


def sm3(data: bytes) -> str:
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize().hex()


def signature(secret_hex: str, method: str, path_with_query: str, timestamp: str, nonce: str,
              body: bytes) -> str:
    """docs/exchange.md, "Signing": HMAC-SM3 keyed with the 32 bytes the hex spells."""
    text = "\n".join([method, path_with_query, timestamp, nonce, sm3(body)])
    mac = hmac.HMAC(bytes.fromhex(secret_hex), hashes.SM3())
    mac.update(text.encode("utf-8"))
    return mac.finalize().hex()


class FakePlatform:
    def __init__(self, base_url: str, platform_id: str, secret_hex: str) -> None:
        self.base_url = base_url
        self.platform_id = platform_id
        self.secret_hex = secret_hex
        self.client = httpx.AsyncClient(base_url=base_url, timeout=60)

    async def aclose(self) -> None:
        await self.client.aclose()

    def headers(self, method: str, path_with_query: str, body: bytes, *,
                timestamp: int | None = None, nonce: str | None = None,
                secret_hex: str | None = None) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        n = nonce or secrets.token_hex(16)
        sig = signature(secret_hex or self.secret_hex, method, path_with_query, ts, n, body)
        return {"X-GM-Platform": self.platform_id, "X-GM-Timestamp": ts, "X-GM-Nonce": n,
                "X-GM-Signature": sig}

    async def send(self, method: str, path_with_query: str, body: Any = None, *,
                   headers: dict[str, str] | None = None, **sign: Any) -> httpx.Response:
        """A signed request; ``headers`` replaces the signed ones (to send them broken)."""
        raw = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        full = PREFIX + path_with_query
        signed = headers if headers is not None else self.headers(method, full, raw, **sign)
        extra = {"Content-Type": "application/json"} if raw else {}
        return await self.client.request(method, full, content=raw, headers={**signed, **extra})

    async def page(self, feed: str, after: str | None, limit: int = 100) -> dict[str, Any]:
        query = f"?limit={limit}" if after is None else f"?after={after}&limit={limit}"
        r = await self.send("GET", f"/exchange/{feed}{query}")
        assert r.status_code == 200, r.text
        page: dict[str, Any] = r.json()
        # Every page any test reads is held to the document's schemas.
        conforms("envelope", page)
        for item in page["items"]:
            conforms(f"{feed}-item", item)
        return page

    async def drain(self, feed: str, after: str | None = None,
                    limit: int = 100) -> AsyncIterator[dict[str, Any]]:
        """Every item from ``after`` to the end; the last page's ``next`` is kept in
        :attr:`cursor` for resuming."""
        cursor = after
        while True:
            page = await self.page(feed, cursor, limit)
            for item in page["items"]:
                yield item
            self.cursor = page["next"]
            if not page["items"]:
                return
            cursor = page["next"]

    cursor: str | None = None
