"""Every benchmark, one command: ``python -m bench`` (from the repository root).

Prints JSON lines ``{"name", "value", "unit", "params"}``: first the pure round (candidates
and solve at 1k x 200, 10k x 2k and 50k x 10k), then the spine's I/O (a real round with its
offers written, the web process's loop meanwhile, post-to-socket latency), then a month's daily
report and ledger export (time and memory peak), then what the exchange feed costs a change and
a page, then the faults (a quick 10; ``python bench/faults.py --rounds 100`` for the full run).
``city.py`` prints issue 13's figures each beside its floor and the load average;
``python -m bench --quick`` runs only those, at small sizes.
Figures depend on
the machine and on what else it is doing: compare runs on one machine, not across machines.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    if "--quick" in sys.argv[1:]:
        # Issue 13's figures, each beside its floor, at small sizes: under two minutes.
        return subprocess.call([sys.executable, str(HERE / "city.py"), "--quick"])
    for script in ("round.py", "spine.py", "city.py", "reports.py", "exchange.py",
                   "faults.py"):
        code = subprocess.call([sys.executable, str(HERE / script)])
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
