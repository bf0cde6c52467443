"""The market-day simulator and the dispatch policy comparison (issue 4).

``day`` draws a seeded day of workers and jobs; ``behaviour`` is how people answer; ``engine``
plays the day on a simulated clock under an online policy from ``policies`` (the server's own
``core.matching`` rounds among them); ``hindsight`` computes the offline upper bound; every run
writes an event log (``events``) that ``audit`` checks and ``metrics`` measures; ``report``
prints and draws the comparison; ``command`` is ``gigmarket simulate``.
"""
