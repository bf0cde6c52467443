"""A manager's change to a market's rules from the console, checked before it is stored.

``config/markets/<id>.toml`` gives each rule's default; a change stored in the ledger wins
over it until changed again. Only the rules a manager runs the day with are editable here;
the objective's weights and the grace periods stay in the config file.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from gigmarket.core.errors import ValidationError
from gigmarket.core.market import Rules


@dataclass(frozen=True, slots=True)
class Limit:
    low: float
    high: float
    integer: bool = False
    #: ``None`` switches the limit off (a reach given only in km, or only in minutes).
    nullable: bool = False


#: Editable rules and their sane ranges (a 0.1 s round would thrash the solver; a 0 s offer
#: could never be answered).
EDITABLE: Mapping[str, Limit] = {
    "batch_interval_s": Limit(0.5, 60),
    "offer_timeout_s": Limit(10, 600),
    "max_travel_minutes": Limit(1, 180, nullable=True),
    "max_distance_km": Limit(0.5, 100, nullable=True),
    "min_hourly_wage_fen": Limit(100, 100_000, integer=True),
    "min_daily_wage_fen": Limit(800, 1_000_000, integer=True),
    "claim_after_s": Limit(0, 86_400),
    "late_take_s": Limit(0, 3_600),
}


def editable(rules: Rules) -> dict[str, Any]:
    """The editable rules' values."""
    return {name: getattr(rules, name) for name in EDITABLE}


def parse_change(body: object, current: Mapping[str, Any]) -> dict[str, Any]:
    """The rules named in ``body`` (a JSON object), checked; ``current`` is what they are
    now, so a change that leaves no reach at all is refused with the field that removed it."""
    if not isinstance(body, dict):
        raise ValidationError("the body must be a JSON object", code="bad_body")
    if not body:
        raise ValidationError("name at least one rule to change", code="required",
                              field="rules")
    out: dict[str, Any] = {}
    for name, value in body.items():
        limit = EDITABLE.get(str(name))
        if limit is None:
            raise ValidationError(f"{name!r} is not a rule that can be changed here",
                                  code="unknown_field", field=str(name))
        out[name] = _value(value, name, limit)
    after = {**current, **out}
    if after["max_travel_minutes"] is None and after["max_distance_km"] is None:
        blame = "max_travel_minutes" if "max_travel_minutes" in out else "max_distance_km"
        raise ValidationError("a market needs a reach: minutes of travel, kilometres or both",
                              code="no_reach", field=blame)
    if after["min_daily_wage_fen"] < after["min_hourly_wage_fen"]:
        blame = "min_daily_wage_fen" if "min_daily_wage_fen" in out else "min_hourly_wage_fen"
        raise ValidationError("the daily floor cannot be below the hourly floor",
                              code="out_of_range", field=blame)
    return out


def _value(value: object, name: str, limit: Limit) -> int | float | None:
    if value is None:
        if limit.nullable:
            return None
        raise ValidationError(f"{name} is required", code="required", field=name)
    if isinstance(value, bool) or not isinstance(value, int | float) or (
            isinstance(value, float) and not math.isfinite(value)):
        raise ValidationError(f"{name} must be a number", code="bad_type", field=name)
    if limit.integer and value != int(value):
        raise ValidationError(f"{name} must be a whole number", code="bad_type", field=name)
    if not limit.low <= value <= limit.high:
        raise ValidationError(f"{name} must be from {limit.low:g} to {limit.high:g}",
                              code="out_of_range", field=name)
    return int(value) if limit.integer else float(value)


def apply(rules: Rules, overrides: Mapping[str, Any]) -> Rules:
    """``rules`` (the config's) with the stored overrides; unknown names are skipped, so a
    rule retired from this editor leaves its old override harmless."""
    return replace(rules, **{k: v for k, v in overrides.items() if k in EDITABLE})
