"""How simulated people answer: one behaviour model shared by every policy.

Every draw that concerns a (worker, job) pair comes from a counter-based hash of
``(seed, worker, job, stream)``, not from a sequential random stream. So a worker offered a given
job decides the same way, after the same delay, whichever policy made the offer and whenever it
was made ("common random numbers"): the policies are compared on the same people, and a
difference in outcome comes from the policy, never from luck of the draw.

The model, with the reasons for its figures (they are assumptions, stated so they can be
argued with, not measurements):

- **Accept or decline** — ``logit p = 1.0 + 4.0·ln(wage / worker's minimum) − 0.10·travel_min``.
  Acceptance falls with travel and rises with pay over the worker's own floor, as the issue
  asks. At the worker's minimum wage and 5 minutes away p ≈ 0.62; at 25 % above it, p ≈ 0.80;
  at 15 minutes (the service circle's edge, 城市15分钟) p ≈ 0.38 at the minimum. Commute is the
  reason day labourers most often give for turning work down in market surveys, hence the
  steep slope. Exactly the same function decides offers, claims and the hindsight optimum.
- **Answering an offer** — a personal push (phone, or the kiosk calling the worker's name and
  reading the offer aloud). The delay is lognormal, median 12 s on a phone and 25 s at a kiosk
  (walk to the screen), σ = 0.6. 5 % of phone and 8 % of kiosk offers are never answered
  (phone in a pocket, worker out of the hall): they expire after ``offer_timeout_s``.
- **Claiming a broadcast job** (first-come claim, WeChat-group style) — the worker first has to
  notice the post among many: lognormal, median 60 s on a phone and 300 s for workers without a
  smartphone, who learn of posts from the hall's board or from others (σ = 1.0). This is the
  digital divide the seeds' 重点群体 policies are about; its size is an assumption.
- **Stepping away** (issue 10; off unless ``away_share`` is set, so the standard comparison is
  unchanged) — a share of workers leave the screen once while checked in ("先离开（保持签到）"
  at the kiosk, a phone left in a locker): from a uniform moment of their stay, for a lognormal
  time, median 20 minutes (σ = 0.8). Offers reaching them while away go unanswered.
- **Late cancellation by the worker** — 2 % of accepted assignments, at a uniform moment between
  accept and start. **No-show** — ``(1 − reliability)·(1 + travel_min / 15)``: unreliable
  workers and long trips fail more often.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from gigmarket.core.pool import BOOL, F64, I64, U64


class Stream(enum.IntEnum):
    """Independent uniform streams per pair (or per worker)."""

    ACCEPT = 1
    ANSWER = 2
    DELAY = 3
    LATE_CANCEL = 4
    CANCEL_MOMENT = 5
    NO_SHOW = 6
    LOTTERY = 7
    AWAY = 8
    AWAY_AT = 9
    AWAY_FOR = 10


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _splitmix64(x: U64) -> U64:
    # Arrays (never numpy scalars) so the intended wrap-around raises no overflow warning.
    z = x + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return np.asarray(z ^ (z >> np.uint64(31)), np.uint64)


def pair_uniform(seed: int, worker: I64, job: I64, stream: Stream) -> F64:
    """Uniform draws in (0, 1), one per ``(worker[i], job[i])``, fixed by seed and stream."""
    w = np.atleast_1d(np.asarray(worker, np.int64)).astype(np.uint64)
    j = np.atleast_1d(np.asarray(job, np.int64)).astype(np.uint64)
    seed_word = np.full(w.shape, (seed * 0x2545F4914F6CDD1D) & 0xFFFFFFFFFFFFFFFF, np.uint64)
    h = _splitmix64(seed_word ^ np.uint64(int(stream) << 56))
    h = _splitmix64(h ^ w)
    h = _splitmix64(h ^ (j * np.uint64(0x632BE59BD9B4E019)))
    # 53 high bits -> a double in (0, 1); the half-step keeps it off 0 for the quantile maths.
    out: F64 = ((h >> np.uint64(11)).astype(np.float64) + 0.5) / float(1 << 53)
    return out


def _lognormal(u: F64, median: F64 | float, sigma: float) -> F64:
    return np.asarray(median * np.exp(sigma * ndtri(u)), np.float64)


@dataclass(frozen=True, slots=True)
class OfferAnswer:
    """What workers do with offers, one row per offer."""

    answered: BOOL
    delay_s: F64
    accepts: BOOL


@dataclass(frozen=True, slots=True)
class Behaviour:
    """The shared response model (see the module docstring for the figures' reasons)."""

    seed: int
    accept_intercept: float = 1.0
    accept_per_log_wage: float = 4.0
    accept_per_travel_min: float = 0.10
    offer_delay_phone_s: float = 12.0
    offer_delay_kiosk_s: float = 25.0
    offer_delay_sigma: float = 0.6
    no_answer_phone: float = 0.05
    no_answer_kiosk: float = 0.08
    claim_delay_phone_s: float = 60.0
    claim_delay_kiosk_s: float = 300.0
    claim_delay_sigma: float = 1.0
    late_cancel: float = 0.02
    no_show_travel_scale_min: float = 15.0
    away_share: float = 0.0
    away_median_s: float = 1200.0
    away_sigma: float = 0.8

    def accept_probability(self, travel_min: F64, wage_ratio: F64) -> F64:
        """P(accept) for a pair ``travel_min`` away paying ``wage_ratio`` × the worker's floor."""
        ratio = np.maximum(np.asarray(wage_ratio, np.float64), 1e-6)
        logit = (
            self.accept_intercept
            + self.accept_per_log_wage * np.log(ratio)
            - self.accept_per_travel_min * np.asarray(travel_min, np.float64)
        )
        return np.asarray(1.0 / (1.0 + np.exp(-logit)), np.float64)

    def accepts(self, worker: I64, job: I64, travel_min: F64, wage_ratio: F64) -> BOOL:
        """Whether each worker would take each job if asked (the same answer in every policy)."""
        u = pair_uniform(self.seed, worker, job, Stream.ACCEPT)
        return np.asarray(u < self.accept_probability(travel_min, wage_ratio), np.bool_)

    def answer_offers(
        self, worker: I64, job: I64, kiosk: BOOL, travel_min: F64, wage_ratio: F64
    ) -> OfferAnswer:
        """Whether and when each offered worker answers, and what they say."""
        kiosk = np.asarray(kiosk, np.bool_)
        no_answer = np.where(kiosk, self.no_answer_kiosk, self.no_answer_phone)
        answered = pair_uniform(self.seed, worker, job, Stream.ANSWER) >= no_answer
        median = np.where(kiosk, self.offer_delay_kiosk_s, self.offer_delay_phone_s)
        delay = _lognormal(
            pair_uniform(self.seed, worker, job, Stream.DELAY), median, self.offer_delay_sigma
        )
        return OfferAnswer(
            answered=np.asarray(answered, np.bool_),
            delay_s=delay,
            accepts=self.accepts(worker, job, travel_min, wage_ratio),
        )

    def claim_delay_s(self, worker: I64, job: I64, kiosk: BOOL) -> F64:
        """Seconds from a job's broadcast until each worker could claim it."""
        median = np.where(np.asarray(kiosk, np.bool_), self.claim_delay_kiosk_s,
                          self.claim_delay_phone_s)
        u = pair_uniform(self.seed, worker, job, Stream.DELAY)
        return _lognormal(u, median, self.claim_delay_sigma)

    def cancels_late(self, worker: I64, job: I64) -> tuple[BOOL, F64]:
        """Whether the worker calls an accepted job off, and when (share of accept..start)."""
        cancels = pair_uniform(self.seed, worker, job, Stream.LATE_CANCEL) < self.late_cancel
        moment = pair_uniform(self.seed, worker, job, Stream.CANCEL_MOMENT)
        return np.asarray(cancels, np.bool_), moment

    def no_shows(self, worker: I64, job: I64, reliability: F64, travel_min: F64) -> BOOL:
        """Whether the worker fails to turn up at the start."""
        p = (1.0 - np.asarray(reliability)) * (1.0 + np.asarray(travel_min)
                                              / self.no_show_travel_scale_min)
        return np.asarray(pair_uniform(self.seed, worker, job, Stream.NO_SHOW) < p, np.bool_)

    def lottery_tickets(self, workers: I64) -> F64:
        """Each worker's place in the day's lottery draw (lower draws first)."""
        return pair_uniform(self.seed, workers, np.zeros_like(workers), Stream.LOTTERY)

    def away_windows(self, workers: I64, arrive: F64, depart: F64) -> tuple[F64, F64]:
        """When each worker steps away and comes back (both ``nan`` for those who stay)."""
        zero = np.zeros_like(workers)
        goes = pair_uniform(self.seed, workers, zero, Stream.AWAY) < self.away_share
        start = arrive + pair_uniform(self.seed, workers, zero, Stream.AWAY_AT) * (depart - arrive)
        length = _lognormal(pair_uniform(self.seed, workers, zero, Stream.AWAY_FOR),
                            self.away_median_s, self.away_sigma)
        nan = np.full(len(workers), np.nan)
        return (np.where(goes, start, nan), np.where(goes, start + length, nan))

