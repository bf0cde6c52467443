"""Every benchmark, one command: ``python -m bench`` (from the repository root).

Prints JSON lines ``{"name", "value", "unit", "params"}``: first the pure round (candidates
and solve at 1k x 200, 10k x 2k and 50k x 10k), then the spine's I/O (a real round with its
offers written, the web process's loop meanwhile, post-to-socket latency). Figures depend on
the machine and on what else it is doing: compare runs on one machine, not across machines.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    for script in ("round.py", "spine.py"):
        code = subprocess.call([sys.executable, str(HERE / script)])
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
