"""A market's pools kept in the dispatcher's memory between rounds (issue 13).

Every round used to re-read, re-decode and ship every waiting worker's record. Here the decoded
records live in numpy columns, one row per worker or job ever seen (a row is reused when its
owner leaves); each round reads only

- the change stream (``store.keys.pool_changes``): ids whose record was written or removed,
  and re-reads just those records;
- the small hashes the Lua gates move (states, slot counts) and the offered pairs, whole.

It resyncs from scratch when told to (a lease take-over: another dispatcher wrote meanwhile),
when the pools were rebuilt from the ledger (the ``built`` mark moved), and on a gap (changes
it has not read were already trimmed from the stream). The pools a round gets equal what
``services.live_pools.build_pools`` makes of a fresh snapshot (the tests hold them to that).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from redis.exceptions import ResponseError

from gigmarket.core.certificates import certified_at
from gigmarket.core.pool import Exclusions, JobPool, WorkerPool
from gigmarket.services.live_pools import _col, _mask, _masks, _parse
from gigmarket.store import keys
from gigmarket.store import live as live_store
from gigmarket.store.live import LiveStore, PoolCounts


def _num(rec: dict[str, Any], key: str, default: float) -> float:
    v = rec.get(key)
    return default if v is None else float(v)


def _stream_id(sid: str) -> tuple[int, int]:
    ms, _, seq = sid.partition("-")
    return int(ms), int(seq or 0)


class _Rows:
    """Numpy columns addressed by id; rows are reused through a free list."""

    FLOATS: tuple[tuple[str, float], ...] = ()
    MASKS: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.row: dict[str, int] = {}
        self.ids: list[str | None] = []
        self.free: list[int] = []
        self.f = {name: np.zeros(0) for name, _ in self.FLOATS}
        self.m = {name: np.zeros(0, np.uint64) for name in self.MASKS}

    def _slot(self, record_id: str) -> int:
        r = self.row.get(record_id)
        if r is not None:
            return r
        if self.free:
            r = self.free.pop()
        else:
            r = len(self.ids)
            self.ids.append(None)
            if r >= len(next(iter(self.f.values()))):
                size = max(64, 2 * r)
                for name in self.f:
                    self.f[name] = np.resize(self.f[name], size)
                for name in self.m:
                    self.m[name] = np.resize(self.m[name], size)
                self._grow(size)
        self.ids[r] = record_id
        self.row[record_id] = r
        return r

    def _grow(self, size: int) -> None:
        """Grow the columns that are not floats or masks."""

    def load(self, ids: list[str], recs: list[dict[str, Any]], order: tuple[str, ...]) -> None:
        """Fill these rows, still empty, with a whole pool at once (a resync): column by
        column, not record by record, which read a 10k-worker pool about twice as fast."""
        assert not self.ids, "load fills empty rows only"
        self.ids = list(ids)
        self.row = {rid: r for r, rid in enumerate(ids)}
        for name, default in self.FLOATS:
            self.f[name] = _col(recs, name, default)
        for name in self.MASKS:
            self.m[name] = _masks(recs, name, order)
        self._load_rest(recs)

    def _load_rest(self, recs: list[dict[str, Any]]) -> None:
        """What :meth:`load` fills beyond the floats and masks, row ``i`` from ``recs[i]``."""

    def remove(self, record_id: str) -> None:
        r = self.row.pop(record_id, None)
        if r is not None:
            self.ids[r] = None
            self.free.append(r)
            self._drop(r)

    def _drop(self, r: int) -> None:
        """Forget what a freed row held outside the numpy columns."""


class _Workers(_Rows):
    FLOATS = (("lat", 0.0), ("lon", 0.0), ("min_hourly_fen", 0.0),
              ("available_until", math.inf), ("waiting_since", math.nan),
              ("key_group", 0.0), ("rating", 3.0), ("reliability", 1.0),
              ("earned_today_fen", 0.0), ("max_travel_minutes", math.inf))
    MASKS = ("skills",)

    def __init__(self) -> None:
        super().__init__()
        #: Certificates (skill -> until) of the rows that hold any; judged at each round's
        #: clock, as ``build_pools`` does.
        self.certs: dict[int, dict[str, float]] = {}
        self.busy: dict[int, list[tuple[float, float]]] = {}

    def put(self, worker_id: str, rec: dict[str, Any], order: tuple[str, ...]) -> None:
        r = self._slot(worker_id)
        for name, default in self.FLOATS:
            self.f[name][r] = _num(rec, name, default)
        self.f["key_group"][r] = 1.0 if rec.get("key_group") else 0.0
        self.m["skills"][r] = _mask(tuple(rec.get("skills", ())), order)
        certs = rec.get("certs")
        self._drop(r)
        if isinstance(certs, dict) and certs:
            self.certs[r] = certs
        busy = rec.get("busy") or ()
        if busy:
            self.busy[r] = [(float(s), float(e)) for s, e in busy]

    def _drop(self, r: int) -> None:
        self.certs.pop(r, None)
        self.busy.pop(r, None)

    def _load_rest(self, recs: list[dict[str, Any]]) -> None:
        self.f["key_group"] = np.array([1.0 if r.get("key_group") else 0.0 for r in recs])
        for i, rec in enumerate(recs):
            certs = rec.get("certs")
            if isinstance(certs, dict) and certs:
                self.certs[i] = certs
            busy = rec.get("busy")
            if busy:
                self.busy[i] = [(float(s), float(e)) for s, e in busy]

    def pool(self, ids: list[str], order: tuple[str, ...], now: float) -> WorkerPool:
        rows = np.array([self.row[w] for w in ids], np.int64)
        f = {name: col[rows] for name, col in self.f.items()}
        certs = np.zeros(len(rows), np.uint64)
        busy_w: list[int] = []
        busy_s: list[float] = []
        busy_e: list[float] = []
        for i, r in enumerate(rows.tolist()):
            c = self.certs.get(r)
            if c is not None:
                certs[i] = _mask(tuple(certified_at(c, now)), order)
            for s, e in self.busy.get(r, ()):
                busy_w.append(i)
                busy_s.append(s)
                busy_e.append(e)
        since = f["waiting_since"]
        return WorkerPool(
            ids=ids, lat=f["lat"], lon=f["lon"], skills=self.m["skills"][rows], certs=certs,
            min_hourly_fen=f["min_hourly_fen"], available_until=f["available_until"],
            waited_s=np.maximum(0.0, now - np.where(np.isnan(since), now, since)),
            key_group=f["key_group"] > 0, rating=f["rating"], reliability=f["reliability"],
            earned_today_fen=f["earned_today_fen"],
            busy_worker=np.array(busy_w, np.int64), busy_start=np.array(busy_s, np.float64),
            busy_end=np.array(busy_e, np.float64), max_travel_minutes=f["max_travel_minutes"])


class _Jobs(_Rows):
    FLOATS = (("lat", 0.0), ("lon", 0.0), ("hourly_fen", math.nan), ("start_at", 0.0),
              ("end_at", 0.0), ("posted_at", 0.0), ("employer_rating", 3.0),
              ("employer_reliability", 1.0))
    MASKS = ("skills", "certs_required")

    def __init__(self) -> None:
        super().__init__()
        self.employer: dict[int, str] = {}

    def put(self, job_id: str, rec: dict[str, Any], order: tuple[str, ...]) -> None:
        r = self._slot(job_id)
        for name, default in self.FLOATS:
            self.f[name][r] = _num(rec, name, default)
        self.m["skills"][r] = _mask(tuple(rec.get("skills", ())), order)
        self.m["certs_required"][r] = _mask(tuple(rec.get("certs_required", ())), order)
        self.employer[r] = rec["employer_id"]

    def _drop(self, r: int) -> None:
        self.employer.pop(r, None)

    def _load_rest(self, recs: list[dict[str, Any]]) -> None:
        self.employer = {i: rec["employer_id"] for i, rec in enumerate(recs)}

    def pool(self, ids: list[str], slots: list[int]) -> JobPool:
        rows = np.array([self.row[j] for j in ids], np.int64)
        f = {name: col[rows] for name, col in self.f.items()}
        return JobPool(
            ids=ids, employer_ids=[self.employer[r] for r in rows.tolist()], lat=f["lat"],
            lon=f["lon"], skills=self.m["skills"][rows],
            certs_required=self.m["certs_required"][rows], hourly_fen=f["hourly_fen"],
            start_at=f["start_at"], end_at=f["end_at"], slots=np.array(slots, np.int64),
            posted_at=f["posted_at"], employer_rating=f["employer_rating"],
            employer_reliability=f["employer_reliability"])


@dataclass(frozen=True, slots=True)
class RoundPools:
    """What one round decides over, and what moved since the round before."""

    workers: WorkerPool
    jobs: JobPool
    exclusions: Exclusions
    #: The pools were read afresh (first round, take-over, rebuild, gap): nothing is known
    #: about earlier rounds, so the round looks at everything.
    fresh: bool
    #: Rows (into ``workers`` / ``jobs``) that came, changed or came back since last round.
    changed_workers: np.ndarray
    changed_jobs: np.ndarray


class MarketPools:
    """One market's pools in memory; :meth:`refresh` brings them level with Redis."""

    def __init__(self, market_id: str) -> None:
        self.market_id = market_id
        self._synced = False
        self.cursor = "0-0"
        self.built: str | None = None
        self.order: tuple[str, ...] = ()
        self.w = _Workers()
        self.j = _Jobs()
        self._was_available: set[str] = set()
        self._was_free: dict[str, int] = {}
        #: Resyncs so far, and offered pairs forgotten (figures and tests).
        self.resyncs = 0
        self.pruned = 0

    def invalidate(self) -> None:
        """Resync at the next refresh (the lease changed hands: others wrote meanwhile)."""
        self._synced = False

    def _put(self, kind: str, values: dict[str, str | None]) -> None:
        rows = self.w if kind == "w" else self.j
        present = {k: v for k, v in values.items() if v is not None}
        parsed = _parse(list(present.values()))
        for record_id, rec in zip(present, parsed, strict=True):
            rows.put(record_id, rec, self.order)
        for record_id, v in values.items():
            if v is None:
                rows.remove(record_id)

    async def _resync(self, live: LiveStore) -> PoolCounts:
        snap, last, built = await live_store.pool_resync(live, self.market_id)
        self.w, self.j = _Workers(), _Jobs()
        for rows, records in ((self.w, dict(snap.worker_json)), (self.j, dict(snap.job_json))):
            rows.load(list(records), _parse(list(records.values())), self.order)
        self.cursor, self.built, self._synced = last, built, True
        self.resyncs += 1
        return PoolCounts(worker_state=dict(snap.worker_state), headcount=snap.headcount,
                          accepted=snap.accepted, pending=snap.pending,
                          offered_pairs=set(snap.offered_pairs), changes=[], first_id="",
                          last_id=last, built=built)

    def _gap(self, counts: PoolCounts) -> bool:
        if counts.built != self.built:
            return True  # rebuilt from the ledger: every record may differ
        if not counts.first_id:
            return False  # an empty stream: _emptied asks Redis whether we missed any
        if self.cursor == "0-0":
            # We have read nothing since a resync that found the stream empty: the oldest kept
            # change may follow others trimmed before we read them, and the stream cannot
            # tell. Read afresh once; the cursor then holds a real id.
            return True
        # The oldest kept change is newer than the last we read: some may have been trimmed.
        return _stream_id(counts.first_id) > _stream_id(self.cursor)

    async def _emptied(self, live: LiveStore, counts: PoolCounts) -> bool:
        """An empty stream: whether changes we never read were trimmed away with the rest.
        Rare (the stream keeps thousands), so only then asked of Redis: the newest id it ever
        gave out is past our cursor, or the stream is gone. Until the next change comes, an
        emptied stream makes every round read afresh: costly, but never wrong."""
        if counts.first_id:
            return False
        try:
            info = await live.redis.xinfo_stream(keys.pool_changes(self.market_id))
        except ResponseError:
            # No stream at all: never written (a quiet market), or deleted under what we had
            # read, and then we cannot know what it held.
            return self.cursor != "0-0"
        newest = info.get("last-generated-id", b"0-0")
        return _stream_id(newest.decode() if isinstance(newest, bytes) else str(newest)) > (
            _stream_id(self.cursor))

    async def refresh(self, live: LiveStore, skill_order: Sequence[str],
                      now: float) -> RoundPools:
        order = tuple(skill_order)
        fresh = not self._synced or order != self.order
        self.order = order
        counts: PoolCounts | None = None
        if not fresh:
            counts = await live_store.pool_counts(live, self.market_id, self.cursor)
            if self._gap(counts) or await self._emptied(live, counts):
                fresh = True
        if fresh or counts is None:
            counts = await self._resync(live)
        elif counts.changes:
            w_ids = sorted({rid for _, kind, rid in counts.changes if kind == "w"})
            j_ids = sorted({rid for _, kind, rid in counts.changes if kind == "j"})
            w_recs, j_recs = await live_store.pool_records(live, self.market_id, w_ids, j_ids)
            self._put("w", w_recs)
            self._put("j", j_recs)
            self.cursor = counts.changes[-1][0]
            # A job whose record and counts are both gone was cancelled or expired (closing
            # keeps a zero headcount): it never comes back, so its pairs need not be kept.
            gone = {j for j, v in j_recs.items() if v is None and j not in counts.headcount}
            if gone:
                pairs = [x for x in counts.offered_pairs if x.partition("|")[2] in gone]
                await live_store.forget_pairs(live, self.market_id, pairs)
                self.pruned += len(pairs)
        changed_w_ids = {rid for _, kind, rid in counts.changes if kind == "w"}
        changed_j_ids = {rid for _, kind, rid in counts.changes if kind == "j"}

        wids = [w for w, s in counts.worker_state.items() if s == "available" and w in self.w.row]
        jids: list[str] = []
        slots: list[int] = []
        for j in counts.headcount:
            if j not in self.j.row:
                continue
            free = counts.headcount[j] - counts.accepted.get(j, 0) - counts.pending.get(j, 0)
            if free > 0:
                jids.append(j)
                slots.append(free)
        workers = self.w.pool(wids, order, now)
        jobs = self.j.pool(jids, slots)

        exclusions = Exclusions.among(counts.offered_pairs, wids, jids)

        # Came back (an offer declined or expired, work ended) or freed a slot: changed too.
        changed_w = [i for i, w in enumerate(wids)
                     if w in changed_w_ids or w not in self._was_available]
        changed_j = [i for i, j in enumerate(jids)
                     if j in changed_j_ids or slots[i] > self._was_free.get(j, 0)]
        self._was_available = set(wids)
        self._was_free = dict(zip(jids, slots, strict=True))
        return RoundPools(workers=workers, jobs=jobs, exclusions=exclusions, fresh=fresh,
                          changed_workers=np.array(changed_w, np.int64),
                          changed_jobs=np.array(changed_j, np.int64))

    def offered(self, worker_ids: list[str], job_ids: list[str]) -> None:
        """A round made these offers: a worker whose offer is declined before the next round,
        or a job whose slot comes back, must then count as changed."""
        self._was_available.difference_update(worker_ids)
        for j in job_ids:
            if j in self._was_free:
                self._was_free[j] -= 1
