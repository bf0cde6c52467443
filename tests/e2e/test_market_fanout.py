"""Fan-out per market (issue 11, SPEC 11.6): a web process receives only the messages of the
markets it holds sockets for, counted on its own subscription (``/metrics``)."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx

from gigmarket import protocol
from tests.e2e.people import HALL, job_body, manager, new_employer, new_worker
from tests.e2e.server import ServerProcess


def fanout_payloads(srv: ServerProcess) -> dict[str, float]:
    """Payloads the process received, per channel, from its ``/metrics``."""
    text = httpx.get(f"{srv.base_url}/metrics", timeout=10).text
    return {m[1]: float(m[2]) for m in
            re.finditer(r'^gigmarket_fanout_payloads\{channel="([^"]+)"\} (\S+)$', text, re.M)}


async def test_a_web_process_hears_only_the_markets_of_its_sockets(
    make_server: Callable[..., ServerProcess],
) -> None:
    """Web B holds only a shiling manager's socket; a whole hire in huashan happens through
    web A (offer, accept, figures). B's subscription receives shiling's messages and not one
    payload of huashan's, while A's receives huashan's."""
    a = make_server()
    b = a.web_beside()
    try:
        boss = await manager(b.api, b.ws_url, "boss", "correct-horse")
        await boss.connect()  # shiling, on B
        other = await manager(a.api, a.own_ws_url, "other", "correct-horse")
        await other.connect()  # huashan, on A
        worker = await new_worker(a.api, a.own_ws_url, "13800000001")
        await worker.connect()  # joins huashan below, while connected
        await worker.ok("POST", "/markets/huashan/checkin", {"lat": HALL[0], "lon": HALL[1]})
        employer = await new_employer(a.api, a.own_ws_url, "13900000001", verified_by=other)
        await employer.connect()
        await employer.ok("POST", "/markets/huashan/jobs", job_body(headcount=1))
        offer = await worker.wait_for(lambda m: m["type"] == "offer")
        await worker.ok("POST", f"/offers/{offer['offer_id']}/accept")
        await employer.wait_for(lambda m: m["type"] == "job" and m["job"]["state"] == "filled")
        await other.wait_for(lambda m: m["type"] == "event")
        # Something of shiling's reaches B: a worker checks in there through A.
        shiling_worker = await new_worker(a.api, a.own_ws_url, "13800000002")
        await shiling_worker.ok("POST", "/markets/shiling/checkin",
                                {"lat": HALL[0], "lon": HALL[1]})
        await boss.wait_for(lambda m: m["type"] == "event")

        on_b, on_a = fanout_payloads(b), fanout_payloads(a)
        assert on_b.get("gm:{shiling}:fan", 0) > 0, on_b
        assert "gm:{huashan}:fan" not in on_b, on_b
        assert on_a.get("gm:{huashan}:fan", 0) > 0, on_a
        for person in (boss, other, worker, employer):
            await person.disconnect()
            # Each message on the wire is one protocol.py defines (the typed wire).
            assert {m["type"] for m in person.messages + person.stats} <= set(
                protocol.SERVER_MESSAGES)
    finally:
        b.stop()
    assert "Traceback" not in b.log_tail(100_000)
