"""The simulated day's event log: the only thing the auditor and the metrics read.

Like the server's ledger (台账), every change is appended as it happens, in order. Rows index the
day's workers and jobs (see ``day.Day``); offers and assignments are numbered in the order they
are made. The log is plain data so a test can doctor one and see the auditor object.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass


class EventKind(enum.StrEnum):
    #: A worker entered the pool (``worker``).
    CHECKIN = "checkin"
    #: A worker left the pool without (further) work (``worker``).
    LEFT = "left"
    #: A job opened (``job``, ``count`` = headcount, ``start``/``until`` = its hours).
    JOB_POSTED = "job_posted"
    #: The employer called the job off (``job``).
    JOB_CANCELLED = "job_cancelled"
    #: The job stopped taking workers: its start (plus grace) passed (``job``).
    JOB_CLOSED = "job_closed"
    #: ``offer`` to ``worker`` for ``job``, ``until`` = expires_at, ``travel_minutes``.
    OFFER_MADE = "offer_made"
    OFFER_ACCEPTED = "offer_accepted"
    OFFER_DECLINED = "offer_declined"
    OFFER_EXPIRED = "offer_expired"
    OFFER_WITHDRAWN = "offer_withdrawn"
    #: The worker accepted too late to reach the start (``core.eligibility``): the offer is
    #: withdrawn, the pair not burnt, the slot free again (issue 14).
    ACCEPT_TOO_LATE = "accept_too_late"
    #: ``job``, unfilled ``claim_after_s`` after posting, went on the boards and was shown to
    #: ``count`` eligible waiting workers (the server's claims, SPEC 4).
    ON_BOARD = "on_board"
    #: A job was shown to ``count`` eligible workers at once (first-come claim).
    BROADCAST = "broadcast"
    #: ``worker`` tried to claim ``job`` and found it full or gone.
    CLAIM_LOST = "claim_lost"
    #: ``assignment`` of ``worker`` to ``job`` (from ``offer``, or -1 for a claim);
    #: ``start``/``until`` = the work's hours, ``travel_minutes``, ``pay_fen``.
    ASSIGNED = "assigned"
    #: The worker called the assignment off before the start (``assignment``).
    CANCELLED_BY_WORKER = "cancelled_by_worker"
    #: The employer's cancellation ended the assignment (``assignment``).
    CANCELLED_BY_EMPLOYER = "cancelled_by_employer"
    CHECKED_IN = "checked_in"
    NO_SHOW = "no_show"


@dataclass(frozen=True, slots=True)
class Event:
    t: float
    kind: EventKind
    worker: int = -1
    job: int = -1
    offer: int = -1
    assignment: int = -1
    count: int = 0
    start: float = math.nan
    until: float = math.nan
    travel_minutes: float = math.nan
    pay_fen: float = 0.0
    #: Offers made together as one menu (issue 14) share this id (their first offer's); -1
    #: for a single offer. A worker may hold several pending offers of one menu only.
    menu: int = -1
