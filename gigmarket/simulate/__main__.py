"""``python -m gigmarket.simulate``: the same as ``gigmarket simulate``."""

from gigmarket.simulate.command import main

raise SystemExit(main())
