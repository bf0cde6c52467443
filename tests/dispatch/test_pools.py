"""The dispatcher's pools in memory (issue 13) equal a fresh read of Redis, whatever happened
in between: records written and removed, gates moving states and slots, rebuilds, a trimmed
change stream."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gigmarket.core.pool import Exclusions, JobPool, WorkerPool
from gigmarket.dispatch.pools import MarketPools
from gigmarket.services.live_pools import build_pools
from gigmarket.store import keys
from gigmarket.store.live import LiveStore

MARKET = "shiling"
ORDER = ("loading", "cleaning", "electrician", "caregiver")
NOW = 1_800_000_000.0
WORKERS = [f"w{i}" for i in range(8)]
JOBS = [f"j{i}" for i in range(6)]

coords = st.tuples(st.floats(23.40, 23.50), st.floats(113.10, 113.20))
skills = st.lists(st.sampled_from(ORDER), max_size=3, unique=True)


@st.composite
def worker_record(draw: st.DrawFn) -> dict[str, Any]:
    lat, lon = draw(coords)
    rec: dict[str, Any] = {"lat": lat, "lon": lon, "skills": draw(skills),
                           "min_hourly_fen": draw(st.integers(0, 5000)),
                           "rating": draw(st.one_of(st.none(), st.floats(1, 5))),
                           "key_group": draw(st.booleans())}
    if draw(st.booleans()):
        rec["waiting_since"] = NOW - draw(st.integers(0, 20_000))
    if draw(st.booleans()):
        rec["available_until"] = NOW + draw(st.integers(0, 40_000))
    if draw(st.booleans()):
        # One certificate still good at NOW, one run out before it.
        rec["certs"] = {"electrician": NOW + 100, "caregiver": NOW - 100}
    if draw(st.booleans()):
        rec["busy"] = [[NOW + 3600, NOW + 7200]]
    return rec


@st.composite
def job_record(draw: st.DrawFn, job_id: str) -> dict[str, Any]:
    lat, lon = draw(coords)
    return {"id": job_id, "employer_id": draw(st.sampled_from(["e1", "e2"])), "lat": lat,
            "lon": lon, "skills": draw(skills), "certs_required": draw(st.sampled_from(
                [[], ["electrician"]])), "hourly_fen": draw(st.one_of(
                    st.none(), st.integers(1000, 6000))),
            "start_at": NOW + 3600, "end_at": NOW + 30_000, "posted_at": NOW - 60}


@st.composite
def step(draw: st.DrawFn) -> tuple[str, Any]:
    kind = draw(st.sampled_from(
        ["put_worker", "put_worker", "remove_worker", "state", "put_job", "put_job",
         "replace_job", "close_job", "forget_job", "counts", "pair", "refresh", "refresh",
         "rebuild", "trim"]))
    w, j = draw(st.sampled_from(WORKERS)), draw(st.sampled_from(JOBS))
    if kind == "put_worker":
        return kind, (w, draw(worker_record()), draw(st.sampled_from(
            ["available", "available", "offered", "assigned"])))
    if kind in ("put_job", "replace_job"):
        return kind, (j, draw(job_record(j)), draw(st.integers(1, 4)), draw(st.integers(0, 2)),
                      draw(st.integers(0, 2)))
    if kind == "state":
        return kind, (w, draw(st.sampled_from(["available", "offered", "assigned"])))
    if kind == "counts":
        return kind, (j, draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    return kind, (w, j)


def _by_id(ids: list[str]) -> np.ndarray:
    return np.argsort(np.array(ids, dtype=object))


def assert_same(mine: tuple[WorkerPool, JobPool, Exclusions],
                fresh: tuple[WorkerPool, JobPool, Exclusions]) -> None:
    (aw, aj, ax), (bw, bj, bx) = mine, fresh
    assert sorted(aw.ids) == sorted(bw.ids)
    assert sorted(aj.ids) == sorted(bj.ids)
    ia, ib = _by_id(aw.ids), _by_id(bw.ids)
    for name in ("lat", "lon", "skills", "certs", "min_hourly_fen", "available_until",
                 "waited_s", "key_group", "rating", "reliability", "earned_today_fen"):
        assert np.array_equal(getattr(aw, name)[ia], getattr(bw, name)[ib], equal_nan=True), name

    def busy(p: WorkerPool) -> set[tuple[str, float, float]]:
        return {(p.ids[int(r)], float(s), float(e))
                for r, s, e in zip(p.busy_worker, p.busy_start, p.busy_end, strict=True)}

    assert busy(aw) == busy(bw)
    ja, jb = _by_id(aj.ids), _by_id(bj.ids)
    assert [aj.employer_ids[i] for i in ja] == [bj.employer_ids[i] for i in jb]
    for name in ("lat", "lon", "skills", "certs_required", "hourly_fen", "start_at", "end_at",
                 "slots", "posted_at", "employer_rating", "employer_reliability"):
        assert np.array_equal(getattr(aj, name)[ja], getattr(bj, name)[jb], equal_nan=True), name

    def pairs(w: WorkerPool, j: JobPool, x: Exclusions) -> set[tuple[str, str]]:
        return {(w.ids[int(a)], j.ids[int(b)])
                for a, b in zip(x.worker_rows, x.job_rows, strict=True)}

    assert pairs(aw, aj, ax) == pairs(bw, bj, bx)


async def apply(live: LiveStore, kind: str, args: Any) -> None:
    r = live.redis
    if kind == "put_worker":
        await live.put_worker(MARKET, *args)
    elif kind == "remove_worker":
        await live.remove_worker(MARKET, args[0])
    elif kind == "state":  # what the offer gates do: a state moves, no record is written
        if await r.hexists(keys.worker_state(MARKET), args[0]):
            await r.hset(keys.worker_state(MARKET), args[0], args[1])
    elif kind == "put_job":
        await live.put_job(MARKET, *args)
    elif kind == "replace_job":
        await live.replace_job_record(MARKET, args[0], args[1])
    elif kind == "close_job":
        await live.close_job(MARKET, args[1])
    elif kind == "forget_job":
        await live.forget_job(MARKET, args[1])
    elif kind == "counts":
        if await r.hexists(keys.job_headcount(MARKET), args[0]):
            await r.hset(keys.job_accepted(MARKET), args[0], args[1])
            await r.hset(keys.job_pending(MARKET), args[0], args[2])
    elif kind == "pair":
        await live.exclude_pairs(MARKET, [args])
    elif kind == "rebuild":
        snap = await live.snapshot(MARKET)
        workers = {w: (rec, snap.worker_state.get(w, "available"))
                   for w, rec in list(snap.workers.items())[:-1]}
        jobs = {j: (rec, snap.headcount.get(j, 1), 0, 0) for j, rec in snap.jobs.items()}
        await live.rebuild(MARKET, workers, jobs, [], [])
    elif kind == "trim":  # the stream lost changes nobody read yet
        await r.xtrim(keys.pool_changes(MARKET), maxlen=0)


async def scenario(url: str, steps: list[tuple[str, Any]]) -> None:
    live = LiveStore.from_url(url)
    try:
        await live.redis.flushdb()
        pools = MarketPools(MARKET)
        for kind, args in [*steps, ("refresh", None)]:
            if kind != "refresh":
                await apply(live, kind, args)
                continue
            got = await pools.refresh(live, ORDER, NOW)
            fresh = build_pools(await live.snapshot(MARKET), ORDER, NOW)
            assert_same((got.workers, got.jobs, got.exclusions), fresh)
    finally:
        await live.aclose()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step(), max_size=40))
# Found by CI: a change read by nobody, then the stream trimmed empty (the gap check looked
# only at the oldest kept id, and an empty stream has none).
@example(steps=[("refresh", ("w0", "j0")),
                ("put_worker", ("w0", {"lat": 23.5, "lon": 113.125, "skills": [],
                                       "min_hourly_fen": 0, "rating": None,
                                       "key_group": False}, "available")),
                ("trim", ("w0", "j0"))])
# Found by Hypothesis later: the same, but a newer change follows the trim, so the stream is
# not empty; with nothing read since an empty resync, its oldest kept id proves nothing.
@example(steps=[("refresh", ("w0", "j0")),
                ("put_job", ("j0", {"id": "j0", "employer_id": "e1", "lat": 23.5,
                                    "lon": 113.125, "skills": [], "certs_required": [],
                                    "hourly_fen": None, "start_at": 1800003600.0,
                                    "end_at": 1800030000.0, "posted_at": 1799999940.0},
                             1, 0, 0)),
                ("trim", ("w0", "j0")),
                ("remove_worker", ("w0", "j0"))])
def test_pools_in_memory_equal_a_fresh_read_after_any_changes(
        redis_url: str, steps: list[tuple[str, Any]]) -> None:
    """After any seeded sequence of writes, gate moves, rebuilds and trims, the pools the
    dispatcher keeps equal ``build_pools`` of a fresh snapshot, at every refresh."""
    asyncio.run(scenario(redis_url, steps))


async def _resyncs_only_when_needed(url: str) -> None:
    live = LiveStore.from_url(url)
    try:
        await live.redis.flushdb()
        pools = MarketPools(MARKET)
        await live.put_worker(MARKET, "w1", {"lat": 23.46, "lon": 113.15, "skills": []})
        await pools.refresh(live, ORDER, NOW)
        assert pools.resyncs == 1
        await live.put_worker(MARKET, "w2", {"lat": 23.46, "lon": 113.15, "skills": []})
        await live.put_job(MARKET, "j1", {"employer_id": "e", "lat": 23.46, "lon": 113.15},
                           2, 0, 0)
        got = await pools.refresh(live, ORDER, NOW)
        assert pools.resyncs == 1, "a change read from the stream needs no resync"
        assert not got.fresh
        assert {got.workers.ids[r] for r in got.changed_workers} == {"w2"}
        assert {got.jobs.ids[r] for r in got.changed_jobs} == {"j1"}
        await live.redis.xtrim(keys.pool_changes(MARKET), maxlen=0)
        await live.put_worker(MARKET, "w3", {"lat": 23.46, "lon": 113.15, "skills": []})
        await live.redis.xtrim(keys.pool_changes(MARKET), maxlen=0)
        await live.put_worker(MARKET, "w4", {"lat": 23.46, "lon": 113.15, "skills": []})
        got = await pools.refresh(live, ORDER, NOW)
        assert pools.resyncs == 2, "a gap in the stream means a resync"
        assert got.fresh and "w3" in got.workers.ids
        pools.invalidate()  # a lease take-over
        await pools.refresh(live, ORDER, NOW)
        assert pools.resyncs == 3
    finally:
        await live.aclose()


def test_pools_resync_on_a_gap_and_a_take_over_only(redis_url: str) -> None:
    """Changes come from the stream; a trimmed stream or a new lease reads everything."""
    asyncio.run(_resyncs_only_when_needed(redis_url))


async def _prunes(url: str) -> None:
    live = LiveStore.from_url(url)
    try:
        await live.redis.flushdb()
        pools = MarketPools(MARKET)
        rec = {"employer_id": "e", "lat": 23.46, "lon": 113.15}
        await live.put_job(MARKET, "gone", rec, 1, 0, 0)
        await live.put_job(MARKET, "closed", rec, 1, 0, 0)
        await live.exclude_pairs(MARKET, [("w1", "gone"), ("w1", "closed"), ("w2", "gone")])
        await pools.refresh(live, ORDER, NOW)
        await live.forget_job(MARKET, "gone")
        await live.close_job(MARKET, "closed")  # closed may reopen: its pairs stay
        await pools.refresh(live, ORDER, NOW)
        assert await live.redis.smembers(keys.offered_pairs(MARKET)) == {"w1|closed"}
        assert pools.pruned == 2
    finally:
        await live.aclose()


def test_offered_pairs_of_a_job_gone_for_good_are_pruned(redis_url: str) -> None:
    """A cancelled or expired job's pairs leave the offered set; a closed job's stay."""
    asyncio.run(_prunes(redis_url))


async def _allowed_again(url: str) -> None:
    live = LiveStore.from_url(url)
    try:
        await live.redis.flushdb()
        pools = MarketPools(MARKET)
        await live.put_worker(MARKET, "w1", {"lat": 23.46, "lon": 113.15, "skills": []})
        await live.put_job(MARKET, "j1", {"employer_id": "e", "lat": 23.46, "lon": 113.15},
                           1, 0, 0)
        await live.exclude_pairs(MARKET, [("w1", "j1")])
        await pools.refresh(live, ORDER, NOW)
        quiet = await pools.refresh(live, ORDER, NOW)
        assert len(quiet.changed_workers) == 0 and len(quiet.changed_jobs) == 0
        await live.allow_pair(MARKET, "w1", "j1")
        got = await pools.refresh(live, ORDER, NOW)
        assert len(got.exclusions.worker_rows) == 0
        assert {got.workers.ids[r] for r in got.changed_workers} == {"w1"}
        assert {got.jobs.ids[r] for r in got.changed_jobs} == {"j1"}
    finally:
        await live.aclose()


def test_a_pair_allowed_again_counts_as_changed_at_both_ends(redis_url: str) -> None:
    """A worker back from away may be offered the job that ran out on them: a local round
    must look at that pair, though neither record was written (found by CI: the kiosk's
    returning worker waited for the job and was never offered it)."""
    asyncio.run(_allowed_again(redis_url))


def test_neighbourhood_keeps_what_changed_and_what_is_in_its_reach() -> None:
    """Only workers in reach of a changed job and jobs in reach of a changed worker join
    the changed rows in a local round."""
    from bench.synthetic import synthetic_round
    from gigmarket.core.pool import neighbourhood

    sr = synthetic_round(300, 60, seed=5, now=NOW)
    w_rows, j_rows = neighbourhood(sr.workers, sr.jobs, np.array([0]), np.array([3]), 2.0)
    assert 0 in w_rows and 3 in j_rows
    for r in range(len(sr.workers)):
        d = math.dist(((sr.workers.lat[r] - sr.jobs.lat[3]) * 111.2,
                       (sr.workers.lon[r] - sr.jobs.lon[3]) * 111.2 * math.cos(
                           math.radians(sr.jobs.lat[3]))), (0, 0))
        if d < 1.9:
            assert r in w_rows
        elif d > 2.5 and r != 0:
            assert r not in w_rows


def test_a_subset_keeps_its_rows_busy_intervals_and_exclusions() -> None:
    """``take_*`` renumber busy intervals and excluded pairs to the kept rows and drop the
    rest, so a local round's solve sees the same facts about the rows it keeps."""
    from dataclasses import replace

    from bench.synthetic import synthetic_round
    from gigmarket.core.pool import take_exclusions, take_jobs, take_workers

    sr = synthetic_round(20, 6, seed=7, now=NOW)
    workers = replace(sr.workers, busy_worker=np.array([1, 4, 4, 9], np.int64),
                      busy_start=np.array([1.0, 2.0, 3.0, 4.0]),
                      busy_end=np.array([5.0, 6.0, 7.0, 8.0]))
    ex = Exclusions(np.array([1, 4, 9, 4], np.int64), np.array([0, 2, 5, 3], np.int64))
    w_rows, j_rows = np.array([4, 9, 12], np.int64), np.array([2, 3], np.int64)
    sub = take_workers(workers, w_rows)
    assert sub.ids == [workers.ids[4], workers.ids[9], workers.ids[12]]
    assert {(sub.ids[int(r)], s) for r, s in zip(sub.busy_worker, sub.busy_start,
                                                 strict=True)} == {
        (workers.ids[4], 2.0), (workers.ids[4], 3.0), (workers.ids[9], 4.0)}
    jobs = take_jobs(sr.jobs, j_rows)
    assert jobs.ids == [sr.jobs.ids[2], sr.jobs.ids[3]]
    kept = take_exclusions(ex, len(workers), len(sr.jobs), w_rows, j_rows)
    assert {(sub.ids[int(a)], jobs.ids[int(b)]) for a, b in zip(
        kept.worker_rows, kept.job_rows, strict=True)} == {
        (workers.ids[4], sr.jobs.ids[2]), (workers.ids[4], sr.jobs.ids[3])}
