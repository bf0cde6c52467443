"""Postings from the province: created, answered again the same, refused when older, updated
when newer, reviewed and dispatched like any posting; their fills flow back as outcomes."""

from __future__ import annotations

import base64
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from tests.e2e.people import (
    HALL,
    Person,
    check_in,
    gb11643,
    gb32100,
    in_hours,
    manager,
    new_worker,
)
from tests.e2e.server import ServerProcess
from tests.exchange.conftest import add_platform
from tests.exchange.doc import conforms
from tests.exchange.platform import FakePlatform

CREDIT_CODE = gb32100("91440114MA5D8K3P7")
ID_NUMBER = gb11643("44011419900101123")
SM4_KEY = "00112233445566778899aabbccddeeff"


def posting(version: int, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "external_id": "GD-2026-000123", "version": version, "market_id": "shiling",
        "title": "仓库装卸", "skills": ["loading"], "headcount": 1,
        "wage": {"amount": 280, "unit": "day"}, "start_at": in_hours(2), "duration_hours": 8,
        "lat": HALL[0] + 0.004, "lon": HALL[1] + 0.004, "address": "狮岭镇皮革城3号仓",
        "description": "省平台转来的岗位",
        "employer": {"org_name": "花都某物流公司", "credit_code": CREDIT_CODE,
                     "phone": "13700000001"},
    }
    body.update(over)
    return body


async def items(platform: FakePlatform, feed: str) -> list[dict[str, Any]]:
    return [item async for item in platform.drain(feed, limit=3)]


async def test_a_posting_is_created_repeated_versioned_reviewed_dispatched_and_reported(
    server: ServerProcess, province: FakePlatform,
) -> None:
    """The whole life of one provincial posting, as the platform and the people see it."""
    api, ws = server.api, server.ws_url
    boss = await manager(api, ws, "boss", "correct-horse")
    worker = await new_worker(api, ws, "13800000001")
    await worker.ok("PUT", "/me/profile", {"name": "王师傅", "skills": ["loading"],
                                           "min_wage": {"amount": 150, "unit": "day"},
                                           "id_number": ID_NUMBER})
    await worker.connect()
    await check_in(worker)

    v1 = posting(1)
    created = await province.send("POST", "/exchange/jobs", v1)
    assert created.status_code == 201, created.text
    job = created.json()
    conforms("posting", v1)
    conforms("posting-answer", job)
    # A business the market has not verified: its posting waits for a manager.
    assert set(job) == {"id", "state"} and job["state"] == "pending_review"

    again = await province.send("POST", "/exchange/jobs", v1)
    assert (again.status_code, again.json()) == (200, job)
    other_body = await province.send("POST", "/exchange/jobs", posting(1, title="别的"))
    assert other_body.status_code == 409
    assert other_body.json()["error"]["code"] == "version_reused"

    # Nobody offered yet: the terms may change too.
    raise_ = {"amount": 300, "unit": "day"}
    v2 = posting(2, title="仓库装卸（夜班）", start_at=v1["start_at"], wage=raise_)
    updated = await province.send("POST", "/exchange/jobs", v2)
    assert (updated.status_code, updated.json()) == (200, job)
    older = await province.send("POST", "/exchange/jobs", v1)
    assert older.status_code == 409, older.text
    assert older.json()["error"] == {"code": "stale_version", "field": "version",
                                     "message": older.json()["error"]["message"]}

    # Validation is that of any posting, naming the field; nothing is created.
    before = len(await items(province, "jobs"))
    for body, field in [
        (posting(1, external_id="X-2", wage={"amount": 1, "unit": "day"}), "wage"),
        (posting(1, external_id="X-3", market_id="atlantis"), "market_id"),
        (posting(1, external_id="X-4", employer={"org_name": "某公司",
                                                 "credit_code": "91440114MA5D8K3P70",
                                                 "phone": "13700000002"}),
         "employer.credit_code"),
        ({k: v for k, v in posting(1, external_id="X-5").items() if k != "title"}, "title"),
        (posting(1, external_id="X-6", colour="red"), "colour"),
    ]:
        r = await province.send("POST", "/exchange/jobs", body)
        assert r.status_code == 422, r.text
        assert r.json()["error"]["field"] == field, r.text
    assert len(await items(province, "jobs")) == before

    # A manager reviews it like any posting; then the rounds offer it like any job.
    await boss.ok("POST", f"/jobs/{job['id']}/approve")
    offer = await worker.wait_for(lambda m: m["type"] == "offer")
    assert offer["job"]["id"] == job["id"] and offer["job"]["title"] == "仓库装卸（夜班）"
    assert offer["job"]["wage"] == raise_
    accepted = await worker.ok("POST", f"/offers/{offer['offer_id']}/accept")
    assignment_id = accepted["assignment"]["id"]

    # Hired: the terms the worker said yes to are fixed; the wording may still change.
    moved = await province.send("POST", "/exchange/jobs",
                                posting(3, start_at=v1["start_at"], title=v2["title"],
                                        wage={"amount": 320, "unit": "day"}))
    assert moved.status_code == 409, moved.text
    assert (moved.json()["error"]["code"], moved.json()["error"]["field"]) == \
        ("job_committed", "wage")
    await boss.connect()
    reworded = await province.send("POST", "/exchange/jobs",
                                   posting(3, start_at=v1["start_at"], title="装卸工",
                                           wage=raise_))
    assert reworded.status_code == 200, reworded.text
    # The market's managers see that an approved job changed after their review.
    seen = await boss.wait_for(lambda m: m["type"] == "event"
                               and m["event"]["type"] == "job.updated")
    assert seen["event"]["payload"]["job_id"] == job["id"]
    assert seen["event"]["payload"]["title"] == "装卸工"
    await boss.disconnect()

    # The employer the platform named can sign in with its phone and sees the posting.
    employer = Person(api, ws)
    await employer.sign_in("13700000001", "employer")
    mine = await employer.ok("GET", "/me/jobs")
    assert [j["id"] for j in mine] == [job["id"]]
    await employer.ok("POST", f"/jobs/{job['id']}/cancel")

    changes = [i for i in await items(province, "jobs") if i["id"] == job["id"]]
    assert [i["version"] for i in changes] == list(range(1, len(changes) + 1))
    assert [(i["state"], i["accepted"], i["title"]) for i in changes] == [
        ("pending_review", 0, "仓库装卸"),
        ("pending_review", 0, "仓库装卸（夜班）"),
        ("open", 0, "仓库装卸（夜班）"),
        ("filled", 1, "仓库装卸（夜班）"),
        ("filled", 1, "装卸工"),
        ("cancelled", 1, "装卸工"),
    ]
    first = changes[0]
    assert first["external_id"] == "GD-2026-000123" and first["platform"] == "gd-province"
    assert first["employer"] == {"org_name": "花都某物流公司", "credit_code": CREDIT_CODE}
    assert first["wage"] == {"amount": 280, "unit": "day"} and first["headcount"] == 1
    assert [i["wage"] for i in changes[1:]] == [raise_] * (len(changes) - 1)
    assert first["place"] == {"lat": v1["lat"], "lon": v1["lon"], "address": v1["address"]}
    assert first["start_at"] == v1["start_at"] and first["market_id"] == "shiling"
    assert first["skills"] == ["loading"] and first["duration_hours"] == 8

    outcomes = [o for o in await items(province, "outcomes")
                if o["assignment_id"] == assignment_id]
    assert [o["state"] for o in outcomes] == ["accepted", "cancelled"]
    masked = ID_NUMBER[:4] + "*" * 10 + ID_NUMBER[-4:]
    assert outcomes[0]["worker"] == {"id_number_masked": masked, "key_group": None}
    assert outcomes[0]["external_id"] == "GD-2026-000123"
    assert outcomes[0]["job_id"] == job["id"] and outcomes[0]["hours"] is None
    assert ID_NUMBER not in str(outcomes)

    # A platform with an SM4 key also gets the full number, sealed for it alone.
    keyed = add_platform(server, "hb-province", "--sm4-key", SM4_KEY)
    try:
        sealed = next(o for o in await items(keyed, "outcomes")
                      if o["assignment_id"] == assignment_id)["worker"]["id_number_sm4"]
    finally:
        await keyed.aclose()
    raw = base64.b64decode(sealed)
    dec = Cipher(algorithms.SM4(bytes.fromhex(SM4_KEY)), modes.GCM(raw[:12], raw[-16:])
                 ).decryptor()
    dec.authenticate_additional_data(assignment_id.encode())
    assert (dec.update(raw[12:-16]) + dec.finalize()).decode() == ID_NUMBER
    await worker.disconnect()


async def test_a_verified_business_posts_straight_to_the_market(
    server: ServerProcess, province: FakePlatform,
) -> None:
    """A posting from a business the market has verified is open at once and reaches a
    waiting worker; a phone that belongs to another business is refused by name."""
    api, ws = server.api, server.ws_url
    boss = await manager(api, ws, "boss", "correct-horse")
    first = await province.send("POST", "/exchange/jobs", posting(1))
    assert first.json()["state"] == "pending_review"
    review = await boss.ok("GET", "/markets/shiling/review")
    employer_id = next(e for e in review["employers"] if e["credit_code"] == CREDIT_CODE)["id"]
    await boss.ok("POST", f"/employers/{employer_id}/verify")

    worker = await new_worker(api, ws, "13800000002")
    await worker.connect()
    await check_in(worker)
    second = await province.send("POST", "/exchange/jobs", posting(1, external_id="GD-2"))
    assert second.status_code == 201 and second.json()["state"] == "open", second.text
    # Verifying the business also opened its first posting: the worker may see that first.
    first_offer = await worker.wait_for(lambda m: m["type"] == "offer")
    if first_offer["job"]["id"] == first.json()["id"]:
        await worker.ok("POST", f"/offers/{first_offer['offer_id']}/decline")
    offer = await worker.wait_for(lambda m: m["type"] == "offer"
                                  and m["job"]["id"] == second.json()["id"])
    assert offer["job"]["title"] == "仓库装卸"

    clash = await province.send("POST", "/exchange/jobs", posting(
        1, external_id="GD-3", employer={"org_name": "另一家", "phone": "13700000001",
                                         "credit_code": gb32100("91440114MA5D8K3P8")}))
    assert clash.status_code == 409, clash.text
    assert clash.json()["error"]["field"] == "employer.phone"
    await worker.disconnect()


async def test_one_posting_delivered_several_times_at_once_is_created_once(
    server: ServerProcess, province: FakePlatform,
) -> None:
    """A platform retrying a slow delivery sends the same posting again before the first is
    answered: one job, one 201, and every other delivery the same answer with 200 (on
    PostgreSQL the posting's lock makes them take turns; without it, a unique-key 409).
    Then a newer version and its retry, at once: applied once, both 200."""
    import asyncio

    body = posting(1, external_id="GD-AT-ONCE")
    answers = await asyncio.gather(*(province.send("POST", "/exchange/jobs", body)
                                     for _ in range(6)))
    assert sorted(r.status_code for r in answers) == [200] * 5 + [201], \
        [r.text for r in answers]
    assert len({r.text for r in answers}) == 1
    job_id = answers[0].json()["id"]
    newer = posting(2, external_id="GD-AT-ONCE", title="仓库装卸（改）")
    again = await asyncio.gather(*(province.send("POST", "/exchange/jobs", newer)
                                   for _ in range(4)))
    assert [r.status_code for r in again] == [200] * 4, [r.text for r in again]
    assert {r.json()["id"] for r in again} == {job_id}
    with server.ledger() as db:
        versions = db.execute("SELECT COUNT(*) FROM events WHERE subject = ?"
                              " AND type = 'job.updated'", (job_id,)).fetchone()
    assert versions is not None and versions[0] == 1
