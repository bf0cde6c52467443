"""``gigmarket simulate``: play a seeded market day under each policy and report.

    gigmarket simulate --compare                 # the standard shiling day, every policy
    gigmarket simulate --compare --days all      # every day type (normal, rainy, rush, …)
    gigmarket simulate --compare --days normal,rush
    gigmarket simulate --policy gigmarket --seed 7 --workers 500 --slots 400
    python -m gigmarket.simulate --compare --out ./sim-output

Prints the comparison tables, writes ``report.json`` (every day; its schema is in
docs/simulate-report.md) and ``report.html`` (the first day; ``report-<day>.html`` each other)
into ``--out``.
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
from gigmarket.simulate.day import (
    STANDARD_SEED,
    STANDARD_SLOTS,
    STANDARD_WORKERS,
    DayType,
    generate_day,
)
from gigmarket.simulate.policies import POLICY_NAMES
from gigmarket.simulate.report import across_days, page, report_json, table


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


def _day_types(text: str) -> list[DayType]:
    if text.strip() == "all":
        return list(DayType)
    out: list[DayType] = []
    for part in text.split(","):
        try:
            out.append(DayType(part.strip()))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"unknown day type {part.strip()!r}; choose from {', '.join(DayType)} or all"
            ) from None
    return list(dict.fromkeys(out))


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
    p.add_argument("--days", type=_day_types, default=[DayType.NORMAL],
                   help="day types to play, comma-separated, or 'all' "
                        f"({', '.join(DayType)}); default: normal")
    p.add_argument("--out", type=Path, default=Path("sim-output"), help="where reports go")
    p.add_argument("--config", type=Path, default=None,
                   help="config directory (default: $GIGMARKET_CONFIG, else the shipped config/)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    config_dir = args.config or settings.config_dir_from_env()
    skills, markets = settings.load_catalogue(config_dir)
    if args.market not in markets:
        print(f"unknown market {args.market!r}; known: {', '.join(sorted(markets))}",
              file=sys.stderr)
        return 2
    if args.workers < 1 or args.slots < 1:
        print("--workers and --slots must be at least 1", file=sys.stderr)
        return 2
    names = list(args.policy) if args.policy else list(POLICY_NAMES)
    results = []
    args.out.mkdir(parents=True, exist_ok=True)
    written = [args.out / "report.json"]
    for k, kind in enumerate(args.days):
        day = generate_day(markets[args.market], skills, seed=args.seed, workers=args.workers,
                           slots=args.slots, kind=kind)
        bar = None if args.no_progress else ProgressBar(names)
        try:
            result = compare(day, names, progress=bar)
        finally:
            if bar:
                bar.close()
        results.append((day, result.metrics, result.runtime))
        print(f"\n== {kind} day == {day.market.name} ({day.market.id}) {day.date_iso()} "
              f"seed {day.seed}: {len(day.workers)} workers, {len(day.jobs)} jobs, "
              f"{int(day.jobs.headcount.sum())} slots")
        print(table(result.metrics))
        html_path = args.out / ("report.html" if k == 0 else f"report-{kind}.html")
        html_path.write_text(page(day, result.metrics), encoding="utf-8")
        written.append(html_path)
    if len(results) > 1:
        print("\n" + across_days(results))
    report = report_json(results)
    (args.out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n",
                                          encoding="utf-8")
    print(f"\nwrote {', '.join(str(p) for p in written)}")
    return 1 if any(m.violations for _, ms, _ in results for m in ms.values()) else 0
