"""Seeded, realistic-looking worker and job pools for benchmarks and load tests.

The picture is Shiling (狮岭, Huadu, Guangzhou), a leather-goods town: workers gather at about
eight service stations (零工驿站) and a quarter of them wait anywhere within ~8 km; jobs come
from a dozen workshop clusters and from anywhere in town. Most people hold one to three of
eight skills; electricians need a certificate that about 30 % of them have. Workers' minimum
wages are mostly 150-300 yuan a day; jobs pay about 180-400 a day or 25-45 an hour (a few pay
by the piece), start within the next ten hours and want 1-5 people.

Same seed, same pools: ``synthetic_round(10_000, 2_000, seed=1)`` is a fixed benchmark input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Final

import numpy as np
from scipy.spatial import cKDTree

from gigmarket.core.geo import KM_PER_DEG_LAT, km_per_deg_lon
from gigmarket.core.market import Rules
from gigmarket.core.pool import F64, Exclusions, JobPool, WorkerPool

#: Shiling town centre.
CENTRE: Final = (23.4646, 113.1532)
#: Bit i of a skill mask is ``SKILLS[i]``.
SKILLS: Final = (
    "porter",
    "packer",
    "cleaner",
    "sewing",
    "construction",
    "kitchen",
    "driver",
    "electrician",
)
CERTIFIED: Final = frozenset({"electrician"})
#: Share of workers holding each skill, and of jobs asking for it first.
_HELD: Final = np.array([0.45, 0.40, 0.30, 0.25, 0.25, 0.15, 0.10, 0.08])
_ASKED: Final = np.array([0.25, 0.22, 0.14, 0.14, 0.10, 0.07, 0.04, 0.04])
_CERT_SHARE: Final = 0.3
#: A fixed instant (2025-06-15 08:26 +08:00), so seeded pools are identical run to run.
DEFAULT_NOW: Final = 1_749_947_160.0


@dataclass(frozen=True, slots=True)
class SyntheticRound:
    """Everything one dispatch round needs, from one seed."""

    workers: WorkerPool
    jobs: JobPool
    exclusions: Exclusions
    now: float
    rules: Rules = field(default_factory=Rules)
    skills: tuple[str, ...] = SKILLS


def _scatter(
    rng: np.random.Generator,
    n: int,
    hubs: F64,
    hub_share: float,
    hub_sd_km: float,
    radius_km: float,
) -> tuple[F64, F64]:
    """``n`` points (km east, km north): ``hub_share`` near a hub, the rest anywhere in a disc."""
    near = rng.random(n) < hub_share
    xy = np.empty((n, 2))
    hub = rng.integers(0, len(hubs), n)
    xy[near] = hubs[hub[near]] + rng.normal(0.0, hub_sd_km, (int(near.sum()), 2))
    far = ~near
    r = radius_km * np.sqrt(rng.random(int(far.sum())))
    a = rng.random(int(far.sum())) * 2 * math.pi
    xy[far, 0] = r * np.cos(a)
    xy[far, 1] = r * np.sin(a)
    return xy[:, 0], xy[:, 1]


def _to_latlon(east_km: F64, north_km: F64) -> tuple[F64, F64]:
    lat0, lon0 = CENTRE
    return lat0 + north_km / KM_PER_DEG_LAT, lon0 + east_km / km_per_deg_lon(lat0)


def _hubs(rng: np.random.Generator, n: int, lo_km: float, hi_km: float) -> F64:
    r = rng.uniform(lo_km, hi_km, n)
    a = rng.random(n) * 2 * math.pi
    return np.stack([r * np.cos(a), r * np.sin(a)], axis=1)


def synthetic_workers(rng: np.random.Generator, n: int, now: float) -> WorkerPool:
    stations = _hubs(rng, 8, 0.5, 6.0)
    east, north = _scatter(rng, n, stations, 0.75, 0.8, 8.0)
    lat, lon = _to_latlon(east, north)
    held = rng.random((n, len(SKILLS))) < _HELD
    held[~held.any(axis=1), 0] = True  # everybody can at least carry
    bits = np.uint64(1) << np.arange(len(SKILLS), dtype=np.uint64)
    skills = (held * bits).sum(axis=1, dtype=np.uint64)
    cert_bits = np.uint64(sum(1 << SKILLS.index(c) for c in CERTIFIED))
    certified = rng.random(n) < _CERT_SHARE
    certs = np.where(certified, skills & cert_bits, np.uint64(0)).astype(np.uint64)
    daily_yuan = np.round(rng.uniform(150, 300, n), -1)
    min_hourly = np.where(rng.random(n) < 0.1, 0.0, daily_yuan * 100 / 8)
    until = np.where(rng.random(n) < 0.3, now + rng.uniform(4, 14, n) * 3600, np.inf)
    busy = np.flatnonzero(rng.random(n) < 0.05).astype(np.int64)
    busy_start = now + rng.uniform(1, 8, len(busy)) * 3600
    return WorkerPool(
        ids=[f"w{i}" for i in range(n)],
        lat=lat,
        lon=lon,
        skills=skills,
        certs=certs,
        min_hourly_fen=min_hourly,
        available_until=until,
        waited_s=np.minimum(rng.exponential(3600.0, n), 6 * 3600.0),
        key_group=rng.random(n) < 0.08,
        rating=np.where(rng.random(n) < 0.25, 3.0, np.clip(rng.normal(4.3, 0.5, n), 1, 5)),
        reliability=np.where(rng.random(n) < 0.2, 1.0, rng.beta(8, 1.5, n)),
        earned_today_fen=np.where(rng.random(n) < 0.8, 0.0, rng.uniform(8000, 40000, n).round()),
        busy_worker=busy,
        busy_start=busy_start,
        busy_end=busy_start + rng.uniform(2, 8, len(busy)) * 3600,
    )


def synthetic_jobs(
    rng: np.random.Generator, n: int, now: float, headcount: tuple[int, int] = (1, 5)
) -> JobPool:
    sites = _hubs(rng, 12, 1.0, 7.0)
    east, north = _scatter(rng, n, sites, 0.5, 1.0, 8.0)
    lat, lon = _to_latlon(east, north)
    first = rng.choice(len(SKILLS), n, p=_ASKED / _ASKED.sum())
    second = np.where(
        rng.random(n) < 0.15, rng.choice(len(SKILLS), n, p=_ASKED / _ASKED.sum()), first
    )
    skills = (np.uint64(1) << first.astype(np.uint64)) | (np.uint64(1) << second.astype(np.uint64))
    cert_bits = np.uint64(sum(1 << SKILLS.index(c) for c in CERTIFIED))
    lo, hi = headcount
    sizes = np.arange(lo, hi + 1)
    weights = 1.0 / sizes
    slots = rng.choice(sizes, n, p=weights / weights.sum()).astype(np.int64)
    soon = rng.random(n) < 0.05
    start = now + np.where(soon, rng.uniform(0, 600, n), rng.uniform(0, 10 * 3600, n))
    hours = rng.choice(np.array([2.0, 3.0, 4.0, 6.0, 8.0, 10.0]), n)
    unit = rng.random(n)
    daily_fen = np.round(rng.uniform(180, 400, n), -1) * 100
    hourly_fen = np.round(rng.uniform(25, 45, n)) * 100
    pay = np.where(
        unit < 0.55,
        daily_fen / np.clip(hours, 1, 8),
        np.where(unit < 0.95, hourly_fen, np.nan),
    )
    return JobPool(
        ids=[f"j{i}" for i in range(n)],
        employer_ids=[f"e{k}" for k in rng.integers(0, max(n // 3, 1), n)],
        lat=lat,
        lon=lon,
        skills=skills,
        certs_required=skills & cert_bits,
        hourly_fen=pay,
        start_at=start,
        end_at=start + hours * 3600,
        slots=slots,
        posted_at=now - rng.uniform(0, 1800, n),
        employer_rating=np.clip(rng.normal(4.2, 0.5, n), 1, 5),
        # Most employers have never let anyone down; one in ten has, to some degree.
        employer_reliability=np.where(rng.random(n) < 0.1, rng.uniform(0.3, 0.95, n), 1.0),
    )


def synthetic_round(
    n_workers: int,
    n_jobs: int,
    *,
    seed: int = 0,
    now: float = DEFAULT_NOW,
    headcount: tuple[int, int] = (1, 5),
    rules: Rules | None = None,
) -> SyntheticRound:
    """A round's input: pools, and declined pairs as exclusions.

    One worker in twenty has declined (or let expire) one of the three jobs nearest them,
    as happens in a running market: exclusions that actually remove candidates.
    """
    rng = np.random.default_rng(seed)
    workers = synthetic_workers(rng, n_workers, now)
    jobs = synthetic_jobs(rng, n_jobs, now, headcount)
    n_ex = n_workers // 20 if n_jobs >= 3 else 0
    declined_by = rng.choice(n_workers, n_ex, replace=False) if n_ex else np.zeros(0, np.int64)
    lat0 = CENTRE[0]
    nearest = (
        cKDTree(np.stack([jobs.lon * math.cos(math.radians(lat0)), jobs.lat], axis=1)).query(
            np.stack([workers.lon * math.cos(math.radians(lat0)), workers.lat], axis=1)[
                declined_by
            ],
            k=3,
        )[1]
        if n_ex
        else np.zeros((0, 3), np.int64)
    )
    declined = nearest[np.arange(n_ex), rng.integers(0, 3, n_ex)]
    exclusions = Exclusions(declined_by.astype(np.int64), np.asarray(declined, np.int64))
    return SyntheticRound(workers, jobs, exclusions, now, rules or Rules())
