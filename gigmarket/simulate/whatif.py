"""What if the market ran on other rules? The same seeded day played under the rules in force
and under a proposed change, measured alike (issue 12: the console's what-if).

Run in a child process (``services.whatif``): the solver holds the GIL for whole rounds, so
a thread would stall the web process's event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from gigmarket.core.market import Market, Skill

#: The figures compared, from ``metrics.PolicyMetrics``.
FIGURES = ("slots", "filled", "fill_rate", "median_time_to_fill_min", "mean_travel_min",
           "p90_travel_min", "key_group_rate", "general_rate", "offers_per_fill",
           "filled_by_hour")


def play(current: Market, proposed: Market, skills: dict[str, Skill], *, seed: int,
         workers: int, slots: int, progress: Callable[[float], None]) -> dict[str, Any]:
    """Both days' figures. Each day is drawn under its own rules from the same seed, so the
    same people and jobs come, with wages lifted to a raised floor (an employer cannot post
    below it)."""
    # Imported here, in the child: the simulator pulls in SciPy, half a second every web
    # process would otherwise spend at start for a console feature used a few times a day.
    from gigmarket.simulate.compare import compare
    from gigmarket.simulate.day import generate_day
    from gigmarket.simulate.metrics import HOURS

    out: dict[str, Any] = {}
    for i, (label, market) in enumerate((("current", current), ("proposed", proposed))):
        day = generate_day(market, skills, seed=seed, workers=workers, slots=slots)

        def tell(_policy: str, share: float, i: int = i) -> None:
            progress((i + share) / 2)

        metrics = compare(day, ["gigmarket"], progress=tell).metrics["gigmarket"].as_json()
        out[label] = {k: metrics[k] for k in FIGURES}
    out["hours"] = list(HOURS)
    return out


def run_in_child(current: Market, proposed: Market, skills: dict[str, Skill], seed: int,
                 workers: int, slots: int, conn: Connection) -> None:
    """The child's entry point: progress, then the result or the failure, over ``conn``."""
    try:
        result = play(current, proposed, skills, seed=seed, workers=workers, slots=slots,
                      progress=lambda share: conn.send(("progress", round(share, 4))))
        conn.send(("done", result))
    except Exception as e:  # the parent shows it; the child has no one else to tell
        conn.send(("failed", f"{type(e).__name__}: {e}"))
    finally:
        conn.close()
