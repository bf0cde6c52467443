"""Several web processes share one Redis: a socket held by one sees what another did."""

from __future__ import annotations

from collections.abc import Callable

from tests.e2e.people import Person, check_in, job_body, manager, new_employer, new_worker
from tests.e2e.server import ServerProcess


async def test_messages_reach_a_socket_whichever_process_holds_it(
    make_server: Callable[..., ServerProcess],
) -> None:
    """Web A (with the dispatcher and the embedded Redis) and web B (web only, same Redis and
    ledger): the worker's socket is on B, the employer's on A; the accept goes through B's
    HTTP, the post through A's; both sockets see every step."""
    a = make_server()
    sock = a.data_dir / "redis" / "redis.sock"
    b = ServerProcess(a.data_dir, env={"REDIS_URL": f"unix://{sock}",
                                       "GIGMARKET_CONFIG": a.env["GIGMARKET_CONFIG"]},
                      args=("--no-dispatch",))
    b.log_path = a.data_dir / "server-b.log"
    b.start()
    try:
        boss = await manager(a.api, a.ws_url, "boss", "correct-horse")
        worker = await new_worker(b.api, b.ws_url, "13800000001")
        await worker.connect()  # on B
        await check_in(worker)
        employer = await new_employer(a.api, a.ws_url, "13900000001", verified_by=boss)
        await employer.connect()  # on A
        job = await employer.ok("POST", "/markets/shiling/jobs", job_body(headcount=1))
        offer = await worker.wait_for(lambda m: m["type"] == "offer")
        assert offer["job"]["id"] == job["id"]
        on_b = Person(b.api, b.ws_url, token=worker.token, user_id=worker.user_id)
        await on_b.ok("POST", f"/offers/{offer['offer_id']}/accept")
        filled = await employer.wait_for(
            lambda m: m["type"] == "job" and m["job"]["state"] == "filled")
        assert filled["job"]["accepted"] == 1
        await worker.wait_for(lambda m: m["type"] == "assignment")
        await worker.disconnect()
        await employer.disconnect()
    finally:
        b.stop()
    assert "Traceback" not in b.log_tail(100_000)
