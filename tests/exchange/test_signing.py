"""Signed requests from a fake provincial platform: each way of getting the signature wrong
gets its documented answer, and the operator's commands add, list and revoke platforms."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable

from tests.e2e.server import REPO, ServerProcess
from tests.exchange.conftest import add_platform
from tests.exchange.platform import FakePlatform


def refused(r: object, code: str, field: str) -> None:
    import httpx

    assert isinstance(r, httpx.Response)
    assert r.status_code == 401, r.text
    assert r.json() == {"error": {"code": code, "message": r.json()["error"]["message"],
                                  "field": field}}, r.text


async def test_a_signed_request_is_answered_and_every_bad_one_is_refused_by_name(
    server: ServerProcess, province: FakePlatform,
) -> None:
    """A good signature reads the feed; a wrong key, a changed body or path, a stale or future
    timestamp, a reused nonce, a malformed or missing header each get a 401 with its code."""
    doc = (await province.client.get("/openapi.json")).json()
    for path, method in [("/api/v1/exchange/jobs", "get"), ("/api/v1/exchange/jobs", "post"),
                         ("/api/v1/exchange/outcomes", "get")]:
        assert doc["paths"][path][method]["security"] == [{"exchange_signature": []}]

    good = await province.send("GET", "/exchange/jobs")
    assert good.status_code == 200, good.text
    assert good.json() == {"schema": "gigmarket.exchange.v1", "items": [], "next": "0"}

    # Signed but malformed: named by field, nothing else happens.
    for query, code, field in [("?after=abc", "bad_cursor", "after"),
                               ("?after=-1", "bad_cursor", "after"),
                               ("?limit=501", "bad_limit", "limit"),
                               ("?limit=0", "bad_limit", "limit")]:
        r = await province.send("GET", f"/exchange/outcomes{query}")
        assert r.status_code == 422, r.text
        assert (r.json()["error"]["code"], r.json()["error"]["field"]) == (code, field)
    for raw, code in [(b"{not json", "bad_json"), (b"", "bad_body")]:
        path = "/api/v1/exchange/jobs"
        r = await province.client.post(path, content=raw,
                                       headers=province.headers("POST", path, raw))
        assert (r.status_code, r.json()["error"]["code"]) == (400, code), r.text

    wrong_key = await province.send("GET", "/exchange/jobs", secret_hex="ab" * 32)
    refused(wrong_key, "bad_signature", "X-GM-Signature")

    # Signed for one query, sent with another.
    path = "/api/v1/exchange/jobs?after=0"
    headers = province.headers("GET", path, b"")
    moved = await province.client.get("/api/v1/exchange/jobs?after=1", headers=headers)
    refused(moved, "bad_signature", "X-GM-Signature")

    # Signed for one body, sent with another: nothing is created.
    body = b'{"external_id": "x"}'
    headers = province.headers("POST", "/api/v1/exchange/jobs", body)
    tampered = await province.client.post("/api/v1/exchange/jobs", content=b'{"external_id": "y"}',
                                          headers=headers)
    refused(tampered, "bad_signature", "X-GM-Signature")

    now = int(time.time())
    stale = await province.send("GET", "/exchange/jobs", timestamp=now - 400)
    refused(stale, "stale_request", "X-GM-Timestamp")
    future = await province.send("GET", "/exchange/jobs", timestamp=now + 400)
    refused(future, "stale_request", "X-GM-Timestamp")

    nonce = "replay-me-0123456789"
    first = await province.send("GET", "/exchange/outcomes", nonce=nonce)
    assert first.status_code == 200, first.text
    # The very same request again (a replay on the wire), and a new request reusing the nonce.
    replay = await province.client.get("/api/v1/exchange/outcomes",
                                       headers=province.headers("GET", "/api/v1/exchange/outcomes",
                                                                b"", nonce=nonce))
    refused(replay, "replayed_nonce", "X-GM-Nonce")
    reused = await province.send("GET", "/exchange/jobs?limit=5", nonce=nonce)
    refused(reused, "replayed_nonce", "X-GM-Nonce")
    # A forged request cannot use up a nonce: refused for its signature, the nonce stays free.
    forged_nonce = "forged-0123456789abc"
    forged = await province.send("GET", "/exchange/jobs", nonce=forged_nonce,
                                 secret_hex="cd" * 32)
    refused(forged, "bad_signature", "X-GM-Signature")
    after_forgery = await province.send("GET", "/exchange/jobs", nonce=forged_nonce)
    assert after_forgery.status_code == 200, after_forgery.text

    ok_headers = province.headers("GET", "/api/v1/exchange/jobs", b"")
    for name, bad in [("X-GM-Nonce", "short"), ("X-GM-Timestamp", "yesterday"),
                      ("X-GM-Signature", ok_headers["X-GM-Signature"].upper())]:
        r = await province.client.get("/api/v1/exchange/jobs",
                                      headers={**ok_headers, name: bad})
        refused(r, "bad_signature", name)
    missing = {k: v for k, v in ok_headers.items() if k != "X-GM-Signature"}
    refused(await province.client.get("/api/v1/exchange/jobs", headers=missing),
            "bad_signature", "X-GM-Signature")
    stranger = FakePlatform(server.base_url, "nobody", province.secret_hex)
    try:
        refused(await stranger.send("GET", "/exchange/jobs"), "bad_signature", "X-GM-Platform")
    finally:
        await stranger.aclose()


async def test_operator_adds_lists_and_revokes_platforms(
    server: ServerProcess, province: FakePlatform,
) -> None:
    """``exchange add`` prints the secret once, ``list`` never shows it and says when each was
    last heard from, ``revoke`` refuses the platform from the next request on."""
    second = add_platform(server, "hb-province", "--sm4-key", "00112233445566778899aabbccddeeff")
    try:
        assert second.secret_hex != province.secret_hex
        assert (await province.send("GET", "/exchange/jobs")).status_code == 200
        listing = server.cli("exchange", "list").stdout
        assert province.secret_hex not in listing and second.secret_hex not in listing
        rows = {line.split("\t")[0]: line.split("\t") for line in listing.splitlines()[1:]}
        assert set(rows) == {"gd-province", "hb-province"}
        assert rows["gd-province"][2] == "-" and rows["gd-province"][3] != "-"
        assert rows["hb-province"][3] == "-" and rows["hb-province"][4] == "yes"

        server.cli("exchange", "revoke", "--platform", "gd-province")
        r = await province.send("GET", "/exchange/jobs")
        refused(r, "bad_signature", "X-GM-Platform")
        assert "revoked" in r.json()["error"]["message"]
        assert (await second.send("GET", "/exchange/jobs")).status_code == 200
        revoked = server.cli("exchange", "list").stdout.splitlines()[1].split("\t")
        assert revoked[0] == "gd-province" and revoked[2] != "-"
    finally:
        await second.aclose()


async def test_a_nonce_is_honoured_once_across_web_processes_even_at_the_same_moment(
    make_server: Callable[..., ServerProcess],
) -> None:
    """Two web processes on one ledger: the same signed request sent to both at once, ten
    times over with ten nonces, is answered 200 exactly once per nonce and refused the rest."""
    a = make_server()
    b = a.web_beside("server-c.log")
    on_a = add_platform(a, "gd-province")
    on_b = FakePlatform(b.base_url, "gd-province", on_a.secret_hex)
    try:
        for n in range(10):
            headers = on_a.headers("GET", "/api/v1/exchange/jobs", b"",
                                   nonce=f"both-at-once-{n:08d}")
            answers = await asyncio.gather(
                *(p.client.get("/api/v1/exchange/jobs", headers=headers)
                  for p in (on_a, on_b, on_a, on_b)))
            codes = sorted(r.status_code for r in answers)
            assert codes == [200, 401, 401, 401], [r.text for r in answers]
            assert all(r.json()["error"]["code"] == "replayed_nonce"
                       for r in answers if r.status_code == 401)
    finally:
        await on_a.aclose()
        await on_b.aclose()
        b.stop()
    assert "Traceback" not in b.log_tail(100_000)


async def test_a_platform_sealed_under_another_server_key_is_refused_not_an_error(
    server: ServerProcess,
) -> None:
    """Added while GIGMARKET_SECRET_KEY was something else: its requests get a 401, and the
    server says why in its log (no 500, no traceback)."""
    out = subprocess.run(
        [sys.executable, "-m", "gigmarket.cli", "exchange", "add", "--platform", "old-key"],
        env={**server.env, "GIGMARKET_SECRET_KEY": "ee" * 32}, capture_output=True, text=True,
        check=True, cwd=REPO)
    stranger = FakePlatform(server.base_url, "old-key", out.stdout.strip())
    try:
        r = await stranger.send("GET", "/exchange/jobs")
        refused(r, "bad_signature", "X-GM-Platform")
    finally:
        await stranger.aclose()
    assert "cannot be opened with this server's key" in server.log_tail(200)
