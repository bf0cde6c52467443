"""The phoneless worker at the kiosk, end to end (SPEC 11.2, issue 10): registration with the ID
number and a PIN only, the privacy consent recorded with it, the desk's PIN reset and the forced
change, kiosk devices listed with their last contact and revoked at once; each in the ledger."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx

from tests.e2e.people import Person, gb11643, manager
from tests.e2e.server import ServerProcess

NOTICE = "kiosk-privacy-2026-11"


async def _kiosk(boss: Person, server: ServerProcess, station: str = "hall") -> Person:
    made = await boss.ok("POST", "/markets/shiling/kiosks", {"station_id": station})
    return Person(server.api, server.ws_url, token=made["token"], user_id=made["id"])


async def test_phoneless_registration_with_consent_and_pin_reset(
        make_server: Callable[..., ServerProcess]) -> None:
    """A worker registers with ID number, PIN and name only; the consent is on the record. A
    bad phone, when given, is refused naming the field. The desk finds the worker by the ID
    number's last digits, resets the PIN; the temporary PIN signs in with must_change_pin, the
    old one no longer does; PUT /me/pin sets a new one and the flag clears."""
    server = make_server()
    boss = await manager(server.api, server.ws_url, "boss", "correct-horse")
    other = await manager(server.api, server.ws_url, "other", "correct-horse")
    kiosk = await _kiosk(boss, server)
    number = gb11643("44011419620304512")

    r = await kiosk.call("POST", "/kiosk/register", {"id_number": number, "pin": "2580",
                                                      "name": "黄阿婆", "phone": "12345"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "phone"
    reg = await kiosk.ok("POST", "/kiosk/register", {"id_number": number, "pin": "2580",
                                                      "name": "黄阿婆", "consent": NOTICE})
    assert reg["must_change_pin"] is False
    worker = Person(server.api, server.ws_url, token=reg["token"], user_id=reg["user_id"])
    me = await worker.ok("GET", "/me")
    assert me["phone"] is None and me["name"] == "黄阿婆"
    assert me["id_number"].endswith(number[-4:]) and number not in json.dumps(me)

    # The desk: find by the last digits of the ID number, or by name; only in its markets.
    found = await boss.ok("GET", f"/markets/shiling/workers?q={number[-4:]}")
    assert [w["id"] for w in found["workers"]] == [reg["user_id"]]
    assert (await boss.ok("GET", "/markets/shiling/workers?q=黄"))["workers"][0]["name"] == "黄阿婆"
    r = await boss.call("GET", "/markets/shiling/workers?q=")
    assert r.status_code == 422 and r.json()["error"]["field"] == "q"
    r = await other.call("GET", "/markets/shiling/workers?q=黄")
    assert r.status_code == 403
    r = await other.call("POST", f"/workers/{reg['user_id']}/pin_reset")
    assert r.status_code == 403
    r = await worker.call("POST", f"/workers/{reg['user_id']}/pin_reset")
    assert r.status_code == 403

    # She tried her PINs at the kiosk until it stopped her ...
    for _ in range(5):
        r = await kiosk.call("POST", "/kiosk/signin", {"id_number": number, "pin": "0000"})
        assert r.status_code == 401
    r = await kiosk.call("POST", "/kiosk/signin", {"id_number": number, "pin": "2580"})
    assert r.status_code == 429
    # ... and the desk's reset lets her in at once.
    reset = await boss.ok("POST", f"/workers/{reg['user_id']}/pin_reset")
    temporary = reset["temporary_pin"]
    assert len(temporary) == 6 and temporary.isdigit()
    r = await kiosk.call("POST", "/kiosk/signin", {"id_number": number, "pin": "2580"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "bad_pin"
    signed = await kiosk.ok("POST", "/kiosk/signin", {"id_number": number, "pin": temporary})
    assert signed["must_change_pin"] is True
    fresh = Person(server.api, server.ws_url, token=signed["token"], user_id=signed["user_id"])
    # Until a new PIN is chosen, the session may do nothing else (the desk knows this one).
    r = await fresh.call("GET", "/me/offers")
    assert r.status_code == 403 and r.json()["error"]["code"] == "pin_change_required"
    r = await fresh.call("POST", "/markets/shiling/checkin", {"station_id": "hall"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "pin_change_required"
    assert (await fresh.ok("GET", "/me"))["name"] == "黄阿婆"
    for bad, code in (("12", "bad_pin"), ("1111", "weak_pin"), (2580, "bad_type")):
        r = await fresh.call("PUT", "/me/pin", {"pin": bad})
        assert r.status_code == 422 and r.json()["error"] | {"message": ""} == {
            "code": code, "field": "pin", "message": ""}, r.text
    assert (await fresh.ok("PUT", "/me/pin", {"pin": "8642"}))["must_change_pin"] is False
    assert await fresh.ok("GET", "/me/offers") == []
    again = await kiosk.ok("POST", "/kiosk/signin", {"id_number": number, "pin": "8642"})
    assert again["must_change_pin"] is False

    with server.ledger() as db:
        consent = db.execute("SELECT consent_version, consent_at, phone FROM workers"
                             " WHERE id = ?", (reg["user_id"],)).fetchone()
        events = {t: (actor, json.loads(p)) for t, actor, p in db.execute(
            "SELECT type, actor, payload FROM events WHERE subject = ?", (reg["user_id"],))}
        log = "\n".join(p for (p,) in db.execute("SELECT payload FROM events"))
    assert consent[0] == NOTICE and consent[1] is not None and consent[2] is None
    assert events["worker.registered"][1] | {"kiosk": ""} == {
        "via": "kiosk", "kiosk": "", "phone": False, "consent": NOTICE}
    assert events["worker.pin_reset"][0] == boss.user_id
    assert events["worker.pin_changed"][0] == reg["user_id"]
    assert temporary not in log and number not in log
    # The audit log: the desk's two lookups (the refused ones left none) and the reset, by
    # boss, naming the worker; never the temporary PIN or the whole ID number.
    audit = (await boss.ok("GET", "/markets/shiling/audit"))["items"]
    mine = [(e["action"], e["manager"]["username"], e["target"]["id"], e["detail"])
            for e in reversed(audit) if e["action"].startswith("worker.")]
    assert mine == [
        ("worker.search", "boss", "shiling", {"q": number[-4:], "found": [reg["user_id"]]}),
        ("worker.search", "boss", "shiling", {"q": "黄", "found": [reg["user_id"]]}),
        ("worker.pin_reset", "boss", reg["user_id"], {}),
    ]
    assert temporary not in json.dumps(audit) and number not in json.dumps(audit)


async def test_kiosk_devices_listed_with_last_contact_and_revoked(
        make_server: Callable[..., ServerProcess]) -> None:
    """The manager lists the market's kiosks with their last contact; revoking one stops its
    device token at once (and only that one), is on the ledger with the manager, and cannot be
    done by a manager of another market."""
    server = make_server()
    boss = await manager(server.api, server.ws_url, "boss", "correct-horse")
    other = await manager(server.api, server.ws_url, "other", "correct-horse")
    first, second = await _kiosk(boss, server), await _kiosk(boss, server)
    listed = await boss.ok("GET", "/markets/shiling/kiosks")
    assert {k["id"]: k["last_contact_at"] for k in listed["kiosks"]} == {
        first.user_id: None, second.user_id: None}
    number = gb11643("44011419700101123")
    await first.ok("POST", "/kiosk/register", {"id_number": number, "pin": "2468", "name": "李四"})
    listed = await boss.ok("GET", "/markets/shiling/kiosks")
    by_id = {k["id"]: k for k in listed["kiosks"]}
    assert by_id[first.user_id]["last_contact_at"] is not None
    assert by_id[first.user_id]["station_id"] == "hall" and by_id[first.user_id]["station_name"]
    assert by_id[second.user_id]["last_contact_at"] is None

    assert (await other.call("GET", "/markets/shiling/kiosks")).status_code == 403
    assert (await other.call("POST", f"/kiosks/{first.user_id}/revoke")).status_code == 403
    assert (await boss.call("POST", "/kiosks/k_nope/revoke")).status_code == 404
    out = await boss.ok("POST", f"/kiosks/{first.user_id}/revoke")
    assert out["state"] == "revoked" and out["revoked_at"]
    r = await first.call("POST", "/kiosk/signin", {"id_number": number, "pin": "2468"})
    assert r.status_code == 401
    r = await boss.call("POST", f"/kiosks/{first.user_id}/revoke")
    assert r.status_code == 409 and r.json()["error"]["code"] == "kiosk_revoked"
    await second.ok("POST", "/kiosk/signin", {"id_number": number, "pin": "2468"})

    with server.ledger() as db:
        row = db.execute("SELECT actor, market_id FROM events WHERE type = 'kiosk.revoked'"
                         " AND subject = ?", (first.user_id,)).fetchone()
    assert row == (boss.user_id, "shiling")


async def test_the_board_qr_and_the_kiosk_setup_link(
        make_server: Callable[..., ServerProcess]) -> None:
    """The board's QR is public SVG naming the worker page on the host asked; an unknown
    market is a 404 in the SPEC's format. Registering a kiosk answers its setup link (the token
    in the fragment) and that link's QR."""
    server = make_server()
    async with httpx.AsyncClient(base_url=server.api, timeout=30) as c:
        r = await c.get("/markets/shiling/board/qr.svg")
        assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
        assert "<svg" in r.text
        assert r.headers["x-worker-url"] == f"{server.base_url}/m/worker?market=shiling"
        r = await c.get("/markets/nowhere/board/qr.svg")
        assert r.status_code == 404 and r.json()["error"]["code"]
    boss = await manager(server.api, server.ws_url, "boss", "correct-horse")
    made = await boss.ok("POST", "/markets/shiling/kiosks", {"station_id": "hall"})
    assert made["setup_url"] == (f"{server.base_url}/kiosk?market=shiling&station=hall"
                                 f"#kiosk_token={made['token']}")
    assert "<svg" in made["setup_qr_svg"]
    r = await boss.call("POST", "/markets/shiling/kiosks", {"station_id": "nope"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "station_id"
