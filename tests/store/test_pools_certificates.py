"""A round judges certificate expiry by its own clock (issue 10): the live record keeps the
instant, and the pools built at a later ``now`` no longer count the certificate."""

from __future__ import annotations

from gigmarket import codec
from gigmarket.core.matching import skill_mask
from gigmarket.services.live_pools import build_pools
from gigmarket.store.live import LiveSnapshot

ORDER = ("loading", "electrician")
END = 2_000_000.0


def _snapshot(certs: object) -> LiveSnapshot:
    record = {"lat": 23.46, "lon": 113.16, "skills": ["electrician"], "certs": certs}
    return LiveSnapshot(worker_json={"w1": codec.dumps(record)},
                        worker_state={"w1": "available"}, job_json={}, headcount={},
                        accepted={}, pending={}, offered_pairs=set())


def test_a_certificate_counts_before_its_instant_and_not_from_it() -> None:
    """Same record, two rounds: certified before the end of the expiry day, not after."""
    snap = _snapshot({"electrician": END})
    before, _, _ = build_pools(snap, ORDER, END - 1)
    after, _, _ = build_pools(snap, ORDER, END)
    assert int(before.certs[0]) == skill_mask(["electrician"], ORDER)
    assert int(after.certs[0]) == 0


def test_a_record_from_before_certificates_had_dates_certifies_nothing() -> None:
    """An old record's list of codes (no expiry known) is not trusted."""
    pools, _, _ = build_pools(_snapshot(["electrician"]), ORDER, END)
    assert int(pools.certs[0]) == 0
