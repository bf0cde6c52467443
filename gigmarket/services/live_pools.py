"""From the live store's records to the columnar pools the matcher decides over."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from gigmarket import codec
from gigmarket.core.certificates import certified_at
from gigmarket.core.matching import skill_mask
from gigmarket.core.pool import Exclusions, JobPool, WorkerPool
from gigmarket.store.live import LiveSnapshot


@lru_cache(maxsize=4096)
def _mask(codes: tuple[str, ...], order: tuple[str, ...]) -> int:
    # Few distinct skill sets exist in a market, so masks are computed once per set.
    # A skill dropped from the market's list since the record was written is ignored.
    return skill_mask([c for c in codes if c in order], order)


def _parse(values: list[str]) -> list[dict[str, Any]]:
    # One parse of a JSON array instead of one json.loads per record: several times faster.
    parsed: list[dict[str, Any]] = codec.loads("[" + ",".join(values) + "]")
    return parsed


def _col(recs: list[dict[str, Any]], key: str, default: float = 0.0) -> np.ndarray:
    return np.array([default if (v := r.get(key)) is None else v for r in recs], np.float64)


def _masks(recs: list[dict[str, Any]], key: str, order: tuple[str, ...]) -> np.ndarray:
    return np.array([_mask(tuple(r.get(key, ())), order) for r in recs], np.uint64)


def _cert_masks(recs: list[dict[str, Any]], order: tuple[str, ...], now: float) -> np.ndarray:
    # ``certs`` maps a skill to the instant its verified certificate stops counting: expiry
    # is judged by this round's clock, not by when the record was written (issue 10).
    # A record written before certificates had dates holds a list: it certifies nothing.
    return np.array([_mask(tuple(certified_at(c if isinstance(c := r.get("certs"), dict)
                                              else {}, now)), order)
                     for r in recs], np.uint64)


def build_pools(
    snap: LiveSnapshot, skill_order: Sequence[str], now: float
) -> tuple[WorkerPool, JobPool, Exclusions]:
    order = tuple(skill_order)
    wids = [w for w, s in snap.worker_state.items() if s == "available" and w in snap.worker_json]
    wrecs = _parse([snap.worker_json[w] for w in wids])
    busy_w: list[int] = []
    busy_s: list[float] = []
    busy_e: list[float] = []
    for i, r in enumerate(wrecs):
        for s, e in r.get("busy") or ():
            busy_w.append(i)
            busy_s.append(s)
            busy_e.append(e)
    since = _col(wrecs, "waiting_since", now)

    workers = WorkerPool(
        ids=wids,
        lat=_col(wrecs, "lat"),
        lon=_col(wrecs, "lon"),
        skills=_masks(wrecs, "skills", order),
        certs=_cert_masks(wrecs, order, now),
        min_hourly_fen=_col(wrecs, "min_hourly_fen"),
        available_until=_col(wrecs, "available_until", math.inf),
        waited_s=np.maximum(0.0, now - since),
        key_group=np.array([bool(r.get("key_group")) for r in wrecs], np.bool_),
        rating=_col(wrecs, "rating", 3.0),
        reliability=_col(wrecs, "reliability", 1.0),
        earned_today_fen=_col(wrecs, "earned_today_fen"),
        busy_worker=np.array(busy_w, np.int64),
        busy_start=np.array(busy_s, np.float64),
        busy_end=np.array(busy_e, np.float64),
        max_travel_minutes=_col(wrecs, "max_travel_minutes", math.inf),
    )

    jids: list[str] = []
    slots: list[int] = []
    for j in snap.job_json:
        free = snap.headcount.get(j, 0) - snap.accepted.get(j, 0) - snap.pending.get(j, 0)
        if free > 0:
            jids.append(j)
            slots.append(free)
    jrecs = _parse([snap.job_json[j] for j in jids])
    jobs = JobPool(
        ids=jids,
        employer_ids=[r["employer_id"] for r in jrecs],
        lat=_col(jrecs, "lat"),
        lon=_col(jrecs, "lon"),
        skills=_masks(jrecs, "skills", order),
        certs_required=_masks(jrecs, "certs_required", order),
        hourly_fen=_col(jrecs, "hourly_fen", math.nan),
        start_at=_col(jrecs, "start_at"),
        end_at=_col(jrecs, "end_at"),
        slots=np.array(slots, np.int64),
        posted_at=_col(jrecs, "posted_at"),
        employer_rating=_col(jrecs, "employer_rating", 3.0),
        employer_reliability=_col(jrecs, "employer_reliability", 1.0),
    )

    exclusions = Exclusions.among(snap.offered_pairs, wids, jids)
    return workers, jobs, exclusions
