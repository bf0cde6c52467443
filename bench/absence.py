"""Which rule fills more when workers step away from the screen (issue 10)?

    python bench/absence.py [--seeds 1,2] [--workers 400] [--slots 300] [--away 0.3]

Plays the same simulated day (``gigmarket.simulate``) under gigmarket's rounds with the
behaviour model sending ``--away`` of the workers away once, for each rule of
``simulate.engine.Absence``: burn the pair (before issue 10), keep it for the worker's return,
keep it and give an away worker a short offer, keep it and place present workers first. Prints
one JSON line per (seed, rule): slots, filled, fill rate, median minutes to fill, offers that
ran out while the worker was away. These are fills, not speed; a small day runs in seconds.
"""

from __future__ import annotations

import argparse
import json
import sys

from gigmarket import settings
from gigmarket.simulate.behaviour import Behaviour
from gigmarket.simulate.day import generate_day
from gigmarket.simulate.engine import Absence, Engine
from gigmarket.simulate.metrics import measure
from gigmarket.simulate.policies import GigmarketRounds


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="1,2")
    p.add_argument("--workers", type=int, default=400)
    p.add_argument("--slots", type=int, default=300)
    p.add_argument("--away", type=float, default=0.3)
    args = p.parse_args(argv)
    config = settings.load()
    market = config.markets["shiling"]
    for seed in (int(s) for s in args.seeds.split(",")):
        day = generate_day(market, config.skills, seed=seed, workers=args.workers,
                           slots=args.slots)
        behaviour = Behaviour(seed, away_share=args.away)
        for rule in Absence:
            engine = Engine(day, behaviour, GigmarketRounds(), absence=rule)
            m = measure("gigmarket", day, engine.run())
            print(json.dumps({
                "name": "absence.fill", "value": m.fill_rate, "unit": "share",
                "params": {"seed": seed, "rule": rule.value, "workers": args.workers,
                           "slots": m.slots, "filled": m.filled, "away_share": args.away,
                           "median_time_to_fill_min": m.median_time_to_fill_min,
                           "expired_away": engine.expired_away}}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
