"""The seeded market day: who checks in when and where, and which jobs are posted.

A :class:`Day` is drawn once from ``(market, seed, size)`` and then replayed under every policy,
so all policies face the same people and the same jobs. The distributions below are
assumptions, stated with their reasons so a reader can disagree with a number rather than
with a black box. The seeds (Zhongshan, Yongzhou, Huangshan, Hebei, Shandong plans) describe
the service, not its statistics; the figures come from how day-labour markets (零工市场,
"早市") are commonly described and are meant to be plausible, not measured.

Workers
  - **Arrival**: 62 % in the morning peak, normal around 07:00 (σ 45 min) clipped to
    05:30–09:30 — day labour is sold at dawn; 38 % later, 09:30–16:00, thinning out through the
    day (exponential, mean 2.5 h, truncated).
  - **Patience**: a worker with no work leaves the pool after a lognormal wait (median 4.5 h,
    σ 0.4), and never after 20:00.
  - **Working hours**: available for work until 18:00 (55 %), 20:00 (25 %), 22:00 (10 %) or only
    until 15:00 (10 %, e.g. carers of children or elders), and always for at least two hours
    after arriving.
  - **Age and key groups**: 35 % are older workers (50+), the backbone of town labour markets.
    15 % overall are manager-verified 重点群体: 25 % of older workers (mostly ``older_worker``)
    and 9.5 % of the others (long-term unemployed, hard to employ, disabled, …).
  - **Kiosk or phone**: 60 % of older workers and 40 % of younger key-group workers check in at a
    kiosk (no smartphone, or prefer the hall); 25 % of the rest do. Kiosk users are located at
    their station; phone users at home.
  - **Where**: homes scatter around the market's stations (normal, σ 1.2 km), since stations are
    sited where people live (the seeds' "家门口" service points).
  - **Skills**: 1–3 skills (40/40/20 %) weighted towards Shiling's trades (leather goods and
    machine sewing — 狮岭 is "皮具之都" — loading, sorting and packing); 85 % of those holding
    a certificate-only skill hold the certificate.
  - **Minimum wage**: lognormal around 26 yuan/h (σ 0.12), never below the market's legal floor.
  - **Rating / reliability**: 30 % new (3.0 and 1.0); the rest rating normal 4.2 (σ 0.5),
    reliability Beta(19, 1) (mean 0.95).

Jobs
  - **Headcount** 1–10, mostly small (34 % one worker, mean ≈ 3.1); jobs are posted until the
    day's slots reach the requested total.
  - **Posted**: 60 % in the morning, normal around 06:50 (σ 40 min) clipped to 05:30–09:30;
    40 % uniform over 09:30–16:30.
  - **Start**: 65 % instant (即时快招: 15–90 min after posting), 35 % later today (2–6 h after);
    never after 18:30. **Duration**: 8 h (45 %), 4 h (30 %), 2–3 h (25 %), cut to end by
    21:00 (at least 2 h).
  - **Where**: around the stations with a wider spread (σ 1.6 km): workshops and sites lie in
    the villages the stations serve.
  - **Wage**: a per-skill hourly base (loading and building 30, leather 28, electrician 45 yuan/h,
    …) × lognormal (σ 0.12), at or above the legal floor; 8-hour jobs are paid by the day, the
    rest by the hour. Piece rates are left out.
  - **Cancellation**: 3 % of jobs are cancelled by the employer between posting and start.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from dataclasses import dataclass
from typing import Final
from zoneinfo import ZoneInfo

import numpy as np

from gigmarket.core.market import Market, Skill
from gigmarket.core.model import HOURS_PER_DAY, KeyGroup, Money, WageUnit, hourly_fen
from gigmarket.core.pool import BOOL, F64, I64, U64

#: The standard day: a Monday in the season the SPEC's examples use.
STANDARD_DATE: Final = dt.date(2026, 11, 23)
STANDARD_SEED: Final = 20261123
STANDARD_WORKERS: Final = 2000
STANDARD_SLOTS: Final = 1500

#: The simulated clock runs from 05:00 to 22:00 local time.
DAY_OPENS_H: Final = 5.0
DAY_CLOSES_H: Final = 22.0

#: Relative share of workers holding each skill, and of jobs asking for it.
SKILL_SUPPLY: Final = {
    "loading": 0.45, "sorting_packing": 0.35, "leather_craft": 0.25, "cleaning": 0.25,
    "construction_helper": 0.20, "sewing_machine": 0.15, "kitchen_helper": 0.12,
    "quality_check": 0.10, "driver_delivery": 0.08, "caregiver": 0.06, "electrician": 0.04,
    "welder": 0.03,
}
SKILL_DEMAND: Final = {
    "loading": 0.20, "leather_craft": 0.18, "sorting_packing": 0.17, "sewing_machine": 0.12,
    "cleaning": 0.08, "construction_helper": 0.08, "quality_check": 0.05,
    "kitchen_helper": 0.05, "caregiver": 0.02, "electrician": 0.02, "driver_delivery": 0.02,
    "welder": 0.01,
}
#: Hourly base pay in yuan by skill (Huadu day-labour rates, 2024–25 ballpark).
SKILL_WAGE_YUAN_H: Final = {
    "loading": 30.0, "sorting_packing": 25.0, "leather_craft": 28.0, "cleaning": 25.0,
    "construction_helper": 30.0, "sewing_machine": 30.0, "kitchen_helper": 25.0,
    "quality_check": 26.0, "driver_delivery": 30.0, "caregiver": 28.0, "electrician": 45.0,
    "welder": 42.0,
}
class DayType(enum.StrEnum):
    """The kinds of day the comparison plays (issue 14): each stresses the policy differently."""

    #: The standard day above.
    NORMAL = "normal"
    #: Rain keeps half the workers at home; the jobs are those of a normal day.
    RAINY = "rainy"
    #: A factory rush: three times the slots for the same workers (key groups compete hardest).
    RUSH = "rush"
    #: Work out in the villages: jobs scatter twice as wide (σ 3.2 km), so many lie beyond the
    #: service circle of the workers who could take them (the case expanding reach is for).
    OUTSKIRTS = "outskirts"


@dataclass(frozen=True, slots=True)
class DayShape:
    workers: float = 1.0
    slots: float = 1.0
    job_spread_km: float = 1.6


DAY_SHAPES: Final = {
    DayType.NORMAL: DayShape(),
    DayType.RAINY: DayShape(workers=0.5),
    DayType.RUSH: DayShape(slots=3.0),
    DayType.OUTSKIRTS: DayShape(job_spread_km=3.2),
}

_UNLISTED_SHARE: Final = 0.08
_UNLISTED_WAGE: Final = 27.0

_HEADCOUNT_P: Final = np.array([0.34, 0.20, 0.13, 0.09, 0.08, 0.05, 0.03, 0.03, 0.02, 0.03])
_OTHER_KEY_GROUPS: Final = (
    (KeyGroup.LONG_TERM_UNEMPLOYED, 0.25), (KeyGroup.HARD_TO_EMPLOY, 0.20),
    (KeyGroup.DISABLED, 0.15), (KeyGroup.ZERO_EMPLOYMENT_HOUSEHOLD, 0.10),
    (KeyGroup.VETERAN, 0.10), (KeyGroup.GRADUATE, 0.10), (KeyGroup.POVERTY_ALLEVIATED, 0.10),
)


@dataclass(frozen=True, slots=True)
class DayWorkers:
    """Everybody who checks in today, one row each (row = the worker's index all day)."""

    ids: list[str]
    arrive: F64
    #: Leaves the pool at this moment if still without work.
    depart: F64
    #: Latest end of a job the worker will take (the check-in's ``available_until``).
    available_until: F64
    lat: F64
    lon: F64
    skills: U64
    certs: U64
    min_hourly_fen: F64
    key_group: BOOL
    key_group_kind: list[str]
    older: BOOL
    kiosk: BOOL
    rating: F64
    reliability: F64

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, slots=True)
class DayJobs:
    """Every job posted today, one row each."""

    ids: list[str]
    employer_ids: list[str]
    posted: F64
    start: F64
    end: F64
    #: When the employer cancels it; ``inf`` when never.
    cancel_at: F64
    lat: F64
    lon: F64
    skills: U64
    certs_required: U64
    wage_fen: I64
    #: ``True``: paid by the day; ``False``: by the hour.
    per_day: BOOL
    hourly_fen: F64
    #: What one worker earns for the whole job, fen.
    pay_fen: F64
    headcount: I64
    employer_rating: F64
    #: The simulated day has no employer who lets workers down, so every one is 1.0.
    employer_reliability: F64
    instant: BOOL

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, slots=True)
class Day:
    market: Market
    seed: int
    opens: float
    closes: float
    workers: DayWorkers
    jobs: DayJobs
    #: Which :class:`DayType` it was drawn as.
    kind: str = "normal"

    def clock(self, t: float) -> str:
        """Epoch seconds as local ``HH:MM`` for reports."""
        zone = ZoneInfo(self.market.timezone)
        return dt.datetime.fromtimestamp(t, zone).strftime("%H:%M")

    def date_iso(self) -> str:
        zone = ZoneInfo(self.market.timezone)
        return dt.datetime.fromtimestamp(self.opens, zone).date().isoformat()

    @property
    def midnight(self) -> float:
        return self.opens - DAY_OPENS_H * 3600


def _day_epoch(market: Market, date: dt.date) -> float:
    midnight = dt.datetime.combine(date, dt.time(0, 0), ZoneInfo(market.timezone))
    return midnight.timestamp()


def _shares(codes: tuple[str, ...], table: dict[str, float]) -> F64:
    w = np.array([table.get(c, _UNLISTED_SHARE) for c in codes], np.float64)
    return np.asarray(w / w.sum(), np.float64)


def _around(
    rng: np.random.Generator, market: Market, n: int, sigma_km: float
) -> tuple[I64, F64, F64]:
    """Points scattered around the market's stations (or its centre), kept inside its bounds."""
    if market.stations:
        s_lat = np.array([s.lat for s in market.stations])
        s_lon = np.array([s.lon for s in market.stations])
    else:
        s_lat, s_lon = np.array([market.centre.lat]), np.array([market.centre.lon])
    which = rng.integers(0, len(s_lat), n)
    km_lat = 111.195
    km_lon = km_lat * math.cos(math.radians(market.centre.lat))
    lat = s_lat[which] + rng.normal(0, sigma_km, n) / km_lat
    lon = s_lon[which] + rng.normal(0, sigma_km, n) / km_lon
    b = market.bounds
    return (
        np.asarray(which, np.int64),
        np.clip(lat, b.south, b.north),
        np.clip(lon, b.west, b.east),
    )


def _pick_skills(rng: np.random.Generator, p: F64, counts: I64) -> U64:
    masks = np.zeros(len(counts), np.uint64)
    for i, k in enumerate(counts):
        chosen = rng.choice(len(p), size=int(min(k, len(p))), replace=False, p=p)
        masks[i] = sum(1 << int(c) for c in chosen)
    return masks


def _draw_workers(
    rng: np.random.Generator, market: Market, skills: dict[str, Skill], n: int, midnight: float
) -> DayWorkers:
    h = 3600.0
    morning = rng.random(n) < 0.62
    t_morning = np.clip(rng.normal(7.0, 0.75, n), 5.5, 9.5)
    # Truncated exponential by inversion: mean 2.5 h, within 9:30–16:00.
    span = 16.0 - 9.5
    u = rng.random(n)
    t_later = 9.5 - 2.5 * np.log(1 - u * (1 - math.exp(-span / 2.5)))
    arrive_h = np.where(morning, t_morning, t_later)
    arrive = midnight + h * arrive_h

    until_h = rng.choice([18.0, 20.0, 22.0, 15.0], size=n, p=[0.55, 0.25, 0.10, 0.10])
    # Nobody comes to the market for less than two hours of possible work.
    available_until = midnight + h * np.maximum(until_h, np.ceil(arrive_h + 2.0))
    patience = h * 4.5 * np.exp(0.4 * rng.standard_normal(n))
    depart = np.minimum(np.minimum(arrive + patience, available_until), midnight + 20 * h)
    depart = np.maximum(depart, arrive + 600.0)

    older = rng.random(n) < 0.35
    key_group = rng.random(n) < np.where(older, 0.25, 0.095)
    kinds: list[str] = []
    other_kinds = [k.value for k, _ in _OTHER_KEY_GROUPS]
    other_p = np.array([p for _, p in _OTHER_KEY_GROUPS])
    older_kind = rng.random(n) < 0.7
    other_pick = rng.choice(len(other_kinds), size=n, p=other_p / other_p.sum())
    for i in range(n):
        if not key_group[i]:
            kinds.append("")
        elif older[i] and older_kind[i]:
            kinds.append(KeyGroup.OLDER_WORKER.value)
        else:
            kinds.append(other_kinds[int(other_pick[i])])
    kiosk = rng.random(n) < np.where(older, 0.60, np.where(key_group, 0.40, 0.25))

    station, lat, lon = _around(rng, market, n, 1.2)
    if market.stations:
        s_lat = np.array([s.lat for s in market.stations])
        s_lon = np.array([s.lon for s in market.stations])
        lat = np.where(kiosk, s_lat[station], lat)
        lon = np.where(kiosk, s_lon[station], lon)

    codes = market.skills
    counts = rng.choice([1, 2, 3], size=n, p=[0.4, 0.4, 0.2])
    held = _pick_skills(rng, _shares(codes, SKILL_SUPPLY), np.asarray(counts, np.int64))
    cert_bits = sum(
        (1 << i for i, c in enumerate(codes) if skills[c].certificate_required), 0
    )
    has_cert = rng.random(n) < 0.85
    certs = np.where(has_cert, held & np.uint64(cert_bits), np.uint64(0)).astype(np.uint64)

    floor = market.rules.min_hourly_wage_fen
    min_hourly = np.maximum(np.round(2600 * np.exp(0.12 * rng.standard_normal(n)), -1), floor)

    new = rng.random(n) < 0.30
    rating = np.where(new, 3.0, np.clip(rng.normal(4.2, 0.5, n), 1.0, 5.0))
    reliability = np.where(new, 1.0, rng.beta(19, 1, n))
    return DayWorkers(
        ids=[f"w{i:05d}" for i in range(n)],
        arrive=np.asarray(arrive, np.float64),
        depart=np.asarray(depart, np.float64),
        available_until=np.asarray(available_until, np.float64),
        lat=lat,
        lon=lon,
        skills=held,
        certs=certs,
        min_hourly_fen=np.asarray(min_hourly, np.float64),
        key_group=np.asarray(key_group, np.bool_),
        key_group_kind=kinds,
        older=np.asarray(older, np.bool_),
        kiosk=np.asarray(kiosk, np.bool_),
        rating=np.asarray(rating, np.float64),
        reliability=np.asarray(reliability, np.float64),
    )


def _draw_jobs(
    rng: np.random.Generator, market: Market, skills: dict[str, Skill], slots: int,
    midnight: float, spread_km: float = 1.6,
) -> DayJobs:
    h = 3600.0
    heads = rng.choice(np.arange(1, 11), size=max(8, slots), p=_HEADCOUNT_P)
    total = np.cumsum(heads)
    m = int(np.searchsorted(total, slots) + 1)
    heads = heads[:m].copy()
    heads[-1] -= int(total[m - 1] - slots)

    morning = rng.random(m) < 0.60
    posted_h = np.where(
        morning, np.clip(rng.normal(6.83, 0.67, m), 5.5, 9.5), rng.uniform(9.5, 16.5, m)
    )
    posted_h = np.sort(posted_h)  # ids in posting order reads naturally in the event log
    instant = rng.random(m) < 0.65
    lead_h = np.where(instant, rng.uniform(0.25, 1.5, m), rng.uniform(2.0, 6.0, m))
    start_h = np.minimum(posted_h + lead_h, 18.5)
    start_h = np.maximum(start_h, posted_h + 0.25)
    duration_h = rng.choice([8.0, 4.0, 2.0, 3.0], size=m, p=[0.45, 0.30, 0.125, 0.125])
    # Work ends by 21:00: a job posted for the afternoon is the rest of the day, not a night.
    duration_h = np.maximum(np.minimum(duration_h, np.floor(21.0 - start_h)), 2.0)

    cancelled = rng.random(m) < 0.03
    cancel_h = posted_h + rng.random(m) * (start_h - posted_h)

    codes = market.skills
    p = _shares(codes, SKILL_DEMAND)
    two = rng.random(m) < 0.10
    masks = _pick_skills(rng, p, np.where(two, 2, 1).astype(np.int64))
    cert_bits = sum(
        (1 << i for i, c in enumerate(codes) if skills[c].certificate_required), 0
    )
    certs_required = (masks & np.uint64(cert_bits)).astype(np.uint64)
    # A job pays the best base among its skills: the scarcer trade sets the rate.
    base = np.zeros(m)
    for i, c in enumerate(codes):
        has = (masks >> np.uint64(i)) & np.uint64(1) == 1
        base = np.where(has, np.maximum(base, SKILL_WAGE_YUAN_H.get(c, _UNLISTED_WAGE)), base)
    hourly_yuan = base * np.exp(0.12 * rng.standard_normal(m))
    per_day = duration_h >= HOURS_PER_DAY
    rules = market.rules
    wage_fen = np.where(
        per_day,
        np.maximum(np.round(hourly_yuan * HOURS_PER_DAY, -1) * 100, rules.min_daily_wage_fen),
        np.maximum(np.round(hourly_yuan * 2) / 2 * 100, rules.min_hourly_wage_fen),
    ).astype(np.int64)
    hourly = np.array(
        [
            hourly_fen(Money(int(f), WageUnit.DAY if d else WageUnit.HOUR), float(dur)) or 0.0
            for f, d, dur in zip(wage_fen, per_day, duration_h, strict=True)
        ],
        np.float64,
    )
    pay = np.where(per_day, wage_fen, wage_fen * duration_h).astype(np.float64)

    _, lat, lon = _around(rng, market, m, spread_km)
    employers = rng.integers(0, max(1, m // 3), m)
    return DayJobs(
        ids=[f"j{i:04d}" for i in range(m)],
        employer_ids=[f"e{int(e):04d}" for e in employers],
        posted=midnight + h * posted_h,
        start=midnight + h * start_h,
        end=midnight + h * (start_h + duration_h),
        cancel_at=np.where(cancelled, midnight + h * cancel_h, np.inf),
        lat=lat,
        lon=lon,
        skills=masks,
        certs_required=certs_required,
        wage_fen=wage_fen,
        per_day=np.asarray(per_day, np.bool_),
        hourly_fen=hourly,
        pay_fen=pay,
        headcount=np.asarray(heads, np.int64),
        employer_rating=np.clip(rng.normal(4.3, 0.4, m), 1.0, 5.0),
        employer_reliability=np.ones(m),
        instant=np.asarray(instant, np.bool_),
    )


def generate_day(
    market: Market,
    skills: dict[str, Skill],
    *,
    seed: int = STANDARD_SEED,
    workers: int = STANDARD_WORKERS,
    slots: int = STANDARD_SLOTS,
    date: dt.date = STANDARD_DATE,
    kind: DayType | str = "normal",
) -> Day:
    """Draw the day. Workers and jobs use separate streams, so resizing one keeps the other.

    ``workers`` and ``slots`` are a normal day's; ``kind`` (:class:`DayType`) scales them.
    """
    kind = DayType(kind)
    if workers < 1 or slots < 1:
        raise ValueError("a day needs at least one worker and one slot")
    shape = DAY_SHAPES[kind]
    workers = max(1, round(workers * shape.workers))
    slots = max(1, round(slots * shape.slots))
    midnight = _day_epoch(market, date)
    return Day(
        market=market,
        seed=seed,
        opens=midnight + DAY_OPENS_H * 3600,
        closes=midnight + DAY_CLOSES_H * 3600,
        workers=_draw_workers(np.random.default_rng([seed, 1]), market, skills, workers, midnight),
        jobs=_draw_jobs(np.random.default_rng([seed, 2]), market, skills, slots, midnight,
                        shape.job_spread_km),
        kind=kind.value,
    )
