"""Several web processes share one Redis: a socket held by one sees what another did."""

from __future__ import annotations

import secrets
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from gigmarket.store.embedded_redis import EmbeddedRedis
from tests.e2e.people import Person, check_in, job_body, manager, new_employer, new_worker
from tests.e2e.server import REPO, ServerProcess


async def test_messages_reach_a_socket_whichever_process_holds_it(
    make_server: Callable[..., ServerProcess],
) -> None:
    """Web A (with the dispatcher and the embedded Redis) and web B (web only, same Redis and
    ledger): the worker's socket is on B, the employer's on A; the accept goes through B's
    HTTP, the post through A's; both sockets see every step."""
    a = make_server()
    b = a.web_beside()
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


async def test_the_compose_topology_as_local_processes(tmp_path: Path) -> None:
    """What compose.yaml runs, without Docker: a Redis of its own, two ``serve --no-dispatch``
    web processes and one ``gigmarket dispatch``, all on one data dir (one SQLite ledger). A
    worker's socket on web 1 gets the offer for a job posted through web 2, and the employer
    on web 2 sees the accept made through web 1."""
    data = tmp_path / "data"
    # As compose.yaml sets it: from outside the data volume.
    env = {"REDIS_URL": "", "GIGMARKET_SECRET_KEY": secrets.token_hex(32)}
    with EmbeddedRedis(tmp_path / "redis-service") as redis:  # compose's `redis` service
        env["REDIS_URL"] = redis.url
        dispatch_log = tmp_path / "dispatch.log"
        web1 = ServerProcess(data, env=env, args=("--no-dispatch",))
        web2 = ServerProcess(data, env=env, args=("--no-dispatch",))
        web1.log_path, web2.log_path = tmp_path / "web1.log", tmp_path / "web2.log"
        data.mkdir()
        with dispatch_log.open("wb") as log:
            dispatcher = subprocess.Popen(
                [sys.executable, "-m", "gigmarket.cli", "dispatch"], env=web1.env, cwd=REPO,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            web1.start()  # ready once the dispatcher holds the market's lease
            web2.start()
            web1.cli("manager", "add", "--username", "boss", "--market", "shiling",
                     "--password", "correct-horse")
            boss = await manager(web2.api, web2.ws_url, "boss", "correct-horse")
            worker = await new_worker(web1.api, web1.ws_url, "13800000002")
            await worker.connect()
            await check_in(worker)
            employer = await new_employer(web2.api, web2.ws_url, "13900000002",
                                          verified_by=boss)
            await employer.connect()
            job = await employer.ok("POST", "/markets/shiling/jobs", job_body(headcount=1))
            offer = await worker.wait_for(lambda m: m["type"] == "offer", timeout=60)
            assert offer["job"]["id"] == job["id"]
            await worker.ok("POST", f"/offers/{offer['offer_id']}/accept")
            filled = await employer.wait_for(
                lambda m: m["type"] == "job" and m["job"]["state"] == "filled", timeout=60)
            assert filled["job"]["accepted"] == 1
            await worker.disconnect()
            await employer.disconnect()
        finally:
            web1.stop()
            web2.stop()
            dispatcher.send_signal(signal.SIGTERM)  # what `docker compose stop` sends
            try:
                dispatcher.wait(30)
            except subprocess.TimeoutExpired:
                # Not left running into the next tests (a live Popen warns when collected).
                dispatcher.kill()
                dispatcher.wait(5)
                raise AssertionError("the dispatcher did not stop within 30 s of SIGTERM") from None
    for log_path in (web1.log_path, web2.log_path, dispatch_log):
        text = log_path.read_text(errors="replace")
        assert "Traceback" not in text, f"{log_path.name}:\n{text[-6000:]}"
