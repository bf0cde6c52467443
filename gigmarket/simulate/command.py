"""``gigmarket simulate``: play a seeded market day under each policy and report.

    gigmarket simulate --compare                 # the standard shiling day, every policy
    gigmarket simulate --policy gigmarket --seed 7 --workers 500 --slots 400
    python -m gigmarket.simulate --compare --out ./sim-output

Prints the comparison table, writes ``report.json`` and ``report.html`` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TextIO

from gigmarket import settings
from gigmarket.simulate.compare import compare
from gigmarket.simulate.day import STANDARD_SEED, STANDARD_SLOTS, STANDARD_WORKERS, generate_day
from gigmarket.simulate.policies import POLICY_NAMES
from gigmarket.simulate.report import as_json, page, table


class ProgressBar:
    """A one-line bar on stderr, redrawn in place; silent when stderr is not a terminal."""

    def __init__(self, names: list[str], stream: TextIO = sys.stderr, width: int = 30) -> None:
        self.names, self.stream, self.width = names, stream, width
        self.live = stream.isatty()
        self.started = time.monotonic()

    def __call__(self, name: str, share: float) -> None:
        done = (self.names.index(name) + share) / len(self.names)
        filled = round(self.width * done)
        line = (f"\r[{'#' * filled}{'.' * (self.width - filled)}] {100 * done:5.1f}%  "
                f"{name:<10} {time.monotonic() - self.started:5.0f}s")
        if self.live:
            self.stream.write(line)
            self.stream.flush()
        elif share >= 1.0:
            self.stream.write(line.lstrip("\r") + "\n")

    def close(self) -> None:
        if self.live:
            self.stream.write("\n")
            self.stream.flush()


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gigmarket simulate",
        description="Simulate a seeded market day and compare dispatch policies.",
    )
    p.add_argument("--market", default="shiling", help="market id in config/markets/")
    p.add_argument("--seed", type=int, default=STANDARD_SEED)
    p.add_argument("--workers", type=int, default=STANDARD_WORKERS, help="workers checking in")
    p.add_argument("--slots", type=int, default=STANDARD_SLOTS, help="job slots posted")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--compare", action="store_true",
                       help="run every policy (the default when no --policy is given)")
    which.add_argument("--policy", choices=POLICY_NAMES, action="append",
                       help="run only this policy (repeatable)")
    p.add_argument("--out", type=Path, default=Path("sim-output"), help="where reports go")
    p.add_argument("--config", type=Path, default=None,
                   help="config directory (default: the project's config/)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    config_dir = args.config or settings.default_config_dir()
    skills, markets = settings.load_catalogue(config_dir)
    if args.market not in markets:
        print(f"unknown market {args.market!r}; known: {', '.join(sorted(markets))}",
              file=sys.stderr)
        return 2
    if args.workers < 1 or args.slots < 1:
        print("--workers and --slots must be at least 1", file=sys.stderr)
        return 2
    names = list(args.policy) if args.policy else list(POLICY_NAMES)
    day = generate_day(markets[args.market], skills, seed=args.seed, workers=args.workers,
                       slots=args.slots)
    bar = None if args.no_progress else ProgressBar(names)
    try:
        result = compare(day, names, progress=bar)
    finally:
        if bar:
            bar.close()

    print(f"{day.market.name} ({day.market.id}) {day.date_iso()} seed {day.seed}: "
          f"{len(day.workers)} workers, {len(day.jobs)} jobs, "
          f"{int(day.jobs.headcount.sum())} slots")
    print(table(result.metrics))
    args.out.mkdir(parents=True, exist_ok=True)
    report = as_json(day, result.metrics, result.runtime)
    (args.out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n",
                                          encoding="utf-8")
    (args.out / "report.html").write_text(page(day, result.metrics), encoding="utf-8")
    print(f"\nwrote {args.out / 'report.json'} and {args.out / 'report.html'}")
    return 1 if any(m.violations for m in result.metrics.values()) else 0
