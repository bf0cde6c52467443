"""How long one dispatch round takes, at several market sizes.

    python bench/round.py [--sizes 1000x200,10000x2000,50000x10000] [--repeat 5] [--seed 1]

Prints one JSON line per figure, e.g.::

    {"name": "round.solve", "value": 98.1, "unit": "ms",
     "params": {"workers": 10000, "jobs": 2000, "pairs": 634871, "stat": "median"}}

Each measured phase is a function ``(scenario, repeat) -> figures``, listed in ``PHASES``; a
new phase (offers written, event-loop stall…) is one more function in that list. Pools come
from ``bench.synthetic`` with a fixed seed, so runs compare. Every phase runs once untimed
first: the first touch of fresh memory is several times slower on a cold VM and would
otherwise skew a five-run median.

Figures of the pure core (``gigmarket.core.matching.plan_round``):

- ``round.candidates`` — eligibility search, costs, shortlist and reasons (``candidates_s``);
- ``round.solve`` — the min-cost flow (``solve_s``);
- ``round.plan_total`` — the whole ``plan_round`` call, including building the matches;
- ``round.pairs`` — eligible pairs in the round (a count, not a time).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.synthetic import SyntheticRound, synthetic_round
from gigmarket.core.matching import plan_round

Figure = dict[str, Any]
Phase = Callable[[SyntheticRound, int], list[Figure]]


def figure(name: str, value: float, unit: str, scenario: SyntheticRound, pairs: int) -> Figure:
    return {
        "name": name,
        "value": round(value, 3),
        "unit": unit,
        "params": {
            "workers": len(scenario.workers),
            "jobs": len(scenario.jobs),
            "pairs": pairs,
            "stat": "median",
        },
    }


def plan_phase(scenario: SyntheticRound, repeat: int) -> list[Figure]:
    """The pure round: candidates, solve, and the whole ``plan_round``."""
    s = scenario

    def run() -> tuple[float, Any]:
        t0 = time.perf_counter()
        plan = plan_round(s.workers, s.jobs, s.rules, s.now, s.exclusions)
        return time.perf_counter() - t0, plan

    run()
    runs = [run() for _ in range(repeat)]
    pairs = runs[0][1].candidate_count

    def median_ms(values: Sequence[float]) -> float:
        return statistics.median(values) * 1000

    return [
        figure("round.candidates", median_ms([p.candidates_s for _, p in runs]), "ms", s, pairs),
        figure("round.solve", median_ms([p.solve_s for _, p in runs]), "ms", s, pairs),
        figure("round.plan_total", median_ms([t for t, _ in runs]), "ms", s, pairs),
        figure("round.pairs", pairs, "pairs", s, pairs),
    ]


PHASES: list[Phase] = [plan_phase]


def parse_sizes(text: str) -> list[tuple[int, int]]:
    sizes = []
    for part in text.split(","):
        workers, _, jobs = part.strip().lower().partition("x")
        sizes.append((int(workers), int(jobs)))
    return sizes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000x200,10000x2000,50000x10000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    for n_workers, n_jobs in parse_sizes(args.sizes):
        scenario = synthetic_round(n_workers, n_jobs, seed=args.seed)
        for phase in PHASES:
            for line in phase(scenario, args.repeat):
                print(json.dumps(line, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
