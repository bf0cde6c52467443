"""``gigmarket serve --demo``: simulated workers and employers, so a visitor sees it move.

They act through the same services as real people (profiles, check-ins, posts, answers), so
everything on the pages and the dashboard is the real system at work; only their decisions
are drawn at random. Their phones are in 170-prefixed ranges and their names say 演示 (demo).
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import datetime, timedelta
from typing import Any

from gigmarket.core.errors import DomainError
from gigmarket.core.model import Role
from gigmarket.credentials import token_hash
from gigmarket.services import jobs, offers, workers
from gigmarket.services.context import Context, Principal
from gigmarket.store import employers as employer_store
from gigmarket.store import workers as worker_store
from gigmarket.store.ledger import new_id

log = logging.getLogger("gigmarket.demo")

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
JOBS = [
    ("仓库搬货", ["loading"]), ("皮具车间帮工", ["leather_craft"]),
    ("成品分拣打包", ["sorting_packing"]), ("厂房保洁", ["cleaning"]),
    ("工地小工", ["construction_helper"]), ("食堂帮厨", ["kitchen_helper"]),
    ("电路检修", ["electrician"]), ("卸货装车", ["loading", "sorting_packing"]),
]
ORGS = ["狮岭某皮具厂", "合成村物流仓", "阳光箱包公司", "马岭建筑队", "振兴食堂", "义山皮革城"]


def _principal(role: Role, user_id: str) -> Principal:
    return Principal(role, user_id, token_hash(f"demo:{user_id}"))


async def _account(ctx: Context, role: Role, phone: str) -> str:
    accounts = worker_store if role is Role.WORKER else employer_store
    known: str | None = await accounts.id_by_phone(ctx.ledger, phone)
    if known is not None:
        return known
    prefix = "w" if role is Role.WORKER else "e"
    uid = new_id(prefix)
    async with ctx.ledger.transaction() as tx:
        await accounts.create_with_phone(tx, uid, phone)
        await tx.event(f"{'worker' if prefix == 'w' else 'employer'}.registered",
                       market_id=None, actor=uid, subject=uid, payload={"via": "demo"})
    return uid


def _credit_code(n: int) -> str:
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    body = f"91440114MA5D{n:05d}"
    total = sum(chars.index(c) * w for c, w in zip(body, weights, strict=True))
    return body + chars[(31 - total % 31) % 31]


async def run_demo(ctx: Context, market_id: str = "shiling", n_workers: int = 60,
                   n_employers: int = 6, seed: int = 7) -> None:
    rng = random.Random(seed)
    market = ctx.market(market_id)
    tz = ctx.tz(market_id)
    people: list[Principal] = []
    for i in range(n_workers):
        uid = await _account(ctx, Role.WORKER, f"170{i:08d}")
        p = _principal(Role.WORKER, uid)
        skills = rng.sample(["loading", "cleaning", "sorting_packing", "leather_craft",
                             "construction_helper", "kitchen_helper"], k=rng.randint(1, 3))
        await workers.put_profile(ctx, p, {
            "name": f"{rng.choice(SURNAMES)}演示", "skills": skills,
            "min_wage": {"amount": rng.choice([150, 180, 200, 220]), "unit": "day"}})
        people.append(p)
    bosses: list[Principal] = []
    for i in range(n_employers):
        uid = await _account(ctx, Role.EMPLOYER, f"171{i:08d}")
        p = _principal(Role.EMPLOYER, uid)
        await jobs.put_employer_profile(ctx, p, {
            "name": "演示老板", "org_name": ORGS[i % len(ORGS)],
            "credit_code": _credit_code(i)})
        async with ctx.ledger.transaction() as tx:
            await employer_store.verify(tx, uid)
        bosses.append(p)
    log.info("demo: %d workers and %d employers in %s", n_workers, n_employers, market_id)

    async def arrive(p: Principal) -> None:
        station = rng.choice(market.stations)
        try:
            await workers.checkin(ctx, p, market_id, {
                "lat": station.lat + rng.uniform(-0.004, 0.004),
                "lon": station.lon + rng.uniform(-0.004, 0.004)})
        except DomainError as e:
            log.debug("demo check-in refused: %s", e)

    async def arrivals() -> None:
        # A morning trickle into the hall, not everyone at once.
        for p in people:
            await arrive(p)
            await asyncio.sleep(rng.uniform(0.2, 1.0))

    async def workers_loop() -> None:
        while True:
            await asyncio.sleep(1.5)
            for p in people:
                me = await workers.me(ctx, p)
                if me["state"] == "offline" and rng.random() < 0.05:
                    await arrive(p)
                elif me["state"] == "assigned" and rng.random() < 0.03:
                    await arrive(p)  # back from the job, waiting for the next
                pending = [o for o in await workers.my_offers(ctx, p) if o["state"] == "pending"]
                for o in pending:
                    if rng.random() < 0.35:  # people take a few seconds to answer
                        continue
                    try:
                        if rng.random() < 0.75:
                            await offers.accept(ctx, p, o["id"])
                        else:
                            await offers.decline(ctx, p, o["id"])
                    except DomainError:
                        pass

    async def employers_loop() -> None:
        while True:
            await asyncio.sleep(rng.uniform(4, 10))
            boss = rng.choice(bosses)
            title, skills = rng.choice(JOBS)
            if skills == ["electrician"]:
                continue  # nobody in the demo holds the certificate
            start = datetime.now(tz) + timedelta(minutes=rng.choice([20, 30, 60, 120]))
            station = rng.choice(market.stations)
            body: dict[str, Any] = {
                "title": title, "skills": skills, "headcount": rng.randint(1, 4),
                "wage": rng.choice([{"amount": 260, "unit": "day"}, {"amount": 300, "unit": "day"},
                                    {"amount": 35, "unit": "hour"}]),
                "start_at": start.isoformat(timespec="minutes"),
                "duration_hours": rng.choice([4, 8, 10]),
                "lat": station.lat + rng.uniform(-0.01, 0.01),
                "lon": station.lon + rng.uniform(-0.01, 0.01),
                "address": f"{station.address or station.name}附近", "description": "演示岗位",
            }
            try:
                await jobs.post_job(ctx, boss, market_id, body, None)
            except DomainError as e:
                log.debug("demo post refused: %s", e)

    await asyncio.gather(arrivals(), workers_loop(), employers_loop())
