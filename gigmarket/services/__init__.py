"""Use cases: load -> core -> ledger -> live store -> publish.

The only place that sequences I/O around a decision. Handlers in ``web/`` parse and reply; the
dispatcher in ``dispatch/`` runs rounds; both call in here.
"""
