"""gigmarket: a real-time dispatch server for public gig markets (零工市场)."""

__version__ = "0.1.0"
