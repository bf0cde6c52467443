"""What a job view says about reaching a hired worker (issue 10, SPEC 11.2): the whole number
only to the job's employer while the hire is live; the market desk for a worker without one."""

from __future__ import annotations

import pytest

from gigmarket.services.views import hired_phone


@pytest.mark.parametrize(("phone", "state", "contact", "expected"), [
    ("13800000001", "accepted", True, ("13800000001", True, None)),
    ("13800000001", "checked_in", True, ("13800000001", True, None)),
    ("13800000001", "completed", True, ("138****0001", False, None)),
    ("13800000001", "cancelled", True, ("138****0001", False, None)),
    ("13800000001", "accepted", False, ("138****0001", False, None)),
    (None, "accepted", True, (None, False, "020-86981234")),
    (None, "paid", True, (None, False, None)),
    (None, "accepted", False, (None, False, None)),
])
def test_the_phone_a_job_view_shows(phone: str | None, state: str, contact: bool,
                                    expected: tuple[str | None, bool, str | None]) -> None:
    """Whole while live and to the employer; masked after or to others; the desk if none."""
    out = hired_phone({"phone": phone, "state": state}, contact=contact,
                      desk_phone="020-86981234")
    assert (out["phone"], out["phone_shown"], out["desk_phone"]) == expected
