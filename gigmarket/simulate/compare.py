"""Running policies over one day: the piece the command and the tests share."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from gigmarket.core.market import Market, Skill
from gigmarket.simulate.behaviour import Behaviour
from gigmarket.simulate.day import Day, DayType, generate_day
from gigmarket.simulate.engine import Engine
from gigmarket.simulate.events import Event
from gigmarket.simulate.hindsight import hindsight_log
from gigmarket.simulate.metrics import PolicyMetrics, measure
from gigmarket.simulate.policies import (
    POLICY_NAMES,
    POLICY_REACH,
    DailyLottery,
    FirstComeClaim,
    GigmarketRounds,
    GreedyNearest,
    OfferPolicy,
)

#: ``(policy name, share of its day done)``
Progress = Callable[[str, float], None]


def online_policy(name: str, day: Day, behaviour: Behaviour) -> OfferPolicy | FirstComeClaim:
    if name == "gigmarket":
        return GigmarketRounds()
    if name == "greedy":
        return GreedyNearest()
    if name in ("first_come", "first_come_circle"):
        return FirstComeClaim(name)
    if name in ("lottery", "lottery_circle"):
        rows = np.arange(len(day.workers), dtype=np.int64)
        places = DailyLottery.draw(day.workers.arrive, day.midnight,
                                   behaviour.lottery_tickets(rows))
        return DailyLottery(places, name)
    raise ValueError(f"unknown policy {name!r}; choose from {', '.join(POLICY_NAMES)}")


@dataclass(slots=True)
class Comparison:
    day: Day
    metrics: dict[str, PolicyMetrics] = field(default_factory=dict)
    logs: dict[str, list[Event]] = field(default_factory=dict)
    #: Wall-clock figures per policy; they vary run to run and stay out of the metrics.
    runtime: dict[str, dict[str, float]] = field(default_factory=dict)


def compare_days(
    market: Market, skills: dict[str, Skill], kinds: Sequence[DayType], *, seed: int,
    workers: int, slots: int, names: Sequence[str] = POLICY_NAMES,
    progress: Progress | None = None,
) -> list[Comparison]:
    """Each day type drawn from the same seed and sizes, every policy played on each."""
    return [compare(generate_day(market, skills, seed=seed, workers=workers, slots=slots,
                                 kind=kind), names, progress) for kind in kinds]


def compare(
    day: Day, names: Sequence[str] = POLICY_NAMES, progress: Progress | None = None
) -> Comparison:
    """Play ``day`` under each named policy and measure each from its own event log."""
    behaviour = Behaviour(day.seed)
    out = Comparison(day)
    for name in names:
        t0 = time.perf_counter()
        if name.startswith("hindsight"):
            if progress:
                progress(name, 0.0)
            log = hindsight_log(day, behaviour, POLICY_REACH[name])
            rounds, round_s = 0, [0.0]
        else:
            def tell(share: float, name: str = name) -> None:
                if progress:
                    progress(name, share)

            engine = Engine(day, behaviour, online_policy(name, day, behaviour), progress=tell)
            log = engine.run()
            rounds, round_s = engine.stats.rounds, engine.stats.round_seconds or [0.0]
        if progress:
            progress(name, 1.0)
        out.logs[name] = log
        out.metrics[name] = measure(name, day, log)
        out.runtime[name] = {
            "seconds": round(time.perf_counter() - t0, 3),
            "rounds": rounds,
            "median_round_ms": round(1000 * float(np.median(round_s)), 3),
            "max_round_ms": round(1000 * float(np.max(round_s)), 3),
        }
    return out
