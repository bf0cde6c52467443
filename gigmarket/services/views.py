"""The JSON shapes of SPEC 6 and 7, built from ledger rows, masked for who is looking.

Pure functions over mappings; the one place a field is renamed or masked for the outside.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any, Final, TypeAlias

from gigmarket import codec
from gigmarket.core import reach
from gigmarket.core.market import Rules
from gigmarket.core.model import Money, WageUnit
from gigmarket.core.privacy import mask_name, mask_phone

Iso = Callable[[float | None], str | None]
#: A ledger row or any mapping with the same keys.
Record: TypeAlias = Mapping[str, Any] | sqlite3.Row


@lru_cache(maxsize=4096)
def _codes(text: str) -> tuple[str, ...]:
    # A round renders thousands of offers for a few hundred jobs: parse each list once.
    return tuple(codec.loads(text))


def skills_of(value: str | list[str]) -> list[str]:
    return list(_codes(value)) if isinstance(value, str) else list(value)


def money(fen: int | None, unit: str | None) -> dict[str, Any] | None:
    if fen is None or unit is None:
        return None
    return Money(int(fen), WageUnit(unit)).as_json()


def rating(rating_sum: float, rating_count: int) -> float | None:
    return round(rating_sum / rating_count, 2) if rating_count else None


def worker_me(row: Record, iso: Iso,
              certificates: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """A worker's own profile: their data, with phone and ID masked even to themselves in
    transit (they know their numbers; a shoulder-surfer at a kiosk need not)."""
    return {
        "id": row["id"],
        "role": "worker",
        "name": row["name"],
        "phone": mask_phone(row["phone"]) if row["phone"] else None,
        "id_number": row["id_number_masked"],
        "skills": json.loads(row["skills"]),
        "certificates": list(certificates),
        "min_wage": money(row["min_wage_fen"], row["min_wage_unit"]),
        "max_travel_minutes": row["max_travel_minutes"],
        "key_group": row["key_group"],
        "rating": rating(row["rating_sum"], row["rating_count"]),
        "reliability": round(float(row["reliability"]), 3),
        "state": row["state"],
        "market_id": row["market_id"],
        "station_id": row["station_id"],
        "checked_in_at": iso(row["checked_in_at"]),
        "available_until": iso(row["available_until"]),
        "has_pin": row["pin_hash"] is not None,
    }


def employer_me(row: Record) -> dict[str, Any]:
    return {
        "id": row["id"],
        "role": "employer",
        "name": row["name"],
        "phone": mask_phone(row["phone"]) if row["phone"] else None,
        "org_name": row["org_name"],
        "credit_code": row["credit_code"],
        "verified": bool(row["verified"]),
        "rating": rating(row["rating_sum"], row["rating_count"]),
        "reliability": round(float(row["reliability"]), 3),
        "state": row["state"],
    }


def employer_public(row: Record) -> dict[str, Any]:
    """What a worker sees of an employer in an offer."""
    return {
        "name": row["org_name"] or mask_name(row["name"]),
        "rating": rating(row["rating_sum"], row["rating_count"]),
        "verified": bool(row["verified"]),
    }


def job_summary(job: Record, iso: Iso, *, distance_km: float | None = None,
                travel_minutes: float | None = None,
                employer: Record | None = None) -> dict[str, Any]:
    """JOBSUMMARY: what a worker is offered."""
    return {
        "id": job["id"],
        "title": job["title"],
        "skills": skills_of(job["skills"]),
        "wage": money(job["wage_fen"], job["wage_unit"]),
        "start_at": iso(job["start_at"]),
        "duration_hours": job["duration_hours"],
        "address": job["address"],
        "description": job["description"],
        "lat": job["lat"],
        "lon": job["lon"],
        **trip(distance_km, travel_minutes),
        "employer": employer_public(employer) if employer is not None else None,
    }


def trip(distance_km: float | None, travel_minutes: float | None,
         rules: Rules | None = None) -> dict[str, Any]:
    """A JOBSUMMARY's distance and travel time for one worker, as shown; with the market's
    ``rules``, also the travel supplement a trip beyond the service circle earns (issue 14)."""
    out: dict[str, Any] = {
        "distance_km": None if distance_km is None else round(distance_km, 2),
        "travel_minutes": None if travel_minutes is None else round(travel_minutes, 1),
    }
    if rules is not None:
        out["travel_supplement"] = travel_supplement(distance_km, rules)
    return out


def travel_supplement(distance_km: float | None, rules: Rules) -> dict[str, Any] | None:
    """``{"amount", "per_km", "beyond_km"}`` in yuan and road km, or ``None`` inside the
    circle (or where the market does not widen reach)."""
    if distance_km is None or not reach.widens(rules):
        return None
    fen = float(reach.supplement_fen(distance_km, rules))
    if fen <= 0:
        return None
    return {"amount": fen / 100, "per_km": rules.travel_supplement_fen_per_km / 100,
            "beyond_km": round(float(reach.beyond_circle_km(distance_km, rules)), 2)}


#: Assignment states in which the employer may call the hired worker (SPEC 11.2).
CONTACT_STATES: Final = frozenset({"accepted", "checked_in"})


def hired_phone(w: Record, *, contact: bool, desk_phone: str) -> dict[str, Any]:
    """The worker's phone in a job view: whole to the employer while the hire is live,
    masked otherwise; a worker without a phone is reached through the market desk."""
    live = contact and w["state"] in CONTACT_STATES
    if not w["phone"]:
        return {"phone": None, "phone_shown": False,
                "desk_phone": (desk_phone or None) if live else None}
    return {"phone": w["phone"] if live else mask_phone(w["phone"]), "phone_shown": live,
            "desk_phone": None}


def job_full(job: Record, workers: Sequence[Record],
             iso: Iso, *, contact: bool = False, desk_phone: str = "") -> dict[str, Any]:
    """JOB: the employer's whole live view of a posting (SPEC 6 ``GET /jobs/{id}``).

    ``contact``: the view goes to the job's own employer, who sees each hired worker's phone
    while the assignment is live; anyone else sees it masked.
    """
    return {
        "id": job["id"],
        "market_id": job["market_id"],
        "state": job["state"],
        "title": job["title"],
        "skills": skills_of(job["skills"]),
        "headcount": job["headcount"],
        "accepted": job["accepted"],
        "pending_offers": job["pending"],
        "open_slots": job["headcount"] - job["accepted"] - job["pending"],
        "wage": money(job["wage_fen"], job["wage_unit"]),
        "start_at": iso(job["start_at"]),
        "duration_hours": job["duration_hours"],
        "lat": job["lat"],
        "lon": job["lon"],
        "address": job["address"],
        "description": job["description"],
        "created_at": iso(job["created_at"]),
        "filled_at": iso(job["filled_at"]),
        "workers": [
            {
                "assignment_id": w["assignment_id"],
                # The employer's handle for a block.
                "worker_id": w["worker_id"],
                "name": mask_name(w["name"] or ""),
                "rating": rating(w["rating_sum"], w["rating_count"]),
                "travel_minutes": None if w["travel_minutes"] is None
                else round(w["travel_minutes"], 1),
                "state": w["state"],
                **hired_phone(w, contact=contact, desk_phone=desk_phone),
            }
            for w in workers
        ],
    }


def offer(row: Record, job: Record, employer: Record,
          iso: Iso, rules: Rules | None = None, *, take_until: float | None = None
          ) -> dict[str, Any]:
    """OFFER. ``take_until``: an offer that ran out may still be taken until then (a slot is
    free now; ``core.eligibility.late_take_until``), else the field is null."""
    summary = job_summary(job, iso, distance_km=row["distance_km"],
                          travel_minutes=row["travel_minutes"], employer=employer)
    if rules is not None:
        summary |= trip(row["distance_km"], row["travel_minutes"], rules)
    return {
        "id": row["id"],
        "job_id": row["job_id"],
        "state": row["state"],
        "created_at": iso(row["created_at"]),
        "expires_at": iso(row["expires_at"]),
        "take_until": None if take_until is None else iso(take_until),
        "job": summary,
    }


def assignment(row: Record, job: Record, employer: Record,
               iso: Iso, *, qr: str, qr_svg: str, code: str,
               absent_after: float) -> dict[str, Any]:
    """ASSIGNMENT, for the worker: the employer's contact is theirs to see now (SPEC 9).

    ``absent_after``: from then on, work not yet begun may be called absent by either side
    (the employer marks a no-show; the worker reports that nobody came to give the work).
    """
    return {
        "id": row["id"],
        "job_id": row["job_id"],
        "state": row["state"],
        "wage": money(row["wage_fen"], row["wage_unit"]),
        "start_at": iso(row["start_at"]),
        "end_at": iso(row["end_at"]),
        "job": job_summary(job, iso, travel_minutes=row["travel_minutes"], employer=employer),
        "employer": {
            "id": employer["id"],
            "name": employer["name"],
            "org_name": employer["org_name"],
            "phone": employer["phone"],
        },
        "qr": qr,
        "qr_svg": qr_svg,
        # The QR's six digits, for an employer without a working camera (SPEC 11.2).
        "code": code,
        "absent_after": iso(absent_after),
    }
